"""``warehouse db``: administration of the site database (ledger, task log, robot state)."""

from __future__ import annotations

import argparse
from typing import Any

from fleet.manager.site import check_site, copy_site
from warehouse.cli.common import add_json, emit
from wms.ledger.site_check import DEFAULT_OLDER_THAN_S


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "db",
        help="site database administration: copy a site to a new database, check its health",
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
    check = actions.add_parser(
        "check",
        help="read-only health check of a site database: schema, row counts, balance and, "
        "on PostgreSQL, sessions holding a transaction (a snapshot) open",
    )
    check.add_argument(
        "--db",
        required=True,
        metavar="URL",
        help="the site database to check (only read): sqlite:///path.db, a path or "
        "postgresql://host/dbname",
    )
    check.add_argument(
        "--older-than",
        type=_seconds,
        default=DEFAULT_OLDER_THAN_S,
        metavar="S",
        help="report transactions open at least S seconds (PostgreSQL; default "
        f"{DEFAULT_OLDER_THAN_S:g})",
    )
    add_json(check)
    check.set_defaults(handler=run_check)


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


def run_check(args: argparse.Namespace) -> int:
    """Exit 0 when healthy, 1 when there are warnings (a held transaction, no balance)."""
    health = check_site(args.db, args.older_than)
    emit(health.to_dict(), args.json, _describe_check)
    return 0 if health.healthy else 1


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{value} must be 0 or more seconds")
    return value


def _describe_check(result: dict[str, Any]) -> str:
    balance = result["balance"]
    state = (
        "balances" if balance["ok"] else f"does NOT balance ({len(balance['problems'])} problems)"
    )
    counted = ", ".join(f"{name} {n:,}" for name, n in result["rows"].items() if n)
    lines = [
        f"{result['database']} ({result['backend']}): a site database of schema version "
        f"{result['schema_version']}, {result['tables']} tables, "
        f"{sum(result['rows'].values()):,} rows; the ledger {state} "
        f"({balance['movements']:,} movements, {balance['on_hand']:,} units on hand)",
        f"  rows: {counted or 'none'}",
    ]
    if result["missing"]:
        lines.append(f"  not created yet: {', '.join(result['missing'])}")
    timeout = result["idle_in_transaction_session_timeout"]
    if timeout is not None:
        held = len(result["open_transactions"])
        lines.append(
            f"  transactions open >= {result['older_than_s']:g} s in other sessions: {held}; "
            f"idle_in_transaction_session_timeout = {timeout}"
            + (" (off: a forgotten client can hold a snapshot for hours)" if timeout == "0" else "")
        )
        for t in result["open_transactions"]:
            lines.append(
                f"    pid {t['pid']} {t['state']} {t['xact_age_s']:.1f} s "
                f"app={t['application_name'] or '-'} query={t['query']!r}"
            )
        if result["hidden_sessions"]:
            lines.append(
                f"  {result['hidden_sessions']} session(s) of other roles are hidden from this "
                "role: check as a superuser or GRANT pg_read_all_stats to see their transactions"
            )
    lines += [f"WARNING: {warning}" for warning in result["warnings"]]
    lines.append("healthy" if result["healthy"] else f"{len(result['warnings'])} warning(s)")
    return "\n".join(lines)
