"""``warehouse returns``: grade a CSV of inspected returns and book them into the ledger."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tqdm import tqdm

from warehouse.cli.common import add_json, emit
from warehouse.cli.ledger_db import add_db, open_cli_ledger
from wms.errors import InputError
from wms.returns import load_policy, process_returns, read_returns_csv, summarise_outcomes
from wms.returns.policy import DEFAULT_POLICY


def register(subparsers: Any) -> None:
    returns = subparsers.add_parser(
        "returns",
        help="grade returns (CSV) on the condition ladder, choose dispositions, book them",
        description="Columns: return_id, sku, reason, packaging, cosmetic, functional "
        "[, qty, missing_parts, category, new_price]; see docs/ledger.md.",
    )
    returns.add_argument("--input", required=True, metavar="CSV", help="inspected returns")
    returns.add_argument(
        "--policy", metavar="F", help=f"returns policy TOML (default: {DEFAULT_POLICY.name})"
    )
    add_db(returns)
    mode = returns.add_mutually_exclusive_group()
    mode.add_argument(
        "--dry-run", action="store_true", help="check against the ledger but book nothing"
    )
    mode.add_argument(
        "--no-ledger",
        action="store_true",
        help="grade only, without a ledger (category and new_price columns required)",
    )
    add_json(returns)
    returns.set_defaults(handler=run_returns)


def run_returns(args: argparse.Namespace) -> int:
    if args.no_ledger and args.db:
        raise InputError("--no-ledger", "cannot be combined with --db")
    policy = load_policy(args.policy)
    lines = read_returns_csv(args.input)
    result: dict[str, Any] = {"policy": policy.source, "input": args.input}
    if args.no_ledger:
        outcomes = process_returns(lines, policy)
        result |= {"db": None, "booked": False}
    else:
        with (
            open_cli_ledger(args.db, args.config) as ledger,
            tqdm(
                total=len(lines),
                desc="returns",
                file=sys.stderr,
                disable=args.json or not sys.stderr.isatty() or len(lines) < 500,
            ) as bar,
        ):
            outcomes = process_returns(
                lines, policy, ledger, book=not args.dry_run, progress=bar.update
            )
            result |= {
                "db": ledger.url.text,
                "booked": not args.dry_run,
                "balance": ledger.balance_check().to_dict(),
            }
    result["returns"] = [o.to_dict() for o in outcomes]
    result["summary"] = summarise_outcomes(outcomes)
    emit(result, args.json, describe)
    return 0


def describe(result: dict[str, Any]) -> str:
    lines = []
    for r in result["returns"]:
        lines.append(
            f"{r['return_id']:<10} {r['sku']:<12} x{r['qty']:<3} {r['grade']:<16}"
            f" {r['disposition']:<12} -> {r['destination']:<12} {r['recovered_value']:>9.2f}"
        )
        lines += [f"    - {reason}" for reason in r["reasons"]]
    s = result["summary"]
    where = "booked into " + result["db"] if result["booked"] else "not booked"
    lines.append(
        f"{s['returns']} returns, {s['units']} units, "
        f"recovered {s['recovered_value']:.2f} ({where})"
    )
    if "balance" in result:
        lines.append(
            "balance check: " + ("balanced" if result["balance"]["ok"] else "NOT BALANCED")
        )
    return "\n".join(lines)
