"""One planner on one lifelong problem, and the throughput bound it is judged by."""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from fleet.traffic.instance import MapfProblem
from fleet.traffic.lifelong import LifelongResult, ScheduledStream, TaskStream, run_lifelong
from fleet.traffic.planner import ActionModel
from fleet.traffic.registry import make_planner
from fleet.traffic.repair import RepairPlanner
from fleet.traffic.schedule import ScheduledTasks
from fleet.traffic.window import WindowedPlanner
from wms.layout.distances import DistanceTables, mean_free_distance

EAST = 1
EXACT_BOUND_CELLS = 8000
PRECOMPUTE_ALL = 8000
"""Random-goal floors up to this many free cells get every goal table up front
(8,000 rows of uint16 = 128 MB at most); larger floors compute tables as goals appear."""
WARM_ERRAND_CELLS = 1024
"""Scheduled tasks: tables for the most visited errand cells (the stations) up front."""


def throughput_bound(navigable: np.ndarray, agents: int) -> float:
    """N / mean shortest distance between random free cells (tasks per step, no waiting).

    Exact (every free cell as a source) up to `EXACT_BOUND_CELLS` free cells,
    else sampled from 2,048 sources; cached per floor.
    """
    mean = _mean_distance(np.asarray(navigable, dtype=bool).tobytes(), navigable.shape)
    return agents / mean if mean > 0 else 0.0


@functools.lru_cache(maxsize=8)
def _mean_distance(mask: bytes, shape: tuple[int, int]) -> float:
    navigable = np.frombuffer(mask, dtype=bool).reshape(shape)
    samples = EXACT_BOUND_CELLS if navigable.sum() <= EXACT_BOUND_CELLS else 2048
    return mean_free_distance(DistanceTables(navigable), samples=samples, seed=0)


def evaluate(
    problem: MapfProblem,
    planner_name: str,
    steps: int,
    clock: Callable[[], float],
    *,
    model: ActionModel = ActionModel.GRID4,
    seed: int = 0,
    time_limit_ms: float | None = None,
    record: bool = False,
    progress: Callable[[int], None] | None = None,
    scheduler: str | None = None,
    tasks: TaskStream | None = None,
    prefetch_ms: float | None = None,
) -> LifelongResult:
    """A fresh planner and task stream, run for ``steps``; start headings face east.

    ``scheduler`` (``ours``/``greedy``) schedules the problem's task list
    (default: the problem's own rule — round robin for 2023, ``ours`` for 2024);
    ``tasks`` passes a stream made by the caller instead (to watch it while it runs).
    ``prefetch_ms``: how long into a step upcoming goals' tables may be prepared
    (scheduled tasks; ``None`` or 0: never — measured without a gain on 2024
    WAREHOUSE, docs/benchmarks.md).
    """
    planner = make_planner(planner_name, problem.navigable, model, seed)
    if isinstance(planner, WindowedPlanner | RepairPlanner):
        planner.use_clock(clock)  # its deadline runs on the harness's clock
    free = np.flatnonzero(problem.navigable.ravel())
    tasks = tasks if tasks is not None else problem.tasks(scheduler)
    if isinstance(tasks, ScheduledStream) and problem.errand_tasks is not None:
        planner.precompute(problem.errand_tasks.frequent_cells(WARM_ERRAND_CELLS), problem.agents)
        if isinstance(tasks, ScheduledTasks):
            tasks.precompute()
    elif problem.known_goals is not None:
        planner.precompute(problem.known_goals[: problem.agents], problem.agents)
    elif free.size <= PRECOMPUTE_ALL:
        planner.precompute(free, problem.agents)  # random goals: every free cell is a goal
    headings = np.full(problem.agents, EAST, dtype=np.int64)
    return run_lifelong(
        planner,
        problem.navigable,
        problem.starts,
        tasks,
        steps,
        clock,
        time_limit_ms=time_limit_ms,
        headings=headings,
        record=record,
        progress=progress,
        prefetch_ms=prefetch_ms,
    )
