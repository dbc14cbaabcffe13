"""Windowed planning (rotation model): every window conflict-free, clean fallback at the
deadline, legal rotation moves on random floors checked by the independent checker."""

from __future__ import annotations

import time

import numpy as np
from hypothesis import HealthCheck, given, settings

from fleet.traffic.check import check_step, validate_log
from fleet.traffic.graph import row_col
from fleet.traffic.lifelong import RandomTasks, random_starts, run_lifelong
from fleet.traffic.planner import ActionModel, PlanRequest
from fleet.traffic.window import WAIT, WindowParams, make_windowed, operations
from tests.fleet.traffic.helpers import SteppingClock, random_fleet, scenarios


def assert_window_conflict_free(nav, nodes, headings, planner) -> None:
    """Every row of the window follows from the one before by one legal rotation step."""
    width = nav.shape[1]
    cells = planner.graph.cells(nodes.reshape(-1)).reshape(nodes.shape)
    for t in range(cells.shape[0] - 1):
        found = check_step(
            nav,
            row_col(cells[t], width),
            row_col(cells[t + 1], width),
            step=t,
            model=ActionModel.ROTATION,
            headings_before=headings[t].astype(np.int64),
            headings_after=headings[t + 1].astype(np.int64),
        )
        assert found == [], found[:3]


def test_operations_library() -> None:
    ops = operations(3)
    assert ops.shape[1] == 3 and (ops[-1] == WAIT).all()
    assert len({tuple(op) for op in ops.tolist()}) == len(ops)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_window_never_conflicts(case) -> None:
    """Whole windows (not only the executed first step), several steps in a row, some
    robots held: every row pair passes the independent checker."""
    nav, count, seed = case
    rng, free, cells, heads = random_fleet(nav, count, seed)
    planner = make_windowed(nav, ActionModel.ROTATION, seed)
    for _ in range(4):
        goals = rng.choice(free, count)
        goals[rng.random(count) < 0.2] = -1  # some robots without a goal
        held = rng.random(count) < 0.15
        request = PlanRequest(cells=cells, goals=goals, headings=heads, held=held)
        window = planner.plan_window(request)
        assert window is not None
        assert_window_conflict_free(nav, window.nodes, window.headings, planner)
        assert (window.nodes[:, held] == window.nodes[0, held]).all()
        cells = planner.graph.cells(window.nodes[1])
        heads = window.headings[1].astype(np.int64)


def test_falls_back_cleanly_at_the_deadline() -> None:
    """A clock that runs out mid-search: the step comes from the one-step planner, is
    legal, and the next steps keep working (no state left half-planned)."""
    nav = np.ones((8, 10), dtype=bool)
    nav[2:6:2, 1:9] = False
    free = np.flatnonzero(nav.ravel())
    starts = random_starts(nav, 20, 3)
    slow = make_windowed(
        nav, ActionModel.ROTATION, 3, WindowParams(budget_ms=1.0), clock=SteppingClock(1.0)
    )
    fast = make_windowed(nav, ActionModel.ROTATION, 3, clock=SteppingClock(0.0))
    for planner in (slow, fast):
        heads = np.zeros(20, dtype=np.int64)
        result = run_lifelong(
            planner, nav, starts, RandomTasks(free, 3), 60, time.perf_counter, headings=heads
        )
        assert result.conflicts == 0
    assert slow.fallbacks == 60 and slow.windows == 0
    assert fast.fallbacks == 0 and fast.windows == 60


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_rotation_runs_are_legal_on_random_floors(case) -> None:
    """Lifelong runs on random floors: the plan log (cells and headings) validates."""
    nav, count, seed = case
    free = np.flatnonzero(nav.ravel())
    planner = make_windowed(nav, ActionModel.ROTATION, seed)
    starts = random_starts(nav, count, seed)
    heads = np.random.default_rng(seed).integers(0, 4, count)
    result = run_lifelong(
        planner, nav, starts, RandomTasks(free, seed), 40, time.perf_counter, headings=heads
    )
    assert result.conflicts == 0
    found = validate_log(nav, result.positions, result.goals, result.completions, result.headings)
    assert found == []


def test_single_robot_reaches_goals_through_turns() -> None:
    nav = np.ones((5, 6), dtype=bool)
    free = np.flatnonzero(nav.ravel())
    planner = make_windowed(nav, ActionModel.ROTATION, 0)
    result = run_lifelong(
        planner,
        nav,
        np.array([0]),
        RandomTasks(free, 0),
        200,
        time.perf_counter,
        headings=np.array([0]),
    )
    assert result.completed >= 20 and result.conflicts == 0
