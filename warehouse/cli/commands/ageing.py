"""``warehouse ageing``: age buckets, slow movers and clearance candidates from the ledger."""

from __future__ import annotations

import argparse
from typing import Any

from warehouse.cli.common import add_json, emit, int_in
from warehouse.cli.ledger_db import add_db, open_cli_ledger
from wms.ageing import AgeingParams, ledger_ageing

DAYS = int_in(1, 36_500)
"""A day count: at most a century (larger ones overflow date arithmetic)."""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "ageing", help="inventory ageing: age buckets, slow movers, clearance candidates"
    )
    add_db(parser)
    defaults = AgeingParams()
    parser.add_argument(
        "--window-days", type=DAYS, default=defaults.window_days, help="sales window"
    )
    parser.add_argument(
        "--no-sale-days",
        type=DAYS,
        default=defaults.no_sale_days,
        help="no sale for this long makes a slow mover",
    )
    parser.add_argument(
        "--clearance-days",
        type=DAYS,
        default=defaults.clearance_age_days,
        help="a slow mover older than this is a clearance candidate",
    )
    add_json(parser)
    parser.set_defaults(handler=run_ageing)


def run_ageing(args: argparse.Namespace) -> int:
    params = AgeingParams(
        window_days=args.window_days,
        no_sale_days=args.no_sale_days,
        clearance_age_days=args.clearance_days,
    )
    with open_cli_ledger(args.db, args.config) as ledger:
        report = ledger_ageing(ledger, params).to_dict() | {"db": ledger.url.text}
    emit(report, args.json, describe)
    return 0


def describe(report: dict[str, Any]) -> str:
    lines = [f"ageing of {report['db']} as of {report['as_of']}", "  age (days)   units      value"]
    for label, bucket in report["buckets"].items():
        lines.append(f"  {label:<10} {bucket['units']:>7} {bucket['value']:>10.2f}")
    lines.append(f"slow movers ({len(report['slow_movers'])}): " + ", ".join(report["slow_movers"]))
    lines.append(f"clearance candidates ({len(report['clearance_candidates'])}):")
    for row in report["skus"]:
        if row["clearance"]:
            lines.append(
                f"  {row['sku']:<12} {row['units']:>5} units  " + "; ".join(row["reasons"])
            )
    expired = [lot for lot in report.get("lots", []) if lot["expired"]]
    lines.append(f"expired lots ({len(expired)}):")
    for lot in expired:
        lines.append(
            f"  {lot['sku']:<12} {lot['lot']:<16} {lot['units']:>5} units  "
            f"expired {lot['expires_on']} ({lot['condition']})"
        )
    return "\n".join(lines)
