"""One planner on one lifelong problem, and the throughput bound it is judged by."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from fleet.traffic.instance import MapfProblem
from fleet.traffic.lifelong import LifelongResult, run_lifelong
from fleet.traffic.planner import ActionModel
from fleet.traffic.registry import make_planner
from wms.layout.distances import DistanceTables, mean_free_distance

EAST = 1


def throughput_bound(navigable: np.ndarray, agents: int, samples: int = 2048) -> float:
    """N / mean shortest distance between random free cells (tasks per step, no waiting)."""
    mean = mean_free_distance(DistanceTables(navigable), samples=samples, seed=0)
    return agents / mean if mean > 0 else 0.0


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
) -> LifelongResult:
    """A fresh planner and task stream, run for ``steps``; start headings face east."""
    planner = make_planner(planner_name, problem.navigable, model, seed)
    if problem.known_goals is not None:
        planner.precompute(problem.known_goals[: problem.agents])
    headings = np.full(problem.agents, EAST, dtype=np.int64)
    return run_lifelong(
        planner,
        problem.navigable,
        problem.starts,
        problem.make_tasks(),
        steps,
        clock,
        time_limit_ms=time_limit_ms,
        headings=headings,
        record=record,
        progress=progress,
    )
