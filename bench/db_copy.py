"""Copying a site database (`warehouse db copy`): rows per second, against the baselines.

``python -m bench.db_copy [--db postgresql://...] [--movements 100000] [--repeats 3]``
books ``--movements`` receipts and picks (and a task log of one event per ten
movements) into an SQLite site, then times, median of ``--repeats``:

- `copy_site` SQLite -> SQLite, against SQLite's own online backup API
  (``sqlite3.Connection.backup``: a page copy, the fastest way to copy a file, which
  neither verifies nor can change the backend);
- with ``--db``: `copy_site` SQLite -> PostgreSQL (a fresh scratch schema each time)
  and back, against the way docs/operations.md gave before the copy existed —
  replaying the movements through the `Ledger` operations (2,000 to a transaction,
  as they were booked) into a new PostgreSQL ledger.

Wall time (PostgreSQL works in another process) and this process's CPU time (what a
loaded machine does not inflate); prints JSON with the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from fleet.manager.model import Stop, TaskKind, TaskSpec
from fleet.manager.site import copy_site
from fleet.manager.store import SqlTaskStore
from fleet.manager.tasks import TaskBook
from wms.inventory_types import LocationKind, MovementKind
from wms.ledger import Ledger, LocationRecord, ManualClock, SkuRecord
from wms.ledger.demo import DEMO_END
from wms.ledger.storage import scratch_schemas

SKUS = [SkuRecord(f"SKU-{i:04d}", f"item {i}", "general", 1.0 + i % 7) for i in range(200)]
LOCATIONS = [LocationRecord(f"R{i:03d}", LocationKind.RESERVE) for i in range(100)]


def build_site(url: str, movements: int) -> int:
    """Alternate receipts of 10 and picks of 3 across the SKUs and locations; returns the
    number of rows in the site."""
    with Ledger.open(url, ManualClock(DEMO_END)) as ledger:
        ledger.add_skus(SKUS)
        ledger.add_locations(LOCATIONS)
        booked = 0
        while booked < movements:
            with ledger.transaction():
                for k in range(booked, min(booked + 2000, movements), 2):
                    sku, where = SKUS[k % len(SKUS)].sku, LOCATIONS[k % len(LOCATIONS)].location_id
                    ledger.receive(sku, where, 10, ref=f"po-{k}")
                    if k + 1 < movements:
                        ledger.pick(sku, where, 3, ref=f"order-{k}")
            booked = min(booked + 2000, movements)
    store, book = SqlTaskStore(url), TaskBook()
    store.append(
        [
            book.submit(TaskSpec(f"t{i}", TaskKind.MOVE, (Stop((5, 6)),)), float(i))
            for i in range(movements // 10)
        ]
    )
    store.close()
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return sum(conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables)


def replay(source: str, target: str) -> int:
    """The baseline: the source's movements booked again through the ledger's operations,
    2,000 to a transaction (as they were booked; one transaction for all is slower on
    PostgreSQL, and more so with every booking: each booking updates its cell's
    ``stock`` and ``lot_stock`` rows, the versions an open transaction wrote cannot be
    pruned, and every lookup of the cell walks them; `bench.ledger_history`)."""
    with Ledger.open(source, must_exist=True) as src, Ledger.open(target) as dst:
        dst.add_skus(SKUS)
        dst.add_locations(LOCATIONS)
        history = list(src.movements())
        for start in range(0, len(history), 2000):
            with dst.transaction():
                for m in history[start : start + 2000]:
                    if m.kind is MovementKind.RECEIPT:
                        dst.receive(m.sku, m.to_location, m.qty, ref=m.ref)
                    else:
                        dst.pick(m.sku, m.from_location, m.qty, ref=m.ref)
        return len(history)


def timed(runs: int, once: Callable[[int], object]) -> tuple[float, float]:
    """Median wall time and median CPU time of this process of ``once(k)``, k < runs.

    The CPU time is what a busy machine does not inflate (a niced run waits for a core);
    it leaves out the PostgreSQL server's own work, which the wall time includes."""
    walls, cpus = [], []
    for k in range(runs):
        start, cpu = time.perf_counter(), time.process_time()
        once(k)
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def backup(source: Path, target: Path) -> None:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="a postgresql:// URL (scratch schemas are made in it)")
    parser.add_argument("--movements", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--no-replay",
        dest="replay",
        action="store_false",
        help="skip the replay baseline (hours at 100,000 movements on PostgreSQL)",
    )
    args = parser.parse_args()
    out: dict[str, object] = {"movements": args.movements, "repeats": args.repeats}
    with tempfile.TemporaryDirectory(prefix="dbcopy-") as tmp:
        folder = Path(tmp)
        src = folder / "site.db"
        rows = build_site(f"sqlite:///{src}", args.movements)
        out["rows"] = rows

        def rate(measured: tuple[float, float]) -> dict[str, float]:
            wall, cpu = measured
            return {
                "seconds": round(wall, 3),
                "rows_per_s": round(rows / wall),
                "cpu_seconds": round(cpu, 3),
                "rows_per_cpu_s": round(rows / max(cpu, 1e-9)),
            }

        ours = timed(args.repeats, lambda k: copy_site(src, folder / f"copy{k}.db"))
        page = timed(args.repeats, lambda k: backup(src, folder / f"backup{k}.db"))
        out["sqlite_to_sqlite"] = rate(ours)
        out["sqlite_backup_api"] = rate(page)
        out["ratio_copy_over_backup_api"] = round(ours[0] / page[0], 2)
        if args.db:
            with scratch_schemas(args.db) as make:
                targets = [make(f"copy{k}") for k in range(args.repeats)]
                ours_pg = timed(args.repeats, lambda k: copy_site(src, targets[k]))
                back = timed(args.repeats, lambda k: copy_site(targets[0], folder / f"b{k}.db"))
                out["sqlite_to_postgresql"] = rate(ours_pg)
                out["postgresql_to_sqlite"] = rate(back)
                if args.replay:
                    replayed = make("replay")
                    by_replay = timed(1, lambda _: replay(f"sqlite:///{src}", replayed))
                    out["replay_into_postgresql_baseline"] = {
                        **rate(by_replay),
                        "movements_per_s": round(args.movements / by_replay[0]),
                        "runs": 1,
                    }
                    out["ratio_replay_over_copy"] = round(by_replay[0] / ours_pg[0], 2)
    out["load_average"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
