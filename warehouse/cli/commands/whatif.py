"""``warehouse whatif``: the same day at several fleet sizes, and the cut-offs at risk."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from sim.scenario import bind, load_scenario
from warehouse.cli.common import add_json, emit, int_in, seed_int
from warehouse.config import DEFAULT_CONFIG, REPO_ROOT, load_config
from warehouse.day import DaySettings, settings_from_scenario
from warehouse.whatif import run_whatif, summarise, whatif_chart
from wms.errors import InputError


def _sizes(text: str) -> list[int]:
    try:
        sizes = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise InputError(
            "--robots", f"{text!r} is not a list of fleet sizes like 10,20,40"
        ) from None
    if not sizes or sizes[0] < 1 or sizes[-1] > 10_000:
        raise InputError("--robots", f"fleet sizes must be 1..10000, got {text!r}")
    return sizes


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "whatif",
        help="run the same day at several fleet sizes; the smallest fleet meeting every cut-off",
    )
    parser.add_argument("--robots", required=True, metavar="N,N,...", help="fleet sizes (AMRs)")
    parser.add_argument("--config", metavar="F", help="TOML config (default: configs/default.toml)")
    parser.add_argument(
        "--scenario", metavar="F", help="scenario file: its day and faults at every fleet size"
    )
    parser.add_argument("--orders", type=int_in(1, 1_000_000), default=200)
    parser.add_argument("--seed", type=seed_int, default=0)
    parser.add_argument("--seeds", type=int_in(1, 100), default=1, help="seeds per fleet size")
    parser.add_argument("--workers", type=int_in(1, 64), help="parallel processes (default: cores)")
    parser.add_argument("--max-sim-s", type=int_in(1, 10_000_000), default=36_000)
    parser.add_argument(
        "--out", metavar="DIR", help="where the chart goes (default: runs/whatif-*)"
    )
    add_json(parser)
    parser.set_defaults(handler=run)


def describe(result: dict[str, Any]) -> str:
    lines = ["robots  orders/h  cycle p90 s  on time  cut-offs at risk"]
    for r in result["runs"]:
        risk = ", ".join(r["cutoffs_at_risk"]) or "-"
        on_time = "n/a" if r["on_time_share"] is None else f"{100 * r['on_time_share']:.0f} %"
        lines.append(
            f"{r['robots']:>6}  {r['orders_per_hour']:>8.1f}  {r['cycle_time_s_p90'] or 0:>11.0f}"
            f"  {on_time:>7}  {risk}"
        )
    smallest = result["smallest_fleet_meeting_cutoffs"]
    lines.append(
        f"smallest fleet meeting every cut-off: {smallest}"
        if smallest is not None
        else "no fleet size tried meets every cut-off"
    )
    lines.append(f"chart: {result['chart']}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    sizes = _sizes(args.robots)
    if args.scenario:
        scenario = load_scenario(args.scenario)
        config_path = str(scenario.config)
        config = load_config(config_path)
        settings = settings_from_scenario(bind(scenario, config.floor))
        robot_faults = [a.robot for a in settings.faults if a.robot is not None]
        if robot_faults and max(robot_faults) >= sizes[0]:
            raise InputError(
                "--robots",
                f"{args.scenario}: a fault names robot {max(robot_faults)}, but the smallest "
                f"fleet tried has {sizes[0]}",
            )
    else:
        config_path = str(args.config or DEFAULT_CONFIG)
        config = load_config(config_path)  # a bad config fails here, before any process
        settings = DaySettings(orders=args.orders, seed=args.seed, max_sim_s=float(args.max_sim_s))
    free = int(config.floor.navigable.sum()) - len(config.floor.chargers)
    if sizes[-1] > free:
        raise InputError("--robots", f"{sizes[-1]} robots do not fit on {free} free cells")

    def progress(done: int, total: int) -> None:
        if not args.json:
            print(f"\r{done}/{total} runs", end="", file=sys.stderr, flush=True)

    results = run_whatif(config_path, sizes, settings, args.seeds, args.workers, progress)
    if not args.json:
        print(file=sys.stderr)
    summary = summarise(results)
    out = (
        Path(args.out)
        if args.out
        else REPO_ROOT / "runs" / datetime.now().strftime("whatif-%Y%m%d-%H%M%S")
    )
    summary["chart"] = str(whatif_chart(summary, out / "whatif.png"))
    summary["per_seed"] = results
    emit(summary, args.json, describe)
    return 0
