"""Our planner: PIBT steered by one-way lanes, congestion-aware tie-breaks and
corridor swaps, with a stall watchdog.

Why these pieces (measured in docs/benchmarks.md, argued in docs/traffic.md):

- **Lanes** (a "highway"): every row and column gets a preferred direction,
  alternating like Manhattan streets; moving against it costs more. Distances
  to goals are computed on that directed, weighted graph, so opposing flows
  separate into neighbouring aisles instead of meeting head-on in one-wide
  rack aisles — the dominant source of PIBT's lost moves at density. Lanes
  are strict once the fleet is dense and soft while it is sparse, where the
  detour would cost more than the meetings it avoids.
- **Congestion-aware costs** (optional, `CongestionParams`): cells that were
  crowded lately cost more to enter; off by default (no measured gain on top
  of strict lanes).
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
from fleet.traffic.planner import ActionModel, PlanRequest, PlanResult, Rollout


@dataclass(frozen=True)
class LaneParams:
    """Integer move costs: ``along`` a lane, ``against`` it in open floor, and
    ``narrow_against`` against it in a one-cell-wide aisle, where a robot coming
    the wrong way cannot be passed and costs the most."""

    along: int = 1
    against: int = 10
    narrow_against: int = 10
    sparse_against: int = 2
    """Wrong-way cost everywhere while the fleet is sparse (``sparse_density``)."""
    sparse_density: float = 0.1
    """Robots per free cell below which lanes are soft: detours then cost more
    throughput than the head-on meetings they avoid (docs/traffic.md)."""

    def for_density(self, density: float) -> LaneParams:
        if density >= self.sparse_density:
            return self
        soft = self.sparse_against
        return LaneParams(self.along, soft, soft, soft, self.sparse_density)


def lane_costs(graph: FloorGraph, params: LaneParams = LaneParams()) -> np.ndarray:
    """``[n, 4]`` move costs of a Manhattan one-way grid.

    Rows alternate east/west and columns south/north like Manhattan streets;
    rows and columns holding one-wide aisles alternate among themselves, so
    every aisle is a one-way street with its neighbouring aisles running the
    other way. Dead ends are two-way (in and out share cells).
    """
    rows, cols = np.divmod(graph.cell_of, graph.width)
    walled = graph.neighbours < 0
    narrow = np.empty((graph.size, 4), dtype=bool)
    narrow[:, [0, 2]] = (walled[:, 1] & walled[:, 3])[:, None]
    narrow[:, [1, 3]] = (walled[:, 0] & walled[:, 2])[:, None]
    wrong_way = np.where(narrow, params.narrow_against, params.against)
    east = _alternate(rows, narrow[:, 1])
    south = _alternate(cols, narrow[:, 0])
    costs = np.empty((graph.size, 4), dtype=np.int64)
    costs[:, 1] = np.where(east, params.along, wrong_way[:, 1])
    costs[:, 3] = np.where(east, wrong_way[:, 3], params.along)
    costs[:, 2] = np.where(south, params.along, wrong_way[:, 2])
    costs[:, 0] = np.where(south, wrong_way[:, 0], params.along)
    dead = graph.dead_ends()
    target = graph.neighbours
    into_dead = dead[np.where(target >= 0, target, 0)] & (target >= 0)
    costs[dead[:, None] | into_dead] = params.along
    return costs


def _alternate(lines: np.ndarray, narrow: np.ndarray) -> np.ndarray:
    """Lane direction per row (or column): alternate between consecutive aisles.

    Rows holding a one-wide aisle alternate by their rank among such rows, so
    neighbouring aisles always run opposite ways whatever the rack pitch (on
    warehouse_large the vertical aisles sit every 4 columns, all odd: plain
    parity would make them all run north). Other rows alternate by parity.
    """
    aisle_lines = np.unique(lines[narrow])
    if aisle_lines.size == 0:
        return lines % 2 == 0
    # offset by the first aisle's index: where aisles already alternate by
    # parity (the MovingAI warehouse maps) this is exactly the parity pattern
    rank = np.searchsorted(aisle_lines, lines) + aisle_lines[0]
    is_aisle = np.isin(lines, aisle_lines)
    return np.where(is_aisle, rank % 2 == 0, lines % 2 == 0)


@dataclass(frozen=True)
class CongestionParams:
    """Congestion-aware costs: entering a cell costs extra in proportion to how
    often it has been occupied lately (exponential moving average).

    ``weight`` is the extra cost, in moves, of a cell that is always occupied;
    0 turns congestion awareness off. Costs are re-derived every ``period``
    steps and at most ``refresh`` stale goal tables are recomputed per step.
    """

    weight: float = 0.0
    stopped: bool = False
    """Count only robots that stood still since the last step (jams, not flow)."""
    smoothing: float = 0.05
    period: int = 10
    refresh: int = 4
    scale: int = 4


class GuidedPlanner(PIBTPlanner):
    """PIBT over lane costs set by fleet density and (optionally) recent congestion."""

    def __init__(
        self,
        graph: FloorGraph,
        lanes: LaneParams,
        congestion: CongestionParams,
        **kwargs: object,
    ) -> None:
        self._congestion = congestion
        self._lanes = lanes
        self._active_lanes = lanes
        self._base = lane_costs(graph, lanes) * congestion.scale
        super().__init__(graph, GoalDistances(graph, self._base), **kwargs)  # type: ignore[arg-type]
        self._grain = 1.0
        self._occupancy = np.zeros(graph.size, dtype=np.float64)
        self._tick = 0
        self._last_nodes: np.ndarray | None = None

    def precompute(self, goal_cells: np.ndarray, fleet_size: int | None = None) -> None:
        if fleet_size is not None:
            self._fit_lanes(fleet_size)
        super().precompute(goal_cells, fleet_size)

    def _fit_lanes(self, robots: int) -> None:
        lanes = self._lanes.for_density(robots / max(1, self.graph.size))
        if lanes != self._active_lanes:
            self._active_lanes = lanes
            self._base = lane_costs(self.graph, lanes) * self._congestion.scale
            self.distances.set_costs(self._base, max(self._congestion.refresh, 16))

    def rollout(self, request: PlanRequest, steps: int) -> Rollout:
        """`Planner.rollout` with the lanes `plan` would use; congestion memory untouched."""
        self._fit_lanes(len(request.cells))
        return super().rollout(request, steps)

    def plan(self, request: PlanRequest) -> PlanResult:
        params = self._congestion
        self._fit_lanes(len(request.cells))
        if params.weight > 0:
            nodes = self.graph.node_of[np.asarray(request.cells, dtype=np.int64)]
            seen = np.zeros(self.graph.size, dtype=np.float64)
            counted = nodes >= 0
            last = self._last_nodes
            if params.stopped:
                self._last_nodes = nodes
                counted &= (last is not None and last.shape == nodes.shape) and (nodes == last)
            seen[nodes[counted]] = 1.0
            self._occupancy += params.smoothing * (seen - self._occupancy)
            self._tick += 1
            if self._tick % params.period == 0:
                target = self.graph.neighbours
                crowd = self._occupancy[np.where(target >= 0, target, 0)]
                extra = np.rint(crowd * params.weight * params.scale).astype(np.int64)
                self.distances.set_costs(self._base + extra, params.refresh)
        return super().plan(request)


GUIDED_OPTIONS = PIBTOptions(
    swap=True,
    occupied_penalty=0.45,
    headon_penalty=0.45,
    stall_steps=64,
    rotation_stall_steps=256,
)


ROTATION_CONGESTION = CongestionParams(weight=1.0, stopped=True, period=5, refresh=8)
"""Congestion-aware costs in the rotation model, where a queue drains at a turn half
as fast as it fills (docs/traffic.md), counting robots that stood still (jams, not
flow): MR23-I-10 over 1,000 steps 23.5 -> 28.4 tasks/step, warehouse_small with 400
robots +15% (docs/benchmarks.md). Off in grid4 (no gain there)."""


def make_guided(
    navigable: np.ndarray,
    model: ActionModel = ActionModel.GRID4,
    seed: int = 0,
    lanes: LaneParams = LaneParams(),
    options: PIBTOptions = GUIDED_OPTIONS,
    congestion: CongestionParams | None = None,
    name: str = "guided",
) -> PIBTPlanner:
    """``guided``; ``congestion`` defaults to `ROTATION_CONGESTION` in the rotation model
    and to off (`CongestionParams()`) in grid4."""
    if congestion is None:
        rotation = model is ActionModel.ROTATION
        congestion = ROTATION_CONGESTION if rotation else CongestionParams()
    graph = FloorGraph(navigable)
    return GuidedPlanner(
        graph,
        lanes,
        congestion,
        name=name,
        model=model,
        options=options,
        seed=seed,
    )
