"""The robots' durable state on SQLite and PostgreSQL: cost per cycle and of a restart.

``python -m bench.durable [--db postgresql://...] [--robots 50] [--cycles 400]``
writes what a manager's cycles store before acting (`DurableFleet.record`: each
robot an order update every fourth cycle, a placement now and then) into a fresh
site on an SQLite file — the baseline — and, with ``--db``, in a scratch schema of
that PostgreSQL database, then times what a restarted manager reads
(`DurableFleet.begin`: open, register the start, rebuild the resume). Wall time
(PostgreSQL works in another process), median of ``--repeats``; prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fleet.manager.durable import DurableFleet
from fleet.manager.events import Command, RobotPlaced, SendOrder
from fleet.protocol.positions import path_nodes_edges
from warehouse.config import load_config
from wms.ledger import Ledger
from wms.ledger.storage import scratch_schemas


def cycles(robots: int, count: int) -> Iterator[list[Command]]:
    """The commands of ``count`` cycles: every robot placed once, then order updates."""
    floor = load_config().floor
    cells = sorted({location.access_cell for location in floor.locations})[: robots * 4]
    yield [RobotPlaced(f"sim/r{i}", i, cells[4 * i]) for i in range(robots)]
    for cycle in range(count):
        batch: list[Command] = []
        for i in range(cycle % 4, robots, 4):
            path = cells[4 * i : 4 * i + 3]
            nodes, edges = path_nodes_edges(floor, path, 2)
            batch.append(SendOrder(f"sim/r{i}", f"r{i}-{cycle // 40}~t", cycle, nodes, edges, 0))
        if cycle % 50 == 49:
            batch.append(RobotPlaced("sim/r0", 0, cells[0]))
        yield batch


def run(url: str, robots: int, count: int) -> dict[str, float]:
    Ledger.open(url).close()
    batches = list(cycles(robots, count))
    durable = DurableFleet(url)
    durable.begin()
    times = []
    for batch in batches:
        start = time.perf_counter()
        durable.record(batch)
        times.append(time.perf_counter() - start)
    durable.close()
    start = time.perf_counter()
    again = DurableFleet(url)
    resume = again.begin()
    restart = time.perf_counter() - start
    again.close()
    assert len(resume.robots) == robots
    return {
        "record_ms_median": statistics.median(times) * 1e3,
        "record_ms_p95": sorted(times)[int(0.95 * len(times))] * 1e3,
        "restart_ms": restart * 1e3,
    }


@contextmanager
def sites(pg: str | None) -> Iterator[Iterator[tuple[str, str]]]:
    """Fresh site URLs: an SQLite file, then (with ``pg``) a scratch PostgreSQL schema."""
    with tempfile.TemporaryDirectory(prefix="durable-") as tmp:
        if pg is None:
            yield ((f"sqlite:///{Path(tmp) / f's{k}.db'}", "sqlite") for k in range(10**6))
            return
        with scratch_schemas(pg) as make:

            def both() -> Iterator[tuple[str, str]]:
                for k in range(10**6):
                    yield f"sqlite:///{Path(tmp) / f's{k}.db'}", "sqlite"
                    yield make(f"durable{k}"), "postgresql"

            yield both()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="a postgresql:// URL (scratch schemas are made in it)")
    parser.add_argument("--robots", type=int, default=50)
    parser.add_argument("--cycles", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, list[dict[str, float]]] = {}
    backends = 2 if args.db else 1
    with sites(args.db) as urls:
        for _ in range(args.repeats * backends):
            url, backend = next(urls)
            results.setdefault(backend, []).append(run(url, args.robots, args.cycles))
    out = {
        backend: {k: round(statistics.median(r[k] for r in runs), 2) for k in runs[0]}
        for backend, runs in results.items()
    }
    if "postgresql" in out:
        out["ratio_postgresql_over_sqlite"] = {
            k: round(out["postgresql"][k] / out["sqlite"][k], 2) for k in out["sqlite"]
        }
    out["robots"], out["cycles"], out["repeats"] = args.robots, args.cycles, args.repeats
    out["load_average"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
