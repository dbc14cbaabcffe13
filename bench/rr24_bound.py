"""An upper bound on the tasks any scheduler and planner can finish on a Robot Runners
2024 instance in T steps, and what it says about a target of k × a measured baseline.

A robot moves at most one cell a step (the rotation model's turns only make it slower),
so a robot that finishes tasks ``t1 … tm`` in T steps has travelled at least

    sum over its tasks of the errand travel (first errand to last, shortest grid paths)
  + sum over all but its last task of the distance from that task's last errand to the
    nearest cell that is any task's first errand (the empty leg to its next task)

and the fleet's total is at most ``team × T``. Which tasks it can have finished is
limited too: the competition keeps ``reveal`` unfinished tasks known, revealing the
file in order (cycling), so after X completions only the first ``X + reveal`` tasks
were ever known, and the finished ones are X of those. The largest X whose X cheapest
known tasks (cost: errand travel plus that empty-leg floor) fit in ``team × T`` moves,
crediting back the ``team`` largest empty-leg floors (each robot's last task needs no
leg after it), bounds every scheduler, every planner and every order of work. It does
not count the first empty leg from a robot's start, waits, turns or collisions, so it
is loose: it only says what cannot be reached.

    .venv/bin/python bench/rr24_bound.py --instance WAREHOUSE --steps 5000 \
        --baseline 101263 --factor 2
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from fleet.traffic.instance import read_instance  # noqa: E402
from fleet.traffic.schedule import ErrandTasks  # noqa: E402
from wms.layout.distances import DistanceTables  # noqa: E402

RR24 = REPO.parent / "shared" / "benchmarks" / "robotrunners/2024-main-round/warehouse.domain"


def task_costs(tables: DistanceTables, tasks: ErrandTasks, width: int) -> tuple[np.ndarray, ...]:
    """Per file task: errand travel and the empty-leg floor after it (cells)."""
    count = len(tasks)
    travel = np.zeros(count, dtype=np.int64)
    legs: dict[int, list[tuple[int, int]]] = {}
    for k in range(count):
        for a, b in itertools.pairwise(tasks.errands(k).tolist()):
            legs.setdefault(a, []).append((k, b))
    for tail, heads in legs.items():
        table = tables.from_cell(divmod(tail, width)).ravel().astype(np.int64)
        index = np.array(heads, dtype=np.int64)
        np.add.at(travel, index[:, 0], table[index[:, 1]])
    firsts = np.unique(tasks.cells[tasks.offsets[:-1]])
    nearest = np.min(
        np.stack([tables.from_cell(divmod(int(c), width)).ravel() for c in firsts]), axis=0
    ).astype(np.int64)
    floor = nearest[tasks.cells[tasks.offsets[1:] - 1]]
    return travel, floor


def most_tasks(travel: np.ndarray, floor: np.ndarray, reveal: int, team: int, steps: int) -> int:
    """The largest X that fits the movement budget (binary search; see the module doc)."""
    cost = travel + floor
    budget = team * steps

    def fits(done: int) -> bool:
        known = np.arange(done + reveal) % cost.size
        cheapest = np.partition(cost[known], done - 1)[:done] if done else cost[:0]
        credit = np.sort(floor[known])[-team:].sum()
        return int(cheapest.sum()) <= budget + int(credit)

    low, high = 0, budget // max(1, int(cost.min())) + 1
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instance", default="WAREHOUSE", choices=["WAREHOUSE", "SORTATION"])
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--baseline", type=int, default=0, help="tasks the baseline finished")
    parser.add_argument("--factor", type=float, default=2.0)
    args = parser.parse_args()
    if args.steps <= 0:
        parser.error("--steps must be positive")
    problem = read_instance(RR24 / f"{args.instance}.json")
    tasks = problem.errand_tasks
    assert tasks is not None
    width = problem.navigable.shape[1]
    travel, floor = task_costs(DistanceTables(problem.navigable), tasks, width)
    bound = most_tasks(travel, floor, tasks.reveal, problem.agents, args.steps)
    row = {
        "instance": args.instance,
        "steps": args.steps,
        "team": problem.agents,
        "reveal": tasks.reveal,
        "file_tasks": len(tasks),
        "travel_mean": round(float(travel.mean()), 1),
        "floor_mean": round(float(floor.mean()), 1),
        "bound_tasks": bound,
        "bound_per_step": round(bound / args.steps, 2),
    }
    if args.baseline:
        target = args.factor * args.baseline
        row |= {"target_tasks": round(target), "target_reachable": bound >= target}
    print(json.dumps(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
