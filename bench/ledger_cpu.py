"""CPU time per ledger operation on an SQLite file: the A/B check for storage changes.

``python bench/ledger_cpu.py [--label NAME]`` prints microseconds of this
process's CPU time (min of 5 repeats) per receipt inside one transaction, per
receipt with its own commit, per availability check, per move and per pick
(inside one transaction), and milliseconds of CPU for one `balance_check` of
the ledger those made (about 15,000 movements). CPU time, not wall
time, because the question it answers ("did a change make SQLite bookings
slower by a few percent?") drowns in the wall-clock noise of a shared machine;
SQLite runs in-process, so its work is all counted. Run it on two commits
(e.g. ``git stash`` or a ``git archive`` export on ``PYTHONPATH``) and compare.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from wms.inventory_types import LocationKind
from wms.ledger import Ledger, LocationRecord, SkuRecord

SKUS = 200


def fresh(path: Path) -> Ledger:
    ledger = Ledger.open(f"sqlite:///{path}")
    ledger.add_skus(SkuRecord(f"S{i:05d}", unit_price=1.0) for i in range(SKUS))
    ledger.add_locations(
        [LocationRecord("R1", LocationKind.RESERVE), LocationRecord("F1", LocationKind.FORWARD)]
    )
    return ledger


def cpu_us(call, n: int) -> float:
    start = time.process_time()
    for i in range(n):
        call(f"S{i % SKUS:05d}")
    return (time.process_time() - start) / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="this checkout")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    runs: dict[str, list[float]] = {
        "batched": [],
        "own_commit": [],
        "available": [],
        "move": [],
        "pick": [],
        "balance_ms": [],
    }
    with tempfile.TemporaryDirectory(prefix="ledger-cpu-") as tmp:
        for repeat in range(args.repeats):
            with fresh(Path(tmp) / f"l{repeat}.db") as ledger:
                with ledger.transaction():
                    runs["batched"].append(cpu_us(lambda s: ledger.receive(s, "R1", 1), 4000))
                runs["own_commit"].append(cpu_us(lambda s: ledger.receive(s, "R1", 1), 1000))
                runs["available"].append(cpu_us(lambda s: ledger.available(s, "R1"), 4000))
                with ledger.transaction():
                    runs["move"].append(cpu_us(lambda s: ledger.move(s, "R1", "F1", 1), 3000))
                    runs["pick"].append(cpu_us(lambda s: ledger.pick(s, "F1", 1), 3000))
                start = time.process_time()
                assert ledger.balance_check().ok
                runs["balance_ms"].append((time.process_time() - start) * 1000)
    result = {k: round(min(v), 1) for k, v in runs.items()}
    print(json.dumps({"label": args.label, "cpu_us_per_op_min": result}))


if __name__ == "__main__":
    main()
