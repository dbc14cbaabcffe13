"""``warehouse receive``: book a receipts CSV (optionally by lot and expiry) into the ledger."""

from __future__ import annotations

import argparse
from typing import Any

from warehouse.cli.common import add_json, emit
from warehouse.cli.ledger_db import add_db, open_cli_ledger
from wms.ledger.receipts import book_receipts, read_receipts_csv


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "receive",
        help="book goods received (CSV) into the ledger, by lot with receipt date and expiry",
        description="Columns: sku, location, qty [, lot, received_on, expires_on, condition, "
        "ref]; dates YYYY-MM-DD; see docs/ledger.md.",
    )
    parser.add_argument("--input", required=True, metavar="CSV", help="the receipts")
    add_db(parser)
    add_json(parser)
    parser.set_defaults(handler=run_receive)


def run_receive(args: argparse.Namespace) -> int:
    lines = read_receipts_csv(args.input)
    with open_cli_ledger(args.db, args.config) as ledger:
        movements = book_receipts(ledger, lines)
        skus = sorted({line.sku for line in lines})
        result = {
            "db": ledger.url.text,
            "input": args.input,
            "receipts": len(movements),
            "units": sum(line.qty for line in lines),
            "lots": [
                {
                    "sku": row.sku,
                    "location": row.location_id,
                    "lot": row.lot.lot,
                    "received_on": row.lot.received_on.isoformat(),
                    "expires_on": None
                    if row.lot.expires_on is None
                    else row.lot.expires_on.isoformat(),
                    "on_hand": row.on_hand,
                }
                for sku in skus
                for row in ledger.lot_stock(sku)
            ],
            "balance": ledger.balance_check().to_dict(),
        }
    emit(result, args.json, describe)
    return 0 if result["balance"]["ok"] else 1


def describe(result: dict[str, Any]) -> str:
    lines = [f"booked {result['receipts']} receipts ({result['units']} units) into {result['db']}"]
    for lot in result["lots"]:
        expiry = lot["expires_on"] or "no expiry"
        lines.append(
            f"  {lot['sku']:<12} {lot['location']:<10} {lot['lot']:<16} {lot['on_hand']:>6}"
            f"  received {lot['received_on']}, {expiry}"
        )
    lines.append("balance: " + ("ok" if result["balance"]["ok"] else "DIFFERS"))
    return "\n".join(lines)
