"""Re-sequencing a route when a robot takes it: the old wall-clock budget against the work limit.

    nice -n 19 .venv/bin/python bench/resequence.py           # print the section
    nice -n 19 .venv/bin/python bench/resequence.py --write   # and record it in docs/benchmarks.md

Both searches are `fleet.manager.sequence.resequence` (OR-Tools plain descent from
Christofides) through the same code, only the limits differ:

* **old**: what the fleet manager used to pass, a 20 ms wall-clock budget and no
  work limit (``solution_limit`` unbounded, ``guard_ms = 20``);
* **new**: the defaults now (``FleetConfig.resequence_solutions = 20`` solutions,
  the 1 s guard).

Inputs: *typical* is every pick-route task of a planned day on configs/default.toml
and configs/retail.toml (the WMS batches `warehouse demo` hands the manager, seed 0),
each re-sequenced from a seeded random cell at a seeded random time before its
cut-off; *long* is scattered routes of 32, 60 and 100 stops on the default floor,
cut-offs at 200 s and 400 s (most stops late), which no WMS batch comes near.
Every input is solved twice by each search (two passes, alternating old and new),
so "repeats" shows whether a search gives the same order twice on the same input.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from bench.sections import publish  # noqa: E402
from fleet.dispatch.distances import FloorDistances  # noqa: E402
from fleet.manager.config import FleetConfig  # noqa: E402
from fleet.manager.sequence import (  # noqa: E402
    Sequenced,
    SequenceParams,
    SequenceStop,
    resequence,
)
from sim.scenario import Mode  # noqa: E402
from warehouse.config import load_config  # noqa: E402
from warehouse.day import DaySettings, day_tasks, open_stock, plan_day, shift_start  # noqa: E402
from wms.layout import Cell  # noqa: E402

HEADING = "## Fleet: re-sequencing on a work limit, not a wall-clock budget"
OLD_BUDGET_MS = 20
UNBOUNDED = 2**62


@dataclass(frozen=True)
class Case:
    start: Cell
    stops: tuple[SequenceStop, ...]
    end: Cell
    now_s: float


@dataclass
class Tally:
    ms: list[float]
    orders: list[list[tuple[int, ...]]]
    costs: list[float]
    guard_bound: int = 0
    """Searches the wall-clock limit stopped (the warning `resequence` logs)."""


class GuardCounter(logging.Handler):
    """Counts `resequence`'s "hit the wall-clock guard" warnings instead of printing them."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


GUARD = GuardCounter()


def typical(distances: dict[str, FloorDistances], seed: int) -> dict[str, list[Case]]:
    out: dict[str, list[Case]] = {}
    for name in ("default", "retail"):
        config = load_config(REPO / "configs" / f"{name}.toml")
        day = DaySettings(amrs=10, seed=seed)
        ledger = open_stock(config, day, None, config.wms.planning)
        try:
            book, plan, _ = plan_day(config, day, ledger)
        finally:
            ledger.close()
        tasks = day_tasks(book, plan, shift_start(book), Mode.PICKING, config.floor)
        rng = random.Random(seed)
        free = [(int(r), int(c)) for r, c in zip(*np.nonzero(config.floor.navigable), strict=True)]
        cases = []
        for task in tasks:
            rest = task.stops[:-1]
            if len(rest) < 2:
                continue  # the manager does not re-sequence fewer than two stops
            stops = tuple(SequenceStop(s.cell, s.duration_s, task.due_s) for s in rest)
            now = rng.uniform(0.0, max(1.0, task.due_s or 0.0))
            cases.append(Case(rng.choice(free), stops, task.stops[-1].cell, now))
        out[f"typical {name} ({len(cases)} batches)"] = cases
        distances[f"typical {name} ({len(cases)} batches)"] = FloorDistances(config.floor.navigable)
    return out


def long_routes(seed: int, per_size: int) -> tuple[list[Case], FloorDistances]:
    floor = load_config(REPO / "configs" / "default.toml").floor
    faces = sorted({loc.access_cell for loc in floor.locations})
    station = floor.stations[0].cell
    rng = random.Random(seed)
    cases = []
    for n in (32, 60, 100):
        for k in range(per_size):
            due = 200.0 if k % 2 == 0 else 400.0
            stops = tuple(SequenceStop(c, 4.0, due) for c in rng.sample(faces, n))
            cases.append(Case(station, stops, station, 0.0))
    return cases, FloorDistances(floor.navigable)


def solve(case: Case, distances: FloorDistances, params: SequenceParams) -> tuple[float, Sequenced]:
    params = SequenceParams(
        now_s=case.now_s, solution_limit=params.solution_limit, guard_ms=params.guard_ms
    )
    started = time.perf_counter()
    result = resequence(case.start, list(case.stops), case.end, distances, params)
    return (time.perf_counter() - started) * 1000.0, result


def _quiet_guard() -> None:
    sequence_log = logging.getLogger("fleet.manager.sequence")
    sequence_log.addHandler(GUARD)
    sequence_log.propagate = False


def measure(
    cases: list[Case], distances: FloorDistances, searches: dict[str, SequenceParams]
) -> dict[str, Tally]:
    tallies = {name: Tally([], [], []) for name in searches}
    for case in cases:
        cells = [case.start, *(stop.cell for stop in case.stops), case.end]
        distances.matrix(cells, cells)  # the floor's distance tables, cached: timed by neither
        for name in tallies:
            tallies[name].orders.append([])
        for _ in range(2):
            for name, params in searches.items():
                before = GUARD.count
                ms, result = solve(case, distances, params)
                tally = tallies[name]
                tally.guard_bound += GUARD.count - before
                tally.ms.append(ms)
                tally.orders[-1].append(result.order)
                if len(tally.orders[-1]) == 1:
                    late = params.lateness_cells_per_s * result.late_s
                    tally.costs.append(result.travel_cells + late)
    return tallies


def table(label: str, cases: list[Case], tallies: dict[str, Tally]) -> list[str]:
    old, new = tallies["old"], tallies["new"]
    sizes = [len(c.stops) for c in cases]
    same = sum(o[0] == n[0] for o, n in zip(old.orders, new.orders, strict=True))
    ratios = [n / o if o else 1.0 for o, n in zip(old.costs, new.costs, strict=True)]
    rows = [
        f"**{label}**: {len(cases)} inputs, {statistics.median(sizes):g} stops median, "
        f"{max(sizes)} max; new order = old order in {same}/{len(cases)}; cost new/old "
        f"median {statistics.median(ratios):.3f}, worst {max(ratios):.3f}.",
        "",
        "| search | median ms | p95 ms | max ms | same order both passes | stopped by the clock |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, tally in tallies.items():
        ms = sorted(tally.ms)
        p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
        repeats = sum(pair[0] == pair[1] for pair in tally.orders)
        rows.append(
            f"| {name} | {statistics.median(ms):.2f} | {p95:.1f} | {ms[-1]:.1f} | "
            f"{repeats}/{len(tally.orders)} | {tally.guard_bound}/{len(ms)} |"
        )
    return [*rows, ""]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--long-per-size", type=int, default=6)
    parser.add_argument("--write", action="store_true", help="record in docs/benchmarks.md")
    args = parser.parse_args(argv)
    if args.long_per_size < 1:
        print("--long-per-size must be at least 1", file=sys.stderr)
        return 2
    fleet = FleetConfig()
    searches = {
        "old": SequenceParams(solution_limit=UNBOUNDED, guard_ms=OLD_BUDGET_MS),
        "new": SequenceParams(
            solution_limit=fleet.resequence_solutions, guard_ms=fleet.resequence_guard_ms
        ),
    }
    _quiet_guard()
    load_before = os.getloadavg()[0]
    distances: dict[str, FloorDistances] = {}
    sets = typical(distances, args.seed)
    long_cases, long_distances = long_routes(args.seed, args.long_per_size)
    sets["long (32/60/100 stops, mostly late)"] = long_cases
    distances["long (32/60/100 stops, mostly late)"] = long_distances
    body: list[str] = []
    for label, cases in sets.items():
        body += table(label, cases, measure(cases, distances[label], searches))
    lines = [
        HEADING,
        "",
        f"`nice -n 19 .venv/bin/python bench/resequence.py --write` ({platform.machine()}, "
        f"{os.cpu_count()} cores shared, load average {load_before:.2f} before / "
        f"{os.getloadavg()[0]:.2f} after, Python {platform.python_version()}). One "
        "`resequence` per route when a robot takes it: *old* is the 20 ms wall-clock "
        "budget the manager used to give OR-Tools' descent (no work limit), *new* the "
        f"work limit of {fleet.resequence_solutions} solutions with the "
        f"{fleet.resequence_guard_ms} ms guard. Each input is solved twice by each "
        "search; times are wall-clock medians on a shared machine.",
        "",
        *body,
        "Reading: on the WMS's batches the descent reaches its local optimum before "
        "either limit, so the work limit changes no order and costs no time there. Only "
        "long, late routes are stopped by a limit: the old search wherever the clock fell "
        "(whether it gives the same order twice varies from run to run of this script, "
        "even unloaded, and a loaded machine moves the cut), the new one after the same "
        "20 solutions every time: reproducible, "
        "several times slower than the 20 ms it replaces on such routes and still well "
        "inside the guard. On a few of them the clock-cut search had got further than 20 "
        "solutions (the worst cost ratio above 1).",
        "",
    ]
    return publish("\n".join(lines), HEADING, args.write)


if __name__ == "__main__":
    raise SystemExit(main())
