"""Does a booking get slower as the ledger's history grows? Time per 1,000 bookings at marks.

``python -m bench.ledger_history [--db postgresql://...] [--marks 1000,10000,50000]
[--repeats 3] [--held-snapshot] [--one-transaction]`` books receipts of 10 and picks
of 3 alternately across 200 SKUs and 100 locations (the pattern of `bench.db_copy`,
2,000 bookings to a transaction) into a fresh ledger, on SQLite (a temporary file)
and, with ``--db``, on PostgreSQL (a scratch schema in that database). When the
history reaches each mark it times ``--repeats`` windows of 1,000 bookings (one
transaction each) and reports the medians per 1,000 bookings of:

- wall seconds (what a loaded machine inflates: on PostgreSQL each statement is a
  round trip, and a busy machine delays both processes at each one);
- this process's CPU seconds;
- on PostgreSQL, the server backend's CPU seconds, read from ``/proc`` when the server
  runs on this machine (the server's own work per booking: the measure that shows
  whether a statement's cost grows with the history, free of the scheduler's noise).

``--held-snapshot`` adds a PostgreSQL run during which a second session holds one
``REPEATABLE READ`` snapshot open (an idle-in-transaction client, a long report, a copy
streaming the site): the case in which PostgreSQL must keep every version of the
``stock`` / ``lot_stock`` rows that bookings update, so each lookup of a cell walks
them all (docs/ledger.md, "PostgreSQL: bookings and long transactions").
``--one-transaction`` adds a PostgreSQL run with every booking inside one transaction,
whose own row versions are kept the same way until it ends.

Prints JSON with the machine's load average.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from bench.db_copy import LOCATIONS, SKUS
from wms.ledger import Ledger
from wms.ledger.storage import scratch_schemas

BATCH = 2000
WINDOW = 1000
TICKS = os.sysconf("SC_CLK_TCK")


def _backend_cpu(pid: int | None) -> float | None:
    """CPU seconds the PostgreSQL backend ``pid`` has used, if it runs on this machine."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS


def _book(ledger: Ledger, start: int, count: int) -> None:
    """``count`` bookings from pattern index ``start`` (a receipt then a pick per cell)."""
    for j in range(start, start + count, 2):
        sku, where = SKUS[j % len(SKUS)].sku, LOCATIONS[j % len(LOCATIONS)].location_id
        ledger.receive(sku, where, 10, ref=f"po-{j}")
        ledger.pick(sku, where, 3, ref=f"order-{j}")


def run(
    url: str, marks: list[int], repeats: int, one_transaction: bool = False
) -> dict[str, dict[str, float | None]]:
    """Per mark: the medians per 1,000 bookings (see the module docstring); with
    ``one_transaction`` every booking happens inside one outer transaction (the
    2,000-booking transactions become savepoints)."""
    out: dict[str, dict[str, float | None]] = {}
    with Ledger.open(url) as ledger:
        pid = None
        if ledger._db.backend == "postgresql":
            pid = int(ledger._db.scalar("SELECT pg_backend_pid()"))
        ledger.add_skus(SKUS)
        ledger.add_locations(LOCATIONS)
        with ledger.transaction() if one_transaction else nullcontext():
            booked = 0
            for mark in marks:
                while booked < mark:
                    step = min(BATCH, mark - booked)
                    with ledger.transaction():
                        _book(ledger, booked, step)
                    booked += step
                walls, cpus, servers = [], [], []
                for _ in range(repeats):
                    wall, cpu, server = time.perf_counter(), time.process_time(), _backend_cpu(pid)
                    with ledger.transaction():
                        _book(ledger, booked, WINDOW)
                    booked += WINDOW
                    walls.append(time.perf_counter() - wall)
                    cpus.append(time.process_time() - cpu)
                    after = _backend_cpu(pid)
                    if server is not None and after is not None:
                        servers.append(after - server)
                out[str(mark)] = {
                    "wall_s": round(statistics.median(walls), 3),
                    "client_cpu_s": round(statistics.median(cpus), 3),
                    "server_cpu_s": round(statistics.median(servers), 3) if servers else None,
                }
    return out


@contextmanager
def held_snapshot(url: str) -> Iterator[None]:
    """A second session holding one REPEATABLE READ snapshot open until the block ends."""
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        conn.execute("SELECT count(*) FROM pg_class").fetchone()
        try:
            yield
        finally:
            conn.rollback()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="a postgresql:// URL (scratch schemas are made in it)")
    parser.add_argument("--marks", default="1000,10000,50000", help="history sizes, ascending")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--held-snapshot", action="store_true", help="add the held-snapshot run")
    parser.add_argument(
        "--one-transaction",
        action="store_true",
        help="add a PostgreSQL run with every booking inside one transaction",
    )
    args = parser.parse_args()
    try:
        marks = sorted({int(m) for m in args.marks.split(",")})
    except ValueError:
        parser.error(f"--marks must be integers separated by commas, got {args.marks!r}")
    if (args.held_snapshot or args.one_transaction) and not args.db:
        parser.error("--held-snapshot and --one-transaction need --db postgresql://...")
    out: dict[str, object] = {"marks": marks, "repeats": args.repeats, "window": WINDOW}
    with tempfile.TemporaryDirectory(prefix="ledger-history-") as tmp:
        out["sqlite"] = run(f"sqlite:///{Path(tmp) / 'ledger.db'}", marks, args.repeats)
    if args.db:
        with scratch_schemas(args.db) as make:
            out["postgresql"] = run(make("history"), marks, args.repeats)
            if args.held_snapshot:
                with held_snapshot(args.db):
                    out["postgresql_snapshot_held"] = run(make("held"), marks, args.repeats)
            if args.one_transaction:
                out["postgresql_one_transaction"] = run(make("one"), marks, args.repeats, True)
    out["load_average"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
