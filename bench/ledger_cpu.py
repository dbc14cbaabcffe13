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

``python bench/ledger_cpu.py --commits 11e24cd HEAD [--rounds 3]`` does that in
one command: it exports each commit's ``wms`` with ``git archive``, runs this
script on each in turn (alternating, ``--rounds`` times, so load drifts hit all
alike) and prints, per commit, the median over the rounds of each measure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
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


def compare(commits: list[str], rounds: int, repeats: int) -> None:
    """Alternate runs of this script on each commit's ``wms``; medians over the rounds."""
    repo = Path(__file__).resolve().parents[1]
    results: dict[str, list[dict[str, float]]] = {c: [] for c in commits}
    with tempfile.TemporaryDirectory(prefix="ledger-cpu-trees-") as tmp:
        trees = {}
        for commit in commits:
            tree = Path(tmp) / commit.replace("/", "_")
            tree.mkdir()
            archive = subprocess.run(
                ["git", "-C", str(repo), "archive", commit, "wms"], check=True, capture_output=True
            ).stdout
            subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
            trees[commit] = tree
        for _ in range(rounds):
            for commit in commits:
                env = {**os.environ, "PYTHONPATH": str(trees[commit])}
                out = subprocess.run(
                    [sys.executable, __file__, "--label", commit, "--repeats", str(repeats)],
                    env=env,
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
                print(out.strip(), flush=True)
                results[commit].append(json.loads(out)["cpu_us_per_op_min"])
    medians = {
        c: {k: round(statistics.median(r[k] for r in runs), 1) for k in runs[0]}
        for c, runs in results.items()
    }
    print(json.dumps({"rounds": rounds, "median_of_rounds": medians}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="this checkout")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--commits", nargs="+", help="compare these commits (git archive)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.commits:
        compare(args.commits, args.rounds, args.repeats)
        return
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
