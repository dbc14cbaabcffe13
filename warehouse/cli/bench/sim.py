"""``warehouse bench sim``: simulated seconds per wall second of the whole system in lockstep.

The demo's day (WMS plan, fleet manager, simulated controllers over real ZeroMQ,
one barrier per tick) for ``--seconds`` of simulated time with ``--robots``
robots; ``speedup`` = simulated seconds / wall seconds, at ``--tick-s`` per tick.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from warehouse.cli.common import add_json, emit, float_in, int_in, seed_int
from warehouse.config import REPO_ROOT, load_config
from warehouse.day import DaySettings, run_day


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("sim", help="lockstep simulation speed: sim s per wall s")
    parser.add_argument(
        "--config",
        metavar="F",
        default=str(REPO_ROOT / "configs" / "retail.toml"),
        help="TOML config (default: configs/retail.toml, room for 200 robots)",
    )
    parser.add_argument("--robots", type=int_in(1, 10_000), default=200)
    parser.add_argument("--orders", type=int_in(1, 1_000_000), default=3000)
    parser.add_argument("--seconds", type=float_in(1, 1e6), default=300.0, help="simulated s")
    parser.add_argument("--tick-s", type=float_in(0.05, 60), default=1.0)
    parser.add_argument("--seed", type=seed_int, default=0)
    add_json(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    settings = DaySettings(
        amrs=args.robots,
        orders=args.orders,
        seed=args.seed,
        max_sim_s=args.seconds,
        tick_s=args.tick_s,
    )
    day = run_day(config, settings)
    record = day.record
    result = {
        "floor": config.floor.name,
        "robots": args.robots,
        "tick_s": args.tick_s,
        "sim_s": record.sim_s,
        "wall_s": round(record.wall_s, 2),
        "speedup": round(record.sim_s / record.wall_s, 2) if record.wall_s else None,
        "safety_violations": record.safety_violations,
        "orders_completed": sum(1 for o in record.orders if o.completed_s is not None),
        "cores": os.cpu_count(),
    }
    emit(
        result,
        args.json,
        lambda r: (
            f"{r['robots']} robots on {r['floor']}: {r['sim_s']:.0f} simulated s in "
            f"{r['wall_s']} s wall = {r['speedup']}x real time at {r['tick_s']} s per tick; "
            f"{r['safety_violations']} safety violations"
        ),
    )
    return 0
