"""``warehouse db``: administration of the site database (ledger, task log, robot state)."""

from __future__ import annotations

import argparse
from typing import Any

from fleet.manager.site import copy_site
from warehouse.cli.common import add_json, emit


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "db", help="site database administration: copy a site to a new database"
    )
    actions = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    copy = actions.add_parser(
        "copy",
        help="copy a whole site database (ledger and fleet tables) into a new, empty one, "
        "e.g. from SQLite to PostgreSQL; verified before it commits",
    )
    copy.add_argument(
        "--from",
        dest="source",
        required=True,
        metavar="SRC",
        help="the site database to copy (only read): sqlite:///path.db, a path or "
        "postgresql://host/dbname",
    )
    copy.add_argument(
        "--to",
        dest="target",
        required=True,
        metavar="DST",
        help="a new, empty database: a file that does not exist yet or an empty "
        "PostgreSQL database",
    )
    add_json(copy)
    copy.set_defaults(handler=run_copy)


def run_copy(args: argparse.Namespace) -> int:
    """Exit 0 when the copied ledger balances, 1 when it (and so the source) does not."""
    report = copy_site(args.source, args.target)
    emit(report.to_dict(), args.json, _describe)
    return 0 if report.balance.ok else 1


def _describe(result: dict[str, Any]) -> str:
    balance = result["balance"]
    state = "balances" if balance["ok"] else f"does NOT balance ({balance['problems'][0]})"
    empty = result["missing_in_source"]
    created = f"; created empty: {', '.join(empty)}" if empty else ""
    return (
        f"copied {result['tables']} tables, {result['rows']:,} rows from {result['from']} "
        f"to {result['to']} in {result['seconds']:.1f} s; the ledger {state} "
        f"({balance['movements']:,} movements, {balance['on_hand']:,} units on hand){created}"
    )
