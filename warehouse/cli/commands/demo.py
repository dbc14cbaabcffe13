"""``warehouse demo``: the main job on the embedded default config."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from warehouse.cli.commands.floor import describe
from warehouse.cli.common import add_json, emit, int_in, seed_int
from warehouse.config import load_config
from warehouse.demo import DemoSettings, run_demo


def register(subparsers: Any) -> None:
    demo = subparsers.add_parser("demo", help="run every built stage on the default floor")
    demo.add_argument("--config", metavar="F", help="TOML config (default: configs/default.toml)")
    demo.add_argument("--out", default="runs/demo", metavar="DIR", help="where files are written")
    demo.add_argument("--seed", type=seed_int, default=0)
    demo.add_argument("--robots", type=int_in(1, 10_000), default=12)
    demo.add_argument(
        "--orders", type=int_in(1, 1_000_000), help="synthetic orders (default: config)"
    )
    demo.add_argument("--planner", default="guided", help="traffic planner (guided, pibt)")
    add_json(demo)
    demo.set_defaults(handler=run)


def describe_demo(r: dict[str, Any]) -> str:
    w, led, f = r["wms"], r["ledger"], r["fleet"]
    lines = [
        describe(r["floor"]),
        f"floor picture: {r['floor_png']}",
        "",
        f"WMS: {w['orders']} orders, {w['lines']} lines, {w['skus']} SKUs",
        f"  slotting: {w['expected_travel_per_line']} cells/line expected "
        f"(random slotting {w['baseline_random_travel_per_line']})",
        f"  {w['waves']} waves, {w['batches']} batches; travel {w['travel']} cells vs "
        f"{w['baseline_single_order_sshape_travel']} single-order S-shape, "
        f"{w['baseline_batched_sshape_travel']} batched S-shape, lower bound {w['lower_bound']}",
        f"ledger: {led['lines_picked']} lines picked, {led['lines_short']} short, "
        f"{led['topups']} replenishment top-ups ({led['topup_units']} units), "
        f"balanced: {led['balanced']}",
        f"robots: {f['robots']} ({f['planner']} planner) drove {f['trips']} trips, "
        f"{f['stops_completed']}/{f['stops']} stops in {f['makespan_ticks']} ticks; "
        f"{f['lines_per_hour']} lines/hour (1 tick = 1 s, no pick dwell), "
        f"moving {f['moving_share']:.0%}, conflicts {f['conflicts']}",
        f"report: {r['report_json']}",
        "not built yet:",
        *(f"  - {part}" for part in r["not_built_yet"]),
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    settings = DemoSettings(
        out_dir=Path(args.out),
        robots=args.robots,
        seed=args.seed,
        planner=args.planner,
        orders=args.orders,
    )

    def progress(label: str, total: int) -> Callable[[int], None] | None:
        if args.json or not sys.stderr.isatty():
            return None
        from tqdm import tqdm

        bar = tqdm(desc=label, file=sys.stderr, leave=False, unit="tick")
        return lambda done: bar.update(done - bar.n)

    report = run_demo(config, settings, progress)
    emit(report, args.json, describe_demo)
    return 0 if report["fleet"]["conflicts"] == 0 and report["ledger"]["balanced"] else 1
