"""``warehouse demo``: the whole system for one day on the embedded default config."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sim.scenario import BoundScenario, Returns, bind, load_scenario
from warehouse.cli.common import add_json, emit, int_in, output_file, seed_int
from warehouse.config import REPO_ROOT, load_config
from warehouse.day import DaySettings, settings_from_scenario
from warehouse.demo import DemoSettings, run_demo
from wms.errors import InputError

DEFAULT_RETURNS = 10
"""Customer returns in the embedded default's day (the first at 0 s, one every 30 s)."""


def register(subparsers: Any) -> None:
    demo = subparsers.add_parser(
        "demo",
        help="one day of the whole system: WMS, fleet manager, simulated robots over ZeroMQ",
        description="Plans a day of orders, opens the ledger, and lets the fleet manager drive "
        "simulated robots over real ZeroMQ sockets in lockstep; picks are booked as robots "
        "finish them. Prints KPIs and writes report.json and charts into the run folder. "
        "Exits 1 when orders are left incomplete or a safety violation was seen.",
    )
    demo.add_argument("--config", metavar="F", help="TOML config (default: configs/default.toml)")
    demo.add_argument(
        "--out", metavar="DIR", help="run folder (default: runs/<timestamp> in the repository)"
    )
    demo.add_argument("--seed", type=seed_int, help="seed (default: the scenario's, or 0)")
    demo.add_argument(
        "--scenario", metavar="F", help="scenario file (docs/scenarios.md): fleet, orders, faults"
    )
    demo.add_argument("--robots", type=int_in(1, 10_000), default=20, help="AMRs")
    demo.add_argument("--agvs", type=int_in(0, 10_000), default=0, help="AGVs (pod lifters)")
    demo.add_argument(
        "--orders",
        default="200",
        metavar="N|CSV",
        help="synthetic order count, or an orders CSV file (default: 200)",
    )
    demo.add_argument(
        "--returns",
        type=int_in(0, 100_000),
        metavar="N",
        help="customer returns carried by robots dock → inspection → stock (default: the "
        f"scenario's, or {DEFAULT_RETURNS})",
    )
    demo.add_argument("--planner", default="guided", help="traffic planner (guided, pibt)")
    demo.add_argument(
        "--max-sim-s", type=int_in(1, 10_000_000), default=36_000, help="stop after this"
    )
    demo.add_argument("--view", action="store_true", help="watch it in the supervisor viewer")
    demo.add_argument(
        "--screenshot", metavar="F.png", help="save the viewer's last frame (headless)"
    )
    add_json(demo)
    demo.set_defaults(handler=run)


def _s(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds:.0f} s"


def describe_demo(r: dict[str, Any]) -> str:
    w, led, f = r["wms"], r["ledger"], r["fleet"]

    def pct(x: float | None) -> str:
        return "n/a" if x is None else f"{100 * x:.0f} %"

    plan = (
        f"WMS: {w['orders']} orders, {w['lines']} lines in {w['waves']} waves, "
        f"{w['batches']} pick routes; planned travel {w['travel']} cells vs "
        f"{w['baseline_single_order_sshape_travel']} single-order S-shape"
        if "waves" in w
        else f"WMS: {w['orders']} parcels to sort, {w['lines']} lines"
    )
    ret = r.get("returns") or {}
    returns = (
        [
            f"returns: {ret['booked']}/{ret['received']} carried dock → inspection → stock "
            f"by robots, dock to stock p50 {_s(ret['dock_to_stock_s_p50'])}"
        ]
        if ret.get("received")
        else []
    )
    return "\n".join(
        [
            plan,
            f"fleet: {f['robots']} robots over ZeroMQ ({f['planner']} traffic, {f['assigner']} "
            f"assignment): {f['tasks_done']}/{f['tasks']} routes done, "
            f"{f['orders_sent']} order updates sent",
            f"orders: {r['orders_completed']}/{r['orders_total']} completed, "
            f"{r['orders_per_hour']:.0f} orders/h, {r['lines_per_hour']:.0f} lines/h; cycle "
            f"time p50 {_s(r['cycle_time_s_p50'])}, p90 {_s(r['cycle_time_s_p90'])}; on time "
            f"{pct(r['on_time_share'])}",
            f"robots: utilisation {pct(r['utilisation'])}, waiting {pct(r['waiting_share'])}, "
            f"charging {pct(r['charging_share'])}, empty travel {pct(r['empty_travel_share'])}; "
            f"energy {r['energy_kwh']:.2f} kWh ({r['co2e_kg']:.2f} kg CO2e)",
            f"ledger: {led['lines_booked']} lines booked as robots finished them, "
            f"{led['lines_short']} short, balanced: {led['balanced']}",
            *returns,
            f"safety violations seen by the simulator: {r['safety_violations']}",
            f"simulated {r['sim_s']:.0f} s in {r['wall_s']:.1f} s wall ({r['speedup']}x real time)",
        ]
    )


def run(args: argparse.Namespace) -> int:
    if args.scenario:
        bound = _bind_scenario(args.scenario)
        config = load_config(bound.scenario.config)
        day = settings_from_scenario(bound)
        if args.seed is not None:
            day = replace(day, seed=args.seed)
    else:
        config = load_config(args.config)
        orders_csv = None
        orders: int | None = None
        if args.orders.isdigit():
            try:
                orders = int_in(1, 1_000_000)(args.orders)
            except argparse.ArgumentTypeError as error:  # checked here, not by argparse
                raise InputError("--orders", str(error)) from None
        else:
            orders_csv = Path(args.orders)
        day = DaySettings(
            amrs=args.robots,
            agvs=args.agvs,
            seed=args.seed or 0,
            orders=orders,
            orders_csv=orders_csv,
            max_sim_s=float(args.max_sim_s),
            returns=Returns(count=DEFAULT_RETURNS),
        )
    if args.returns is not None:
        day = replace(day, returns=replace(day.returns, count=args.returns))
    day = replace(day, planner=args.planner)
    out = (
        Path(args.out)
        if args.out
        else REPO_ROOT / "runs" / datetime.now().strftime("%Y%m%d-%H%M%S")
    )
    shot = output_file(args.screenshot, "--screenshot") if args.screenshot else None
    settings = DemoSettings(out_dir=out, day=day, view=args.view, screenshot=shot)
    report = run_demo(config, settings)
    emit(report, args.json, describe_demo)
    print(f"report: {out / 'report.json'}", file=sys.stderr)
    complete = report["orders_completed"] == report["orders_total"]
    return 0 if complete and report["safety_violations"] == 0 else 1


def _bind_scenario(path: str) -> BoundScenario:
    scenario = load_scenario(path)
    return bind(scenario, load_config(scenario.config).floor)
