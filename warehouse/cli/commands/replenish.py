"""``warehouse replenish``: top up forward faces for a released wave's demand."""

from __future__ import annotations

import argparse
from typing import Any

from warehouse.cli.common import add_json, emit
from warehouse.cli.ledger_db import add_db, open_cli_ledger
from warehouse.config import load_config
from wms.ledger.errors import UnknownSku
from wms.replenishment import on_wave_released, read_demand_csv


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "replenish",
        help="plan (and put in transit) forward-face top-ups for a wave's demand",
    )
    add_db(parser, "[wms.replenishment] alpha, service_z, lead_time_days, history_days")
    parser.add_argument(
        "--demand", metavar="CSV", help="the wave's demand: sku,qty (default: none)"
    )
    parser.add_argument("--dry-run", action="store_true", help="plan only, write nothing")
    add_json(parser)
    parser.set_defaults(handler=run_replenish)


def run_replenish(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    params = config.wms.replenishment
    demand = read_demand_csv(args.demand) if args.demand else {}
    with open_cli_ledger(args.db, args.config) as ledger:
        try:
            plan = on_wave_released(ledger, demand, params, dispatch=not args.dry_run)
        except UnknownSku as error:  # only the demand file names SKUs: point at it
            raise UnknownSku(f"{args.demand}: {error.source}", error.problem) from None
        result = plan.to_dict() | {
            "db": ledger.url.text,
            "dispatched": not args.dry_run,
            "balance": ledger.balance_check().to_dict(),
        }
    emit(result, args.json, describe)
    return 0


def describe(result: dict[str, Any]) -> str:
    verb = "in transit" if result["dispatched"] else "planned"
    lines = [f"{len(result['tasks'])} replenishment task(s) {verb}"]
    for t in result["tasks"]:
        lines.append(f"  {t['sku']:<12} {t['qty']:>5}  {t['from']} -> {t['to']}   {t['reason']}")
    for sku, qty in result["shortfalls"].items():
        lines.append(f"  shortfall: {sku} needs {qty} more than reserve holds")
    if result["unslotted"]:
        lines.append("  no forward face: " + ", ".join(result["unslotted"]))
    lines.append("balance check: " + ("balanced" if result["balance"]["ok"] else "NOT BALANCED"))
    return "\n".join(lines)
