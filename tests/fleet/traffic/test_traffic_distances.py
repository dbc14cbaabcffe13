"""Distance-to-goal tables: plain, lane-weighted, congestion-aware, dynamic blocks."""

from __future__ import annotations

import numpy as np

from fleet.traffic.distances import GoalDistances
from fleet.traffic.graph import FloorGraph
from fleet.traffic.guided import CongestionParams, LaneParams, lane_costs, make_guided
from fleet.traffic.planner import PlanRequest
from wms.layout.distances import UNREACHABLE, DistanceTables


def test_unit_tables_match_floor_tables(dead_end_floor) -> None:
    """Unit-cost rows equal wms.layout.DistanceTables (distance is symmetric there)."""
    graph = FloorGraph(dead_end_floor)
    tables = GoalDistances(graph, capacity=4)
    reference = DistanceTables(dead_end_floor)
    goals = np.arange(graph.size)
    slots = tables.slots(goals)  # more goals than capacity: the pool grows
    for goal, slot in zip(goals.tolist(), slots.tolist(), strict=True):
        ref = reference.from_cell(divmod(int(graph.cell_of[goal]), graph.width))
        assert (tables.pool[slot] == ref.ravel()[graph.cell_of]).all()


def test_lanes_make_the_wrong_way_dearer() -> None:
    """On a lane, driving with it is cheaper than against it; both stay finite."""
    graph = FloorGraph(np.ones((2, 6), dtype=bool))
    costs = lane_costs(graph, LaneParams(along=1, against=10))
    tables = GoalDistances(graph, costs)
    west_end, east_end = 0, 5  # row 0 runs east
    east_slot, west_slot = tables.slots(np.array([east_end, west_end]))
    assert tables.pool[east_slot, west_end] == 5  # 5 moves with the lane
    assert 5 < tables.pool[west_slot, east_end] < 50  # round by row 1, not against


def test_blocking_a_cell_recomputes() -> None:
    """Blocking cells invalidates the tables: a cut-off goal becomes unreachable."""
    graph = FloorGraph(np.ones((1, 4), dtype=bool))
    tables = GoalDistances(graph)
    (slot,) = tables.slots(np.array([3]))
    assert tables.pool[slot, 0] == 3
    graph.set_blocked(np.array([2]))
    (slot,) = tables.slots(np.array([3]))
    assert tables.pool[slot, 0] == tables.unreachable
    assert UNREACHABLE > 0


def test_congestion_raises_costs_of_crowded_cells() -> None:
    """With congestion on, a crowded row becomes dearer and its stale tables are refreshed."""
    nav = np.ones((3, 8), dtype=bool)
    planner = make_guided(nav, congestion=CongestionParams(weight=2.0, period=1, refresh=8))
    distances = planner.distances
    (slot,) = distances.slots(np.array([7]))
    before = int(distances.pool[slot, 0])
    crowd = np.arange(1, 7)  # robots parked along row 0
    for _ in range(30):
        planner.plan(PlanRequest(cells=crowd, goals=crowd))
    (slot,) = distances.slots(np.array([7]))
    assert distances.version > 0 and int(distances.pool[slot, 0]) > before


def test_reserve_allocates_rows_up_front(dead_end_floor) -> None:
    """Reserved rows are used before the pool ever grows (no mid-run copy)."""
    graph = FloorGraph(dead_end_floor)
    tables = GoalDistances(graph, capacity=4)
    tables.reserve(20)
    pool = tables.pool
    tables.slots(np.arange(20))
    assert tables.pool is pool and pool.shape[0] == 20
