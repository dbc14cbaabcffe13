"""``warehouse stock``: what the ledger holds, and whether it balances."""

from __future__ import annotations

import argparse
from typing import Any

from warehouse.cli.common import add_json, emit, seed_int
from warehouse.cli.ledger_db import add_db, cli_ledger_url, open_cli_ledger, seeded_demo
from wms.ledger.report import describe_stock, stock_report


def register(subparsers: Any) -> None:
    stock = subparsers.add_parser(
        "stock", help="stock by SKU, location and condition, and the ledger's balance check"
    )
    add_db(stock)
    stock.add_argument("--sku", help="only this SKU")
    stock.add_argument(
        "--seed-demo",
        action="store_true",
        help="create the ledger (--db, else the default) and fill it with the seeded demo "
        "history first: seven months of receipts, picks, replenishment and returns",
    )
    stock.add_argument("--seed", type=seed_int, default=0, help="seed for --seed-demo")
    add_json(stock)
    stock.set_defaults(handler=run_stock)


def run_stock(args: argparse.Namespace) -> int:
    """Exit 0 when the ledger balances, 1 when the balance check finds a difference."""
    if args.seed_demo:
        ledger = seeded_demo(cli_ledger_url(args.db, args.config), args.config, args.seed)
    else:
        ledger = open_cli_ledger(args.db, args.config)
    with ledger:
        report = stock_report(ledger, args.sku)
    emit(report, args.json, describe_stock)
    return 0 if report["balance"]["ok"] else 1
