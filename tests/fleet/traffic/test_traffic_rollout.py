"""Rollout: k steps ahead, conflict-free, and invisible to the planner's next plan."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleet.traffic.guided import CongestionParams, make_guided
from fleet.traffic.planner import ActionModel, PlanRequest
from fleet.traffic.registry import make_planner, planner_names
from tests.fleet.traffic.helpers import assert_legal_step, random_fleet, scenarios


def _requests(nav, count, seed, steps):
    """A seeded stream of (goals, held) per step for ``count`` robots on ``nav``."""
    rng, free, cells, heads = random_fleet(nav, count, seed)
    plan = [(rng.choice(free, count), rng.random(count) < 0.2) for _ in range(steps)]
    return cells, heads, plan


def _assert_same_plans_with_and_without_rollouts(make, nav, count, seed, ahead=4, steps=8):
    cells, heads, stream = _requests(nav, count, seed, steps)
    alone, rolled = make(), make()
    for step, (goals, held) in enumerate(stream):
        request = PlanRequest(cells=cells, goals=goals, headings=heads, held=held)
        ahead_of = rolled.rollout(request, ahead)
        assert ahead_of.cells.shape == (ahead + 1, count)
        assert (ahead_of.cells[0] == cells).all()
        for t in range(ahead):
            heads_ahead = ahead_of.headings
            assert_legal_step(
                nav,
                ahead_of.cells[t],
                ahead_of.cells[t + 1],
                rolled.model,
                None if heads_ahead is None else heads_ahead[t],
                None if heads_ahead is None else heads_ahead[t + 1],
                step=t,
            )
        expected = alone.plan(request)
        got = rolled.plan(request)
        assert (got.cells == expected.cells).all(), step
        if expected.headings is not None:
            assert (got.headings == expected.headings).all(), step
        cells = np.asarray(expected.cells)
        if expected.headings is not None:
            heads = np.asarray(expected.headings)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.sampled_from(planner_names()), st.sampled_from(list(ActionModel)))
def test_rollout_is_conflict_free_and_leaves_the_next_plan_unchanged(scenario, name, model):
    """Random floors: every rollout step passes the checker, and plans interleaved with
    rollouts equal the plans of a twin planner that never rolled out (same seed)."""
    nav, count, seed = scenario
    _assert_same_plans_with_and_without_rollouts(
        lambda: make_planner(name, nav, model, seed), nav, count, seed
    )


def test_rollout_leaves_congestion_memory_and_stale_tables_alone(dead_end_floor) -> None:
    """With congestion-aware costs (tables re-derived every 2 steps), rollouts still do not
    change the plans that follow."""
    congestion = CongestionParams(weight=3.0, period=2, refresh=2)
    _assert_same_plans_with_and_without_rollouts(
        lambda: make_guided(dead_end_floor, seed=5, congestion=congestion),
        dead_end_floor,
        count=10,
        seed=5,
        ahead=6,
        steps=20,
    )


def test_rollout_of_zero_steps_is_the_request_and_negative_is_refused() -> None:
    """Zero steps ahead gives just the request's cells; a negative count is a ValueError."""
    planner = make_planner("guided", np.ones((2, 3), dtype=bool), ActionModel.ROTATION)
    request = PlanRequest(cells=np.array([0, 5]), goals=np.array([5, 0]), headings=np.array([1, 3]))
    ahead = planner.rollout(request, 0)
    assert ahead.cells.tolist() == [[0, 5]] and ahead.headings.tolist() == [[1, 3]]
    with pytest.raises(ValueError, match="steps"):
        planner.rollout(request, -1)
