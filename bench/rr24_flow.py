"""Where Robot Runners 2024 WAREHOUSE throughput goes, per 100-step block.

For one scheduler under our planner (rotation model, 1 s budget), prints per
block: tasks completed, the mean errand travel (station → shelf, cells) of the
tasks completed in it, and the share of robots that changed cell per step;
then the task file's own mean errand travel and the mean distance from a
task's shelf to the nearest station (the empty leg's floor). Together they
bound what any scheduler can do over a long run (docs/traffic.md, "Crowds at
stations"). Records every position, so memory grows with ``--steps``
(10,000 robots × 8 bytes a step: 40 MB per 500 steps).

    .venv/bin/python bench/rr24_flow.py --steps 500 --scheduler ours --clock cpu
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from fleet.traffic.evaluate import evaluate  # noqa: E402
from fleet.traffic.instance import read_instance  # noqa: E402
from fleet.traffic.planner import ActionModel  # noqa: E402
from fleet.traffic.schedule import ErrandTasks, ScheduledTasks  # noqa: E402

RR24 = REPO.parent / "shared" / "benchmarks" / "robotrunners/2024-main-round/warehouse.domain"
BLOCK = 100


def errand_travel(stream: ScheduledTasks, tasks: np.ndarray) -> np.ndarray:
    """Cells along each task's errands, first to last (one table per leg's start)."""
    width = stream.width
    out = np.zeros(tasks.size, dtype=np.int64)
    for k, task in enumerate(tasks.tolist()):
        errands = stream.tasks.errands(task).tolist()
        for a, b in itertools.pairwise(errands):
            out[k] += int(stream.distances.tables.from_cell(divmod(a, width)).ravel()[b])
    return out


def empty_floor(stream: ScheduledTasks, tasks: ErrandTasks) -> float:
    """Mean distance from a task's last errand to the nearest first errand (station)."""
    width = stream.width
    stations = np.unique(tasks.cells[tasks.offsets[:-1]])
    nearest = None
    for cell in stations.tolist():
        table = stream.distances.tables.from_cell(divmod(cell, width)).ravel().astype(np.int64)
        nearest = table if nearest is None else np.minimum(nearest, table)
    assert nearest is not None
    return float(nearest[tasks.cells[tasks.offsets[1:] - 1]].mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--scheduler", default="ours", choices=["ours", "greedy"])
    parser.add_argument("--clock", choices=["wall", "cpu"], default="cpu")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "rr24_flow.jsonl")
    args = parser.parse_args()
    if args.steps <= 0 or args.steps % BLOCK:
        parser.error(f"--steps must be a positive multiple of {BLOCK}")
    tick = time.process_time if args.clock == "cpu" else time.perf_counter
    problem = read_instance(RR24 / "WAREHOUSE.json")
    stream = problem.tasks(args.scheduler)
    assert isinstance(stream, ScheduledTasks) and problem.errand_tasks is not None
    result = evaluate(
        problem,
        "guided",
        args.steps,
        tick,
        model=ActionModel.ROTATION,
        time_limit_ms=1000.0,
        record=True,
        tasks=stream,
    )
    assert result.positions is not None
    cells = result.positions[:, :, 0].astype(np.int64) * problem.navigable.shape[1]
    cells += result.positions[:, :, 1]
    moved = cells[1:] != cells[:-1]
    done = result.completions
    blocks = []
    for start in range(0, args.steps, BLOCK):
        tasks = done[(done[:, 0] > start) & (done[:, 0] <= start + BLOCK), 2]
        travel = errand_travel(stream, tasks)
        blocks.append(
            {
                "steps": f"{start}-{start + BLOCK}",
                "tasks": int(tasks.size),
                "work_mean": round(float(travel.mean()), 1) if tasks.size else 0.0,
                "moving_share": round(float(moved[start : start + BLOCK].mean()), 3),
            }
        )
    file_tasks = problem.errand_tasks
    everything = np.arange(len(file_tasks))
    row = {
        "scheduler": args.scheduler,
        "steps": args.steps,
        "clock": args.clock,
        "completed": result.completed,
        "conflicts": result.conflicts,
        "timeouts": result.timeouts,
        "blocks": blocks,
        "file_work_mean": round(float(errand_travel(stream, everything).mean()), 1),
        "empty_floor_mean": round(empty_floor(stream, file_tasks), 1),
        "load_avg": [round(x, 2) for x in os.getloadavg()],
    }
    with args.out.open("a") as handle:
        handle.write(json.dumps(row) + "\n")
    print("| steps | tasks | mean errand travel of tasks done | robots moving per step |")
    print("|---|---|---|---|")
    for b in blocks:
        print(f"| {b['steps']} | {b['tasks']:,} | {b['work_mean']} | {b['moving_share']:.3f} |")
    print(
        f"\nfile: mean errand travel {row['file_work_mean']} cells; shelf → nearest station "
        f"{row['empty_floor_mean']} cells; {result.completed:,} tasks, "
        f"{result.conflicts} conflicts, {result.timeouts} timeouts"
    )


if __name__ == "__main__":
    main()
