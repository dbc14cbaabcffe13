"""``warehouse bench ledger``: the ledger's two design choices against naive baselines.

1. Grouping operations in one transaction (`Ledger.transaction`, used for a
   returns file or a wave's top-ups) against one commit per operation, on a
   WAL file database.
2. Availability read from the ``stock`` table (a cache of the movements,
   proven by ``balance_check``) against deriving it by summing the
   movements on every check, as a pure event log without the cache would.

Both run on SQLite files (WAL) by default; ``--db postgresql://...`` runs the
same measurements on that PostgreSQL database too (each fresh ledger in its own
scratch schema, dropped afterwards), so the two backends are timed in one run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tqdm import tqdm

from warehouse.cli.common import add_json, emit, int_in
from wms.errors import InputError
from wms.inventory_types import LocationKind
from wms.ledger import Ledger, LocationRecord, SkuRecord, parse_url
from wms.ledger.storage import scratch_schemas

ON_HAND = "('receipt','pick','move','adjust','return-in','dispatch','arrive','regrade')"
NAIVE_AVAILABLE = f"""
SELECT COALESCE(SUM(
    CASE WHEN kind IN {ON_HAND} AND to_location = ?
              AND COALESCE(to_condition, condition) = 'NEW' THEN qty ELSE 0 END
  - CASE WHEN kind IN {ON_HAND} AND from_location = ? AND condition = 'NEW'
         THEN qty ELSE 0 END
  - CASE WHEN kind = 'reserve' AND from_location = ? AND condition = 'NEW'
         THEN qty ELSE 0 END
  + CASE WHEN (kind = 'release' OR (kind = 'pick' AND reservation_id IS NOT NULL))
              AND from_location = ? AND condition = 'NEW' THEN qty ELSE 0 END
), 0)
FROM movements WHERE sku = ?
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "ledger", help="ledger: batched vs per-operation commits; stock cache vs summing movements"
    )
    parser.add_argument(
        "--ops", type=int_in(1, 1_000_000), default=2000, help="operations per timing"
    )
    parser.add_argument(
        "--history", type=int_in(1, 10_000_000), default=50_000, help="movements of history"
    )
    parser.add_argument("--skus", type=int_in(1, 100_000), default=200)
    parser.add_argument("--repeats", type=int_in(1, 100), default=3)
    parser.add_argument(
        "--db",
        metavar="URL",
        help="also run on this PostgreSQL database (postgresql://...; scratch schemas in it "
        "are created and dropped, nothing else is touched)",
    )
    add_json(parser)
    parser.set_defaults(handler=run)


Fresh = Callable[[str], str]
"""Gives the URL of a new, empty ledger database for a name."""


def fresh(new_url: Fresh, name: str, skus: int) -> Ledger:
    ledger = Ledger.open(new_url(name))
    ledger.add_skus(SkuRecord(f"S{i:05d}", unit_price=1.0) for i in range(skus))
    ledger.add_locations(
        [LocationRecord("R1", LocationKind.RESERVE), LocationRecord("F1", LocationKind.FORWARD)]
    )
    return ledger


def per_op_vs_batched(new_url: Fresh, ops: int, skus: int, repeats: int) -> dict[str, float]:
    per_op, batched = [], []
    for repeat in range(repeats):
        with fresh(new_url, f"per-op-{repeat}", skus) as ledger:
            start = time.perf_counter()
            for i in range(ops):
                ledger.receive(f"S{i % skus:05d}", "R1", 1)
            per_op.append(ops / (time.perf_counter() - start))
        with fresh(new_url, f"batched-{repeat}", skus) as ledger:
            start = time.perf_counter()
            with ledger.transaction():
                for i in range(ops):
                    ledger.receive(f"S{i % skus:05d}", "R1", 1)
            batched.append(ops / (time.perf_counter() - start))
    return {
        "per_op_commit_ops_per_s": round(statistics.median(per_op)),
        "batched_ops_per_s": round(statistics.median(batched)),
        "ratio": round(statistics.median(batched) / statistics.median(per_op), 1),
    }


def cache_vs_sum(
    new_url: Fresh, ops: int, history: int, skus: int, repeats: int, progress: bool
) -> dict[str, float]:
    with fresh(new_url, "history", skus) as ledger:
        bar = tqdm(total=history, desc="history", disable=not progress, file=sys.stderr)
        with ledger.transaction():
            written = 0
            while written < history:
                sku = f"S{written % skus:05d}"
                ledger.receive(sku, "R1", 3)
                ledger.move(sku, "R1", "F1", 2)
                ledger.pick(sku, "F1", 1)
                written += 3
                bar.update(3)
        bar.close()
        db = ledger._db
        cached, summed = [], []
        probes = [f"S{i % skus:05d}" for i in range(ops)]
        for _ in range(repeats):
            start = time.perf_counter()
            a = [ledger.available(sku, "F1") for sku in probes]
            cached.append((time.perf_counter() - start) / ops * 1e6)
            start = time.perf_counter()
            b = [int(db.scalar(NAIVE_AVAILABLE, ("F1", "F1", "F1", "F1", s))) for s in probes]
            summed.append((time.perf_counter() - start) / ops * 1e6)
            if a != b:
                raise AssertionError("baseline disagrees with the ledger")
        start = time.perf_counter()
        report = ledger.balance_check()
        balance_ms = (time.perf_counter() - start) * 1000
        if not report.ok:
            raise AssertionError("benchmark ledger does not balance")
    return {
        "movements": report.movements,
        "stock_cache_us_per_check": round(statistics.median(cached), 2),
        "sum_of_movements_us_per_check": round(statistics.median(summed), 2),
        "ratio": round(statistics.median(summed) / statistics.median(cached), 1),
        "balance_check_ms": round(balance_ms, 1),
    }


@contextmanager
def sqlite_files() -> Iterator[Fresh]:
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as tmp:
        yield lambda name: f"sqlite:///{Path(tmp) / name}.db"


def measure(new_url: Fresh, args: argparse.Namespace, progress: bool) -> dict[str, Any]:
    return {
        "commits": per_op_vs_batched(new_url, args.ops, args.skus, args.repeats),
        "availability": cache_vs_sum(
            new_url, args.ops, args.history, args.skus, args.repeats, progress
        ),
    }


def run(args: argparse.Namespace) -> int:
    progress = not args.json and sys.stderr.isatty()
    if args.db is not None and parse_url(args.db).backend != "postgresql":
        raise InputError("--db", "takes a postgresql:// URL (the SQLite figures always run)")
    # SQLite's figures at the top level (as before --db existed), PostgreSQL's beside them.
    result: dict[str, Any] = {"ops": args.ops, "skus": args.skus}
    with sqlite_files() as new_url:
        result |= measure(new_url, args, progress)
    if args.db is not None:
        with scratch_schemas(args.db) as new_url:
            result["postgresql"] = measure(new_url, args, progress)
    emit(result, args.json, describe)
    return 0


def describe(r: dict[str, Any]) -> str:
    lines = ["sqlite (WAL file):", *("  " + line for line in describe_backend(r, r))]
    if "postgresql" in r:
        lines += ["postgresql:", *("  " + line for line in describe_backend(r, r["postgresql"]))]
    return "\n".join(lines)


def describe_backend(r: dict[str, Any], b: dict[str, Any]) -> list[str]:
    c, a = b["commits"], b["availability"]
    return [
        f"receipts: one commit each {c['per_op_commit_ops_per_s']}/s, "
        f"one transaction {c['batched_ops_per_s']}/s ({c['ratio']}x)",
        f"availability with {a['movements']} movements over {r['skus']} SKUs: stock cache "
        f"{a['stock_cache_us_per_check']} us, summing movements "
        f"{a['sum_of_movements_us_per_check']} us ({a['ratio']}x)",
        f"balance check of {a['movements']} movements: {a['balance_check_ms']} ms",
    ]
