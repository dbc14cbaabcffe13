"""Planners: every step legal and conflict-free on random small floors (property)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleet.traffic.planner import ActionModel, PlanRequest
from fleet.traffic.registry import make_planner, planner_names
from tests.fleet.traffic.helpers import assert_legal_step, random_fleet, scenarios


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    scenarios(),
    st.sampled_from(planner_names()),
    st.sampled_from(list(ActionModel)),
)
def test_every_step_is_legal(scenario, name, model) -> None:
    """Random floors, robots and goals (new goals every step): no conflict, no illegal move."""
    nav, count, seed = scenario
    rng, free, cells, heads = random_fleet(nav, count, seed)
    planner = make_planner(name, nav, model, seed)
    for step in range(12):
        goals = np.where(rng.random(count) < 0.8, rng.choice(free, count), -1)
        result = planner.plan(PlanRequest(cells=cells, goals=goals, headings=heads))
        new_heads = result.headings if model is ActionModel.ROTATION else None
        assert_legal_step(nav, cells, result.cells, model, heads, new_heads, step)
        cells = np.asarray(result.cells)
        if new_heads is not None:
            heads = np.asarray(new_heads)


def test_robots_reach_goals_on_open_floor() -> None:
    """On an open floor each planner brings every robot to its goal."""
    nav = np.ones((6, 6), dtype=bool)
    for name in planner_names():
        planner = make_planner(name, nav)
        cells = np.array([0, 5, 30, 35])
        goals = np.array([35, 30, 5, 0])
        for _ in range(30):
            cells = planner.plan(PlanRequest(cells=cells, goals=goals)).cells
        assert cells.tolist() == goals.tolist(), name


def test_blocked_cells_are_avoided() -> None:
    """A cell blocked at run time is never entered and the robot goes round it."""
    nav = np.ones((3, 5), dtype=bool)
    for name in planner_names():
        planner = make_planner(name, nav)
        cells, goals = np.array([5]), np.array([9])
        seen = []
        for _ in range(12):
            cells = planner.plan(PlanRequest(cells=cells, goals=goals, blocked=np.array([7]))).cells
            seen.append(int(cells[0]))
        assert 7 not in seen and cells[0] == 9, (name, seen)


def test_rotation_turns_then_moves() -> None:
    """Rotation model: a robot facing away turns (in place) before it drives forward."""
    nav = np.ones((1, 4), dtype=bool)
    planner = make_planner("guided", nav, ActionModel.ROTATION)
    cells, heads = np.array([0]), np.array([3])  # facing west, goal east
    trace = []
    for _ in range(5):
        result = planner.plan(PlanRequest(cells=cells, goals=np.array([3]), headings=heads))
        cells, heads = result.cells, result.headings
        trace.append((int(cells[0]), int(heads[0])))
    assert trace[:2] == [(0, 0), (0, 1)] or trace[:2] == [(0, 2), (0, 1)]
    assert trace[2:] == [(1, 1), (2, 1), (3, 1)]


def test_unknown_planner_is_one_line_error() -> None:
    """An unknown planner name raises an InputError naming the known ones."""
    import pytest

    from wms.errors import InputError

    with pytest.raises(InputError, match="known: "):
        make_planner("nope", np.ones((2, 2), dtype=bool))


def test_rotation_model_has_its_own_stall_threshold() -> None:
    """The stall watchdog boosts a robot after ``rotation_stall_steps`` in the rotation model
    and after ``stall_steps`` in the 4-connected one."""
    from fleet.traffic.distances import GoalDistances
    from fleet.traffic.graph import FloorGraph
    from fleet.traffic.pibt import BOOST, PIBTOptions, PIBTPlanner

    graph = FloorGraph(np.ones((1, 4), dtype=bool))
    options = PIBTOptions(stall_steps=4, rotation_stall_steps=50)
    boosted = {}
    for model in ActionModel:
        planner = PIBTPlanner(
            graph,
            GoalDistances(graph, np.ones((graph.size, 4), np.int64)),
            model=model,
            options=options,
        )
        ids, positions, goals = np.array([0]), np.array([0]), np.array([3])
        slots = planner.distances.slots(goals)
        for _ in range(10):  # never moves: no progress for 10 steps
            priority = planner._priorities(ids, positions, goals, slots, None)
        boosted[model] = bool(priority[0] >= BOOST)
    assert boosted == {ActionModel.GRID4: True, ActionModel.ROTATION: False}


def test_straight_on_tie_break_keeps_the_direction() -> None:
    """With `PIBTOptions.straight_bonus` above the random tie-break, a robot with two
    equally short ways on keeps the direction of its last move; without it, some seed
    turns."""
    from fleet.traffic.distances import GoalDistances
    from fleet.traffic.graph import FloorGraph
    from fleet.traffic.pibt import PIBTOptions, PIBTPlanner

    nav = np.ones((5, 5), dtype=bool)
    goal = np.array([4 * 5 + 4])  # from (0, 0) every monotone path is shortest

    def turns(options: PIBTOptions, seed: int) -> bool:
        graph = FloorGraph(nav)
        planner = PIBTPlanner(graph, GoalDistances(graph), options=options, seed=seed)
        cells = [np.array([0])]
        for _ in range(3):
            cells.append(planner.plan(PlanRequest(cells=cells[-1], goals=goal)).cells)
        steps = np.diff(np.concatenate(cells))
        return bool(len(set(steps[:3].tolist())) > 1)  # +1 east, +5 south

    assert not any(turns(PIBTOptions(straight_bonus=0.6), seed) for seed in range(12))
    assert any(turns(PIBTOptions(), seed) for seed in range(12))


def test_congestion_costs_are_the_rotation_models_default() -> None:
    """`guided` follows congestion in the rotation model only (docs/traffic.md)."""
    from fleet.traffic.guided import ROTATION_CONGESTION

    nav = np.ones((4, 4), dtype=bool)
    rotation = make_planner("guided", nav, ActionModel.ROTATION)
    grid4 = make_planner("guided", nav, ActionModel.GRID4)
    assert rotation._congestion == ROTATION_CONGESTION and ROTATION_CONGESTION.weight > 0
    assert grid4._congestion.weight == 0


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_rotation_guided_runs_validate_from_the_log(case) -> None:
    """Lifelong rotation runs of `guided` with its congestion-aware costs (tables go stale
    and are refreshed mid-run): the independent checker validates the whole plan log,
    headings included, and no step was refused."""
    import time

    from fleet.traffic.check import validate_log
    from fleet.traffic.lifelong import RandomTasks, random_starts, run_lifelong

    nav, count, seed = case
    free = np.flatnonzero(nav.ravel())
    planner = make_planner("guided", nav, ActionModel.ROTATION, seed)
    starts = random_starts(nav, count, seed)
    heads = np.random.default_rng(seed).integers(0, 4, count)
    result = run_lifelong(
        planner, nav, starts, RandomTasks(free, seed), 60, time.perf_counter, headings=heads
    )
    assert result.conflicts == 0
    found = validate_log(nav, result.positions, result.goals, result.completions, result.headings)
    assert found == []


def test_stopped_congestion_counts_only_robots_that_stood_still() -> None:
    """`CongestionParams.stopped`: a cell's congestion grows only while a robot stands on
    it from one step to the next, so flowing lanes stay cheap and jams get dearer."""
    from fleet.traffic.guided import CongestionParams, make_guided

    nav = np.ones((1, 6), dtype=bool)
    planner = make_guided(
        nav, ActionModel.ROTATION, congestion=CongestionParams(weight=1.0, stopped=True)
    )
    cells, heads = np.array([0, 5]), np.array([1, 3])
    goals = np.array([3, 5])  # robot 0 drives east, robot 1 sits on its goal
    for _ in range(4):
        result = planner.plan(PlanRequest(cells=cells, goals=goals, headings=heads))
        cells, heads = np.asarray(result.cells), np.asarray(result.headings)
    occupancy = planner._occupancy
    assert occupancy[planner.graph.node_of[5]] > 0
    assert occupancy[planner.graph.node_of[0]] == 0 and occupancy[planner.graph.node_of[1]] == 0
