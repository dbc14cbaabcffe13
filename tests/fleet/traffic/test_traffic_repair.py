"""Windowed repair (`lns`): whole windows stay conflict-free, the search is optimal, the
repair never makes a window worse, and the deadline falls back to the one-step plan."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleet.traffic.check import check_step
from fleet.traffic.graph import FloorGraph, row_col
from fleet.traffic.guided import GUIDED_OPTIONS, CongestionParams, GuidedPlanner
from fleet.traffic.lifelong import RandomTasks, random_starts, run_lifelong
from fleet.traffic.planner import ActionModel, PlanRequest
from fleet.traffic.repair import (
    FREE,
    RepairParams,
    TurnWindowRepair,
    WindowRepair,
    make_repair,
)
from tests.fleet.traffic.helpers import SteppingClock, random_fleet, scenarios


def window_of(nav: np.ndarray, cells, goals, held, seed: int, window: int, heads=None):
    """A PIBT rollout as the first window, and the repair over it (the rotation model's
    `TurnWindowRepair` when ``heads`` are given)."""
    rotation = heads is not None
    model = ActionModel.ROTATION if rotation else ActionModel.GRID4
    params = RepairParams(window=window, rotation=rotation)
    planner = make_repair(nav, model, seed=seed, params=params)
    request = PlanRequest(cells=cells, goals=goals, held=held, headings=heads)
    rollout = planner.rollout(request, window)
    graph = planner.graph
    states = graph.node_of[rollout.cells]
    if rotation:
        states = states << 2 | rollout.headings
    goal_nodes = np.where(goals >= 0, graph.node_of[np.maximum(goals, 0)], -1)
    slots = planner._slots(np.where(goal_nodes >= 0, goal_nodes, graph.node_of[cells]), goals < 0)
    pool = planner.distances.pool
    fixed = (goal_nodes < 0) | (held if held is not None else False)
    repair = (TurnWindowRepair if rotation else WindowRepair)(
        states.T.tolist(),
        goal_nodes.tolist(),
        list(map(bool, fixed)),
        lambda r: pool[slots[r]].tolist(),
        lambda r, node: int(pool[slots[r], node]),
        graph.neighbours.tolist(),
        planner.distances.costs.tolist(),
        graph.blocked.tolist(),
        planner.distances.unit,
    )
    return planner, repair


def assert_window_legal(nav: np.ndarray, graph: FloorGraph, repair: WindowRepair) -> None:
    """Every row pair of the window (cells, and headings in the rotation model) passes
    the independent checker."""
    states = np.array(repair.paths, dtype=np.int64).T  # [W+1, N]
    rotation = repair.SHIFT == 2
    nodes = states >> repair.SHIFT
    width = nav.shape[1]
    for t in range(nodes.shape[0] - 1):
        found = check_step(
            nav,
            row_col(graph.cells(nodes[t]), width),
            row_col(graph.cells(nodes[t + 1]), width),
            step=t,
            model=ActionModel.ROTATION if rotation else ActionModel.GRID4,
            headings_before=states[t] & 3 if rotation else None,
            headings_after=states[t + 1] & 3 if rotation else None,
        )
        assert found == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.booleans())
def test_repair_never_conflicts(case, rotation) -> None:
    """Random floors, robots without goals and held robots, both action models: after
    the repair every row pair of the window passes the independent checker, fixed
    robots keep their paths, and the window's total cost did not rise."""
    nav, count, seed = case
    rng, free, cells, heads = random_fleet(nav, count, seed)
    goals = rng.choice(free, count)
    goals[rng.random(count) < 0.2] = -1
    held = rng.random(count) < 0.15
    planner, repair = window_of(
        nav, cells, goals, held, seed, window=5, heads=heads if rotation else None
    )
    before_paths = [list(p) for p in repair.paths]
    before = sum(repair.cost)
    repair.repair(60, 4, 16, np.random.default_rng(seed))
    assert_window_legal(nav, planner.graph, repair)
    assert sum(repair.cost) <= before
    for robot in np.flatnonzero(held | (goals < 0)).tolist():
        assert repair.paths[robot] == before_paths[robot]
    assert all(repair.cost[r] == repair.cost_of(r, p) for r, p in enumerate(repair.paths))
    # the reservation table is exactly the paths
    table = [[FREE] * planner.graph.size for _ in range(len(repair.paths[0]))]
    for robot, path in enumerate(repair.paths):
        for t, state in enumerate(path):
            table[t][state >> repair.SHIFT] = robot
    assert table == repair.occ


def brute_force(repair: WindowRepair, robot: int) -> int | None:
    """The least `cost_of` over every action sequence that avoids the others (grid4:
    wait or one of four moves; rotation: forward, a quarter turn either way, wait)."""
    rotation = repair.SHIFT == 2
    start = repair.paths[robot][0]
    best = None
    for actions in itertools.product(range(4 if rotation else 5), repeat=repair.window):
        path, state = [start], start
        for t, action in enumerate(actions):
            here = state >> repair.SHIFT
            if rotation:
                heading = state & 3
                if action == 0:
                    there, nxt = repair.neighbours[here][heading], None
                else:
                    turn = {1: 1, 2: 3, 3: 0}[action]
                    there, nxt = here, here << 2 | (heading + turn) & 3
            else:
                there = here if action == 4 else repair.neighbours[here][action]
                nxt = there
            if there < 0 or repair.closed[there] or repair.occ[t + 1][there] != FREE:
                break
            other = repair.occ[t][there]
            if there != here and other != FREE and repair.occ[t + 1][here] == other:
                break
            if nxt is None:
                nxt = there << 2 | state & 3
            path.append(nxt)
            state = nxt
        else:
            cost = repair.cost_of(robot, path)
            best = cost if best is None else min(best, cost)
    return best


@pytest.mark.parametrize("rotation", [False, True])
def test_search_finds_the_cheapest_path(rotation) -> None:
    """On small floors, space-time A* matches a brute force over all action sequences."""
    rng = np.random.default_rng(11)
    checked = 0
    for case in range(25):
        nav = rng.random((4, 5)) > 0.2
        free = np.flatnonzero(nav.ravel())
        if free.size < 4:
            continue
        count = int(rng.integers(2, min(6, free.size) + 1))
        cells = rng.choice(free, count, replace=False)
        goals = rng.choice(free, count)
        heads = rng.integers(0, 4, count) if rotation else None
        _, repair = window_of(nav, cells, goals, None, case, window=4, heads=heads)
        robot = 0
        repair._release(robot, repair.paths[robot])
        found = repair.search(robot)
        expected = brute_force(repair, robot)
        assert (found is None) == (expected is None)
        if found is not None:
            assert found[1] == expected == repair.cost_of(robot, found[0])
            checked += 1
    assert checked >= 10


def test_repair_lets_a_robot_wait_in_a_pocket() -> None:
    """Two robots meet head-on in a corridor with a side pocket: the rollout pushes one
    back; the repaired window is cheaper for the pair."""
    nav = np.zeros((2, 7), dtype=bool)
    nav[0, :] = True
    nav[1, 3] = True  # the pocket
    cells = np.array([0, 6])
    goals = np.array([6, 0])
    _, repair = window_of(nav, cells, goals, None, 0, window=10)
    before = sum(repair.cost)
    repair.repair(50, 2, 2, np.random.default_rng(0))
    assert sum(repair.cost) <= before
    final = [p[-1] for p in repair.paths]
    assert final == [6, 0]  # both arrive within the window


def test_falls_back_cleanly_at_the_deadline() -> None:
    """A clock past the deadline after the rollout: the step is the one-step plan of
    `guided` on the same lanes and seed, exactly, and later steps keep working."""
    nav = np.ones((8, 10), dtype=bool)
    nav[2:6:2, 1:9] = False
    free = np.flatnonzero(nav.ravel())
    starts = random_starts(nav, 20, 3)
    params = RepairParams(budget_ms=1.0, dense_density=1.0)  # soft lanes at any density
    slow = make_repair(nav, seed=3, params=params, clock=SteppingClock(1.0))
    same = GuidedPlanner(
        FloorGraph(nav), params.lanes, CongestionParams(), name="guided",
        model=ActionModel.GRID4, options=GUIDED_OPTIONS, seed=3,
    )  # fmt: skip
    runs = [
        run_lifelong(planner, nav, starts, RandomTasks(free, 3), 60, time.perf_counter)
        for planner in (slow, same)
    ]
    assert runs[0].conflicts == 0 and slow.stats.fallbacks == 60
    assert runs[0].completions.tolist() == runs[1].completions.tolist()
    fast = make_repair(nav, seed=3, clock=SteppingClock(0.0))
    result = run_lifelong(fast, nav, starts, RandomTasks(free, 3), 60, time.perf_counter)
    assert result.conflicts == 0 and fast.stats.fallbacks == 0
    assert fast.stats.neighbourhoods > 0


def test_lifelong_run_is_legal_and_reaches_goals() -> None:
    """A dense little warehouse: every step legal, robots keep finishing tasks."""
    nav = np.ones((9, 12), dtype=bool)
    nav[1:8:3, 1:11] = False
    nav[1:8:3, 6] = True
    free = np.flatnonzero(nav.ravel())
    starts = random_starts(nav, 30, 5)
    planner = make_repair(nav, seed=5, params=RepairParams(iterations=40))
    result = run_lifelong(planner, nav, starts, RandomTasks(free, 5), 150, time.perf_counter)
    assert result.conflicts == 0 and not result.violations
    assert result.completed >= 60
    assert (result.per_robot_completed > 0).all()


def test_rotation_runs_are_legal_and_reach_goals() -> None:
    """The rotation model: every step legal (turns included), robots keep finishing;
    with the repair off, `lns` plans exactly as `guided` does."""
    from fleet.traffic.guided import make_guided

    nav = np.ones((7, 9), dtype=bool)
    nav[1:6:2, 1:8] = False
    nav[1:6:2, 4] = True
    free = np.flatnonzero(nav.ravel())
    starts = random_starts(nav, 14, 2)
    heads = np.zeros(14, dtype=np.int64)
    repaired = make_repair(nav, ActionModel.ROTATION, 2, RepairParams(iterations=40))
    tasks = RandomTasks(free, 2)
    result = run_lifelong(repaired, nav, starts, tasks, 120, time.perf_counter, headings=heads)
    assert result.conflicts == 0 and not result.violations
    assert result.completed >= 30 and repaired.stats.neighbourhoods > 0
    runs = []
    off = RepairParams(rotation=False)
    for planner in (
        make_repair(nav, ActionModel.ROTATION, 2, off),
        make_guided(nav, ActionModel.ROTATION, 2),
    ):
        tasks = RandomTasks(free, 2)
        run = run_lifelong(planner, nav, starts, tasks, 40, time.perf_counter, headings=heads)
        runs.append(run)
    assert runs[0].completions.tolist() == runs[1].completions.tolist()
