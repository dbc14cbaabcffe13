"""Planners by name: the CLI and the fleet manager pick a strategy with a string."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from fleet.traffic.distances import GoalDistances
from fleet.traffic.graph import FloorGraph
from fleet.traffic.guided import make_guided
from fleet.traffic.pibt import PIBTPlanner
from fleet.traffic.planner import ActionModel, Planner
from fleet.traffic.repair import make_repair
from fleet.traffic.window import make_windowed
from wms.errors import InputError

PlannerFactory = Callable[[np.ndarray, ActionModel, int], Planner]


def make_pibt(
    navigable: np.ndarray, model: ActionModel = ActionModel.GRID4, seed: int = 0
) -> PIBTPlanner:
    """The baseline: plain PIBT on true shortest distances, random tie-breaks."""
    graph = FloorGraph(navigable)
    return PIBTPlanner(graph, GoalDistances(graph), name="pibt", model=model, seed=seed)


PLANNERS: dict[str, PlannerFactory] = {
    "pibt": make_pibt,
    "guided": make_guided,
    "windowed": make_windowed,
    "lns": make_repair,
}


def planner_names() -> list[str]:
    return sorted(PLANNERS)


def make_planner(
    name: str, navigable: np.ndarray, model: ActionModel = ActionModel.GRID4, seed: int = 0
) -> Planner:
    """A fresh planner; `InputError` for an unknown name lists the known ones."""
    factory = PLANNERS.get(name)
    if factory is None:
        raise InputError(
            "planner", f"unknown planner {name!r} (known: {', '.join(planner_names())})"
        )
    return factory(navigable, model, seed)
