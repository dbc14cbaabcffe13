"""Our planner: PIBT steered by one-way lanes, congestion-aware tie-breaks and
corridor swaps, with a stall watchdog.

Why these pieces (measured in docs/benchmarks.md, argued in docs/traffic.md):

- **Lanes** (a "highway"): every row and column gets a preferred direction,
  alternating like Manhattan streets; moving against it costs more. Distances
  to goals are computed on that directed, weighted graph, so opposing flows
  separate into neighbouring aisles instead of meeting head-on in one-wide
  rack aisles — the dominant source of PIBT's lost moves at density.
- **Congestion-aware tie-breaks**: among equally good cells, prefer a free
  one, and avoid a cell whose occupant wants to come to my cell (a head-on
  meeting that PIBT would resolve by pushing someone backwards).
- **Corridor swap** and **stall watchdog**: make lifelong operation
  deadlock-free in dead ends, where plain PIBT's guarantee does not hold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fleet.traffic.distances import GoalDistances
from fleet.traffic.graph import FloorGraph
from fleet.traffic.pibt import PIBTOptions, PIBTPlanner
from fleet.traffic.planner import ActionModel


@dataclass(frozen=True)
class LaneParams:
    """Integer move costs: ``along`` with the lane, ``against`` it (``against >= along``)."""

    along: int = 2
    against: int = 3


def lane_costs(graph: FloorGraph, params: LaneParams = LaneParams()) -> np.ndarray:
    """``[n, 4]`` move costs of a Manhattan one-way grid.

    Even rows run east, odd rows west; even columns run south, odd columns
    north. The pattern needs no knowledge of the layout, and on rack floors
    it turns every one-wide aisle into a one-way street with its neighbours
    running the other way.
    """
    rows, cols = np.divmod(graph.cell_of, graph.width)
    costs = np.full((graph.size, 4), params.against, dtype=np.int64)
    east = rows % 2 == 0
    south = cols % 2 == 0
    costs[:, 1] = np.where(east, params.along, params.against)
    costs[:, 3] = np.where(east, params.against, params.along)
    costs[:, 2] = np.where(south, params.along, params.against)
    costs[:, 0] = np.where(south, params.against, params.along)
    return costs


GUIDED_OPTIONS = PIBTOptions(
    swap=True,
    occupied_penalty=0.25,
    headon_penalty=0.25,
    stall_steps=64,
)


def make_guided(
    navigable: np.ndarray,
    model: ActionModel = ActionModel.GRID4,
    seed: int = 0,
    lanes: LaneParams = LaneParams(),
    options: PIBTOptions = GUIDED_OPTIONS,
) -> PIBTPlanner:
    graph = FloorGraph(navigable)
    distances = GoalDistances(graph, lane_costs(graph, lanes))
    return PIBTPlanner(graph, distances, name="guided", model=model, options=options, seed=seed)
