"""Held robots: immovable for the step, never pushed, memory and goal tables kept."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleet.traffic.floor_state import FloorState
from fleet.traffic.planner import ActionModel, PlanRequest
from fleet.traffic.registry import make_planner, planner_names
from tests.fleet.traffic.helpers import assert_legal_step, random_fleet, scenarios


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.sampled_from(planner_names()), st.sampled_from(list(ActionModel)))
def test_random_held_masks_never_conflict_and_held_robots_never_move(scenario, name, model):
    """Random floors, goals and held masks: every step passes the checker, and every held
    robot keeps its cell and heading."""
    nav, count, seed = scenario
    rng, free, cells, heads = random_fleet(nav, count, seed)
    planner = make_planner(name, nav, model, seed)
    goals = rng.choice(free, count)
    for step in range(12):
        goals = np.where(rng.random(count) < 0.2, rng.choice(free, count), goals)
        held = rng.random(count) < rng.choice([0.0, 0.2, 0.5, 1.0])
        request = PlanRequest(cells=cells, goals=goals, headings=heads, held=held)
        result = planner.plan(request)
        new_heads = result.headings if model is ActionModel.ROTATION else None
        assert_legal_step(nav, cells, result.cells, model, heads, new_heads, step)
        assert (result.cells[held] == cells[held]).all()
        if new_heads is not None:
            assert (new_heads[held] == heads[held]).all()
            heads = np.asarray(new_heads)
        cells = np.asarray(result.cells)


def _corridor_run(planner, cells, goals, heads, steps, held=None):
    """``steps`` plans in a row; returns the cells after each step and the last headings."""
    trace = []
    for _ in range(steps):
        result = planner.plan(PlanRequest(cells=cells, goals=goals, headings=heads, held=held))
        cells = result.cells
        heads = result.headings if result.headings is not None else heads
        trace.append(cells.tolist())
    return trace, cells, heads


@pytest.mark.parametrize("model", list(ActionModel))
@pytest.mark.parametrize("name", planner_names())
def test_held_robot_is_not_pushed_and_progress_resumes_on_release(name, model) -> None:
    """In a one-wide corridor the robot behind pushes a robot parked on its goal along, but
    not a held one; once released, both reach their goals."""
    nav = np.ones((1, 5), dtype=bool)
    start, goals, heads = np.array([0, 1]), np.array([3, 1]), np.array([1, 1])
    pushed, _, _ = _corridor_run(make_planner(name, nav, model), start, goals, heads, 10)
    assert any(cells[1] != 1 for cells in pushed)  # without the hold it is pushed
    planner = make_planner(name, nav, model)
    held = np.array([False, True])
    trace, cells, heads = _corridor_run(planner, start, goals, heads, 10, held)
    assert all(cells == [0, 1] for cells in trace)
    _, cells, _ = _corridor_run(planner, cells, np.array([3, 4]), heads, 20)
    assert cells.tolist() == [3, 4]


def test_holding_keeps_goal_tables_and_waiting_memory() -> None:
    """Holding and releasing a robot recomputes no goal table and leaves its waiting time
    and stall counter as they were before the hold."""
    nav = np.ones((4, 6), dtype=bool)
    for name in planner_names():
        planner = make_planner(name, nav)
        cells, goals = np.array([0, 5, 18]), np.array([23, 18, 5])
        held = np.array([False, True, False])
        cells = planner.plan(PlanRequest(cells=cells, goals=goals)).cells
        computed = planner.distances.computed
        memory = planner._memory
        before = (int(memory.elapsed[1]), int(memory.stall[1]), int(memory.goal[1]))
        for _ in range(5):
            cells = planner.plan(PlanRequest(cells=cells, goals=goals, held=held)).cells
        memory = planner._memory
        assert (int(memory.elapsed[1]), int(memory.stall[1]), int(memory.goal[1])) == before
        planner.plan(PlanRequest(cells=cells, goals=goals))
        assert planner.distances.computed == computed, name


def test_held_mask_of_the_wrong_length_is_refused() -> None:
    """A held mask that does not match the robots is a ValueError, not a silent broadcast."""
    planner = make_planner("pibt", np.ones((2, 2), dtype=bool))
    with pytest.raises(ValueError, match="held"):
        planner.plan(PlanRequest(cells=np.array([0, 3]), goals=np.array([3, 0]), held=[True]))


@pytest.mark.parametrize("model", list(ActionModel))
def test_robots_lagging_at_random_keep_reaching_goals(make_floor, model) -> None:
    """The manager's loop on a FloorState: each step a random 30% of robots lag (held); every
    step stays legal, held robots stay put, and every robot keeps reaching new goals."""
    nav = make_floor(["........", ".TT..TT.", "........", ".TT..TT.", "........"])
    count, steps = 8, 1500
    rng, free, cells, heads = random_fleet(nav, count, 4)
    floor = FloorState(nav, cells, heads)
    planner = make_planner("guided", nav, model, 4)
    goals = rng.choice(free, count)
    reached = np.zeros(count, dtype=np.int64)
    for step in range(steps):
        held = rng.random(count) < 0.3
        request = floor.plan_request(goals, rotation=model is ActionModel.ROTATION, held=held)
        result = planner.plan(request)
        assert_legal_step(
            nav, request.cells, result.cells, model, request.headings, result.headings, step
        )
        assert (result.cells[held] == request.cells[held]).all()
        floor.move(request.robot_ids, result.cells, result.headings)
        done = floor.cells == goals
        reached += done
        goals = np.where(done, rng.choice(free, count), goals)
    assert reached.min() >= 30, reached
