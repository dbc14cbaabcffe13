"""``warehouse bench faults``: lockstep days with server kills, breakdowns, comm-loss
bursts and blocked aisles; orders and units lost, safety violations, recovery time."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tqdm import tqdm

from warehouse.cli.common import add_json, emit, int_in, seed_int
from warehouse.config import load_config
from warehouse.fault_campaign import CampaignSettings, backend_of, run_faults, totals
from wms.errors import InputError
from wms.ledger.storage import POSTGRESQL


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "faults",
        help="fault campaign: SIGKILLed server, breakdowns, comm loss, blocked aisles",
        description="Each run is a lockstep day whose server (bus + fleet manager) runs in its "
        "own process and is SIGKILLed and restarted from its database at random ticks, while "
        "10%% of the robots break down, communication drops in bursts and aisle segments are "
        "blocked. Reports orders completed and lost, ledger units lost or duplicated, safety "
        "violations and the longest recovery (wall s from kill to every robot driving again).",
    )
    parser.add_argument("--config", metavar="F", help="TOML config (default: the demo floor)")
    parser.add_argument("--runs", type=int_in(1, 1000), default=20)
    parser.add_argument("--robots", type=int_in(2, 500), default=20)
    parser.add_argument("--orders", type=int_in(1, 100_000), default=60)
    parser.add_argument("--seed", type=seed_int, default=0, help="first run's seed (then +1)")
    parser.add_argument(
        "--db-url",
        metavar="URL",
        help="a postgresql:// database: each run gets its own scratch schema there, dropped "
        "afterwards (default: a fresh SQLite file per run)",
    )
    add_json(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.db_url is not None and backend_of(args.db_url) != POSTGRESQL:
        raise InputError(
            "--db-url", "takes a postgresql:// URL (SQLite runs get a fresh file each by default)"
        )
    config = load_config(args.config)
    settings = CampaignSettings(robots=args.robots, orders=args.orders)
    progress = not args.json and sys.stderr.isatty()
    runs = []
    for k in tqdm(range(args.runs), desc="fault runs", disable=not progress, file=sys.stderr):
        runs.append(run_faults(config, args.seed + k, settings, args.db_url))
    result = {"backend": backend_of(args.db_url), "runs": runs, "total": totals(runs)}
    emit(
        result,
        args.json,
        lambda r: (
            f"{r['backend']}: {r['total']['runs_completed']}/{r['total']['runs']} runs completed: "
            f"{r['total']['orders_completed']} orders completed, {r['total']['orders_lost']} lost; "
            f"units lost {r['total']['units_lost']}, duplicated {r['total']['units_duplicated']}; "
            f"{r['total']['safety_violations']} safety violations; {r['total']['server_kills']} "
            f"server kills, longest recovery {r['total']['max_recovery_s']} s"
        ),
    )
    return 0
