"""Distance-to-goal tables: plain, lane-weighted, congestion-aware, dynamic blocks."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from fleet.traffic.distances import PREFETCH_BATCH, GoalDistances
from fleet.traffic.graph import FloorGraph
from fleet.traffic.guided import CongestionParams, LaneParams, lane_costs, make_guided
from fleet.traffic.planner import PlanRequest
from tests.fleet.traffic.conftest import DEAD_ENDS, floor_of
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


def test_path_descends_with_a_fixed_tie_break() -> None:
    """On an open 3x3 floor the path from a corner to the opposite one is a shortest path
    whose ties go to the lowest direction (north, east, south, west): east first."""
    graph = FloorGraph(np.ones((3, 3), dtype=bool))
    tables = GoalDistances(graph)
    assert tables.paths(np.array([0, 8]), np.array([8, 8]), 6).tolist() == [
        [0, 1, 2, 5, 8, -1],
        [8, -1, -1, -1, -1, -1],
    ]
    assert tables.paths(np.array([0]), np.array([8]), 3).tolist() == [[0, 1, 2]]


def test_path_goes_round_blocked_cells_and_stops_when_cut_off(make_floor) -> None:
    """A path never enters a blocked cell; a goal cut off by blocks leaves only the start."""
    graph = FloorGraph(make_floor([".....", ".....", "....."]))
    tables = GoalDistances(graph)
    graph.set_blocked(np.array([2, 7]))  # column 2, rows 0 and 1: pass by row 2
    path = tables.paths(np.array([0]), np.array([4]), 20)[0]
    path = path[path >= 0].tolist()
    assert path[0] == 0 and path[-1] == 4 and len(path) == 9
    assert not {2, 7} & set(path)
    graph.set_blocked(np.array([2, 7, 12]))
    assert tables.paths(np.array([0]), np.array([4]), 5).tolist() == [[0, -1, -1, -1, -1]]


def test_planner_paths_follow_its_lane_tables(dead_end_floor) -> None:
    """A guided planner's horizon path is legal and each step lowers the lane distance by
    exactly that move's cost (a shortest path on the one-way tables, not the plain floor)."""
    planner = make_guided(dead_end_floor, seed=0)
    graph, tables = planner.graph, planner.distances
    free = graph.cell_of
    rng = np.random.default_rng(3)
    picked = rng.choice(free, 13, replace=False)
    cells, goals, wall = picked[:12], rng.choice(free, 12), int(picked[12])
    request = PlanRequest(cells=cells, goals=goals, blocked=np.array([wall]))
    paths = planner.paths(request, 40)
    for cell, goal, path in zip(cells.tolist(), goals.tolist(), paths, strict=True):
        nodes = graph.node_of[path[path >= 0]]
        assert nodes[0] == graph.node_of[cell] and wall not in path
        (slot,) = tables.slots(np.array([graph.node_of[goal]]))
        for here, there in itertools.pairwise(nodes.tolist()):
            direction = int(np.flatnonzero(graph.neighbours[here] == there)[0])
            drop = int(tables.pool[slot, here]) - int(tables.pool[slot, there])
            assert drop == tables.costs[here, direction]
        assert nodes[-1] == graph.node_of[goal] or tables.pool[slot, nodes[0]] >= tables.unreachable


def fresh_row(graph: FloorGraph, costs: np.ndarray, goal: int) -> np.ndarray:
    """The table of ``goal`` from a new, empty pool."""
    tables = GoalDistances(graph, costs)
    (slot,) = tables.slots(np.array([goal]))
    return tables.pool[slot].copy()


@settings(max_examples=25, deadline=None)
@given(
    requests=st.lists(st.lists(st.integers(0, 31), min_size=1, max_size=6), max_size=25),
    prefetches=st.lists(st.lists(st.integers(-1, 31), max_size=8), max_size=25),
    capacity=st.integers(1, 8),
)
def test_eviction_and_prefetch_keep_tables_identical_to_fresh_ones(
    requests, prefetches, capacity
) -> None:
    """Whatever goals come and go through a small LRU pool, and whatever is prefetched
    between steps, every row a `slots` call returns is the fresh table of its goal, and
    a prefetch never evicts a goal of the last `slots` call."""
    graph = FloorGraph(floor_of(DEAD_ENDS))
    costs = lane_costs(graph, LaneParams())
    tables = GoalDistances(graph, costs, capacity=capacity)
    tables.reserve(capacity)
    fresh = {goal: fresh_row(graph, costs, goal) for goal in range(32)}
    for goals, ahead in itertools.zip_longest(requests, prefetches, fillvalue=[]):
        if goals:
            rows = tables.slots(np.array(goals))
            for goal, row in zip(goals, rows.tolist(), strict=True):
                assert (tables.pool[row] == fresh[goal]).all()
            before = {goal: int(tables._slot_of_goal[goal]) for goal in goals}
        done = tables.prefetch(np.array(ahead, dtype=np.int64), lambda: False)
        assert 0 <= done <= len(ahead)
        assert tables.cached(np.array([g for g in ahead[:done] if g >= 0], dtype=np.int64)).all()
        if goals:  # rows in use kept their slot and their values
            for goal, slot in before.items():
                assert tables._slot_of_goal[goal] == slot
                assert (tables.pool[slot] == fresh[goal]).all()


def test_prefetch_stops_at_the_deadline_and_resumes() -> None:
    """``until`` is asked before every batch: a deadline already passed computes nothing,
    one that passes after the first batch stops there; the count says what is ready."""
    graph = FloorGraph(np.ones((4, 12), dtype=bool))
    tables = GoalDistances(graph)
    tables.reserve(graph.size)  # prefetching never grows the pool
    goals = np.arange(12)
    assert tables.prefetch(goals, lambda: True) == 0 and tables.computed == 0
    calls = iter([False, True])
    done = tables.prefetch(goals, lambda: next(calls))
    assert done == PREFETCH_BATCH and tables.computed == PREFETCH_BATCH
    assert tables.prefetch(goals, lambda: False) == goals.size
    assert tables.computed == goals.size
    assert tables.prefetch(goals, lambda: True) == goals.size  # all cached: nothing to do
