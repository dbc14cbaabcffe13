"""Windowed repair (`lns`): whole windows stay conflict-free, the search is optimal, the
repair never makes a window worse, and the deadline falls back to the one-step plan."""

from __future__ import annotations

import itertools
import time

import numpy as np
from hypothesis import HealthCheck, given, settings

from fleet.traffic.check import check_step
from fleet.traffic.graph import FloorGraph, row_col
from fleet.traffic.guided import GUIDED_OPTIONS, CongestionParams, GuidedPlanner
from fleet.traffic.lifelong import RandomTasks, random_starts, run_lifelong
from fleet.traffic.planner import ActionModel, PlanRequest
from fleet.traffic.repair import FREE, RepairParams, WindowRepair, make_repair
from tests.fleet.traffic.helpers import SteppingClock, random_fleet, scenarios


def window_of(nav: np.ndarray, cells, goals, held, seed: int, window: int):
    """A PIBT rollout as the first window, and the `WindowRepair` over it."""
    planner = make_repair(nav, seed=seed, params=RepairParams(window=window))
    request = PlanRequest(cells=cells, goals=goals, held=held)
    rollout = planner.rollout(request, window)
    graph = planner.graph
    nodes = graph.node_of[rollout.cells]
    goal_nodes = np.where(goals >= 0, graph.node_of[np.maximum(goals, 0)], -1)
    slots = planner._slots(np.where(goal_nodes >= 0, goal_nodes, nodes[0]), goals < 0)
    pool = planner.distances.pool
    fixed = (goal_nodes < 0) | (held if held is not None else False)
    repair = WindowRepair(
        nodes.T.tolist(),
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


def assert_window_legal(nav: np.ndarray, graph: FloorGraph, paths: list[list[int]]) -> None:
    nodes = np.array(paths, dtype=np.int64).T  # [W+1, N]
    width = nav.shape[1]
    for t in range(nodes.shape[0] - 1):
        before = row_col(graph.cells(nodes[t]), width)
        after = row_col(graph.cells(nodes[t + 1]), width)
        assert check_step(nav, before, after, step=t) == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_repair_never_conflicts(case) -> None:
    """Random floors, robots without goals and held robots: after the repair every row
    pair of the window passes the independent checker, fixed robots keep their paths,
    and no robot's path got dearer in total."""
    nav, count, seed = case
    rng, free, cells, _ = random_fleet(nav, count, seed)
    goals = rng.choice(free, count)
    goals[rng.random(count) < 0.2] = -1
    held = rng.random(count) < 0.15
    planner, repair = window_of(nav, cells, goals, held, seed, window=5)
    before_paths = [list(p) for p in repair.paths]
    before = sum(repair.cost)
    repair.repair(60, 4, 16, np.random.default_rng(seed))
    assert_window_legal(nav, planner.graph, repair.paths)
    assert sum(repair.cost) <= before
    for robot in np.flatnonzero(held | (goals < 0)).tolist():
        assert repair.paths[robot] == before_paths[robot]
    assert all(repair.cost[r] == repair.cost_of(r, p) for r, p in enumerate(repair.paths))
    # the reservation table is exactly the paths
    table = [[FREE] * planner.graph.size for _ in range(len(repair.paths[0]))]
    for robot, path in enumerate(repair.paths):
        for t, node in enumerate(path):
            table[t][node] = robot
    assert table == repair.occ


def brute_force(repair: WindowRepair, robot: int) -> int | None:
    """The least `cost_of` over every action sequence that avoids the others."""
    start = repair.paths[robot][0]
    best = None
    for actions in itertools.product(range(5), repeat=repair.window):
        path, here = [start], start
        for t, way in enumerate(actions):
            there = here if way == 4 else repair.neighbours[here][way]
            if there < 0 or repair.closed[there] or repair.occ[t + 1][there] != FREE:
                break
            other = repair.occ[t][there]
            if there != here and other != FREE and repair.occ[t + 1][here] == other:
                break
            path.append(there)
            here = there
        else:
            cost = repair.cost_of(robot, path)
            best = cost if best is None else min(best, cost)
    return best


def test_search_finds_the_cheapest_path() -> None:
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
        _, repair = window_of(nav, cells, goals, None, case, window=4)
        robot = 0
        if repair.goals[robot] < 0:
            continue
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
    params = RepairParams(budget_ms=1.0)
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


def test_rotation_model_is_guided() -> None:
    """In the rotation model `lns` plans exactly as `guided` does."""
    from fleet.traffic.guided import make_guided

    nav = np.ones((5, 6), dtype=bool)
    free = np.flatnonzero(nav.ravel())
    starts = random_starts(nav, 8, 2)
    heads = np.zeros(8, dtype=np.int64)
    runs = []
    for make in (make_repair, make_guided):
        planner = make(nav, ActionModel.ROTATION, 2)
        tasks = RandomTasks(free, 2)
        run = run_lifelong(planner, nav, starts, tasks, 40, time.perf_counter, headings=heads)
        runs.append(run)
    assert runs[0].completions.tolist() == runs[1].completions.tolist()
