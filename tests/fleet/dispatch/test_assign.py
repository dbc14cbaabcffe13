"""Assignment: the hard rules, the refusal reasons, the cost terms, optimality on small cases."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleet.dispatch.assign import (
    Assignment,
    AssignRequest,
    CostWeights,
    EnergyModel,
    FlowAssigner,
    GreedyAssigner,
    RefusalReason,
    RobotOffer,
    TaskOffer,
    assigner_names,
    candidates,
    crowd_cost,
    make_assigner,
    pair_costs,
    total_cost,
)
from fleet.dispatch.distances import FloorDistances
from fleet.dispatch.kinds import RobotKind
from tests.fleet.dispatch.assign_cases import CHARGERS, FLOOR, check_rules, grid, requests
from wms.errors import InputError

OPEN = grid(["." * 12] * 3)
"""Three open rows: distances are Manhattan distances."""

AMR, AGV = RobotKind.AMR, RobotKind.AGV


def robot(rid: str, cell: tuple[int, int], **kw) -> RobotOffer:
    fields = {"kind": AMR, "max_payload_kg": 50.0, "battery_pct": 100.0, **kw}
    return RobotOffer(rid, cell, **fields)


def task(tid: str, cell: tuple[int, int], **kw) -> TaskOffer:
    fields = {"last_cell": cell, "work_cells": 0, **kw}
    return TaskOffer(tid, cell, **fields)


def run(assigner, robots, tasks, floor=OPEN, **kw):
    request = AssignRequest(tuple(robots), tuple(tasks), **kw)
    return request, assigner.assign(request, FloorDistances(floor))


STRATEGIES = [FlowAssigner(), FlowAssigner(k_nearest=1), GreedyAssigner()]


@pytest.mark.parametrize("assigner", STRATEGIES, ids=lambda a: f"{a.name}")
@given(request=requests())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_hard_rules_hold_on_random_requests(assigner, request: AssignRequest) -> None:
    """No task or robot twice; kind, pin, payload, reach and battery always hold; refusals exact."""
    result = assigner.assign(request, FloorDistances(FLOOR))
    check_rules(request, result, FLOOR, free_only=isinstance(assigner, GreedyAssigner))


def brute_force(
    request: AssignRequest, cost: np.ndarray, feasible: np.ndarray
) -> tuple[int, float]:
    """(most tasks assignable, least total cost among those) over every injective matching."""
    best = (0, 0.0)
    n_robots, n_tasks = feasible.shape
    for size in range(1, min(n_robots, n_tasks) + 1):
        for rows in itertools.combinations(range(n_robots), size):
            for cols in itertools.permutations(range(n_tasks), size):
                if all(feasible[r, c] for r, c in zip(rows, cols, strict=True)):
                    value = float(sum(cost[r, c] for r, c in zip(rows, cols, strict=True)))
                    if size > best[0] or (size == best[0] and value < best[1]):
                        best = (size, value)
    return best


def without_holds(request: AssignRequest) -> AssignRequest:
    """The same request with every robot free now and nothing held."""
    return AssignRequest(
        tuple(
            RobotOffer(r.robot_id, r.cell, r.kind, r.max_payload_kg, r.battery_pct)
            for r in request.robots
        ),
        tuple(replace(t, assigned_to=None) for t in request.tasks),
        request.now_s,
        request.seconds_per_cell,
        request.energy,
        request.charger_distance,
    )


@given(request=requests(max_robots=4, max_tasks=4))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_ours_reaches_the_brute_force_optimum_and_greedy_does_not_beat_it(
    request: AssignRequest,
) -> None:
    """Up to 4×4 free robots: ours assigns the most tasks at the least cost; greedy never better."""
    request = without_holds(request)
    distances = FloorDistances(FLOOR)
    found = candidates(request, distances)
    cost = pair_costs(request, found, CostWeights())
    size, optimum = brute_force(request, cost, found.feasible)
    ours = FlowAssigner().assign(request, distances)
    greedy = GreedyAssigner().assign(request, distances)
    assert len(ours.robot_of) == size
    assert total_cost(request, distances, ours) == pytest.approx(optimum, abs=0.01 * size + 1e-9)
    assert len(greedy.robot_of) <= size
    if len(greedy.robot_of) == size:
        assert total_cost(request, distances, greedy) >= optimum - 0.01 * size - 1e-9


@pytest.mark.parametrize("assigner", [FlowAssigner(), GreedyAssigner()], ids=lambda a: a.name)
@pytest.mark.parametrize(
    ("robots", "offer", "reason", "detail"),
    [
        ([], task("t", (0, 3)), RefusalReason.NO_ROBOT, "no robot available"),
        ([robot("a", (0, 0))], task("t", (0, 3), pinned_to="z"), RefusalReason.NO_ROBOT, "robot z"),
        ([robot("a", (0, 0))], task("t", (0, 3), needs=AGV), RefusalReason.KIND, "kind agv"),
        (
            [robot("a", (0, 0)), robot("b", (0, 1), max_payload_kg=60.0)],
            task("t", (0, 3), payload_kg=80.0),
            RefusalReason.PAYLOAD,
            "payload 80 kg exceeds every robot (max 60 kg)",
        ),
        ([robot("a", (0, 0))], task("t", (5, 5)), RefusalReason.UNREACHABLE, "every robot"),
        (
            [robot("a", (0, 0))],
            task("t", (0, 3), work_cells=2**30),
            RefusalReason.UNREACHABLE,
            "not connected",
        ),
        (
            [robot("a", (0, 0), battery_pct=20.0)],
            task("t", (0, 9), work_cells=10),
            RefusalReason.BATTERY,
            "charge",
        ),
    ],
)
def test_a_task_nobody_can_take_is_refused_with_its_reason(
    assigner, robots, offer, reason, detail
) -> None:
    """Each rule that rules out every robot is named, with a one-line detail."""
    _, result = run(
        assigner,
        robots,
        [offer],
        energy=EnergyModel(pct_per_cell=1.0, reserve_pct=5.0),
        charger_distance=FloorDistances(OPEN).table_to_nearest([(0, 0)]),
    )
    assert dict(result.robot_of) == {}
    (refusal,) = result.refused
    assert (refusal.task_id, refusal.reason) == ("t", reason)
    assert detail in refusal.detail


def test_battery_counts_the_way_back_to_a_charger() -> None:
    """A robot that could do the task but not then reach a charger above reserve is not used."""
    distances = FloorDistances(OPEN)
    table = distances.table_to_nearest([(0, 0)])
    energy = EnergyModel(pct_per_cell=1.0, reserve_pct=10.0)
    offer = task("t", (0, 5), last_cell=(0, 8), work_cells=3)
    # empty 5 + work 3 + back 8 = 16 cells: 26 % suffices, 25 % does not.
    for battery, taken in ((26.0, True), (25.0, False)):
        request = AssignRequest(
            (robot("a", (0, 0), battery_pct=battery),),
            (offer,),
            energy=energy,
            charger_distance=table,
        )
        assert ("t" in FlowAssigner().assign(request, distances).robot_of) is taken


def test_ours_prefers_an_about_to_be_free_robot_when_it_is_sooner() -> None:
    """A robot finishing 2 cells away beats a free one 9 cells away; greedy waits for free ones."""
    robots = [robot("far", (0, 0)), robot("soon", (0, 8), free_in_cells=2)]
    _, ours = run(FlowAssigner(), robots, [task("t", (0, 9))])
    _, greedy = run(GreedyAssigner(), robots, [task("t", (0, 9))])
    assert dict(ours.robot_of) == {"t": "soon"}
    assert dict(greedy.robot_of) == {"t": "far"}


def test_ours_minimises_total_empty_travel_where_greedy_takes_the_nearest() -> None:
    """The classic case: greedy's first task grabs the robot the second one needed."""
    robots = [robot("a", (0, 4)), robot("b", (0, 0))]
    tasks = [task("old", (0, 5), age_s=10.0), task("new", (0, 11))]
    _, ours = run(FlowAssigner(weights=CostWeights(age_cells_per_s=0.0)), robots, tasks)
    _, greedy = run(GreedyAssigner(), robots, tasks)
    assert dict(greedy.robot_of) == {"old": "a", "new": "b"}  # 1 + 11 cells
    assert dict(ours.robot_of) == {"old": "b", "new": "a"}  # 5 + 7 cells


@pytest.mark.parametrize(("saving", "moves"), [(4, False), (8, True)])
def test_a_held_task_moves_only_when_that_saves_more_than_the_hysteresis(saving, moves) -> None:
    """Hysteresis 5 cells: handing over a held task that saves 4 cells is not worth it, 8 is."""
    holder = robot("holder", (0, 0), held_task="t")
    other = robot("other", (0, saving))
    request, result = run(
        FlowAssigner(), [holder, other], [task("t", (0, 11), assigned_to="holder")]
    )
    assert result.robot_of["t"] == ("other" if moves else "holder")
    expected = (("t", "holder", "other"),) if moves else ()
    assert result.changes(request) == expected


def test_greedy_keeps_a_held_task_with_its_robot() -> None:
    """The baseline never hands work over, even to a much nearer robot."""
    holder = robot("holder", (0, 0), held_task="t")
    _, result = run(
        GreedyAssigner(),
        [holder, robot("near", (0, 10))],
        [task("t", (0, 11), assigned_to="holder")],
    )
    assert dict(result.robot_of) == {"t": "holder"}


def test_greedy_serves_priority_first_then_the_oldest_task() -> None:
    """One robot, three tasks: the higher priority wins, then the longer wait."""
    robots = [robot("a", (0, 0))]
    tasks = [
        task("near", (0, 1)),
        task("old", (0, 9), age_s=50.0),
        task("urgent", (0, 11), priority=1),
    ]
    _, result = run(GreedyAssigner(), robots, tasks)
    assert dict(result.robot_of) == {"urgent": "a"}
    _, result = run(GreedyAssigner(), robots, tasks[:2])
    assert dict(result.robot_of) == {"old": "a"}


def test_ours_weighs_priority_and_lateness_against_travel() -> None:
    """Priority is worth its weight in cells; a task near its due time outweighs a nearer one."""
    robots = [robot("a", (0, 0))]
    near, far = task("near", (0, 1)), task("far", (0, 11))
    weights = CostWeights(priority_cells=20.0, age_cells_per_s=0.0)
    for tasks, winner in (
        ([near, far], "near"),
        ([near, replace(far, priority=1)], "far"),
        ([near, replace(far, due_s=5.0)], "far"),  # finishes at 11 s: 6 s late
    ):
        _, result = run(FlowAssigner(weights=weights), robots, tasks)
        assert dict(result.robot_of) == {winner: "a"}


def test_an_urgent_task_goes_to_the_robot_that_finishes_it_soonest() -> None:
    """Lateness is charged per robot: the nearer robot takes the task that is due."""
    robots = [robot("far", (0, 0)), robot("near", (0, 9))]
    tasks = [task("due", (0, 11), due_s=3.0), task("other", (2, 0))]
    _, result = run(FlowAssigner(weights=CostWeights(age_cells_per_s=0.0)), robots, tasks)
    assert dict(result.robot_of) == {"due": "near", "other": "far"}


def test_waiting_time_eventually_beats_distance() -> None:
    """A far task that has waited long enough is taken before a fresh near one (no starvation)."""
    robots = [robot("a", (0, 0))]
    tasks = [task("near", (0, 1)), task("far", (0, 11), age_s=600.0)]
    _, result = run(FlowAssigner(weights=CostWeights(age_cells_per_s=0.02)), robots, tasks)
    assert dict(result.robot_of) == {"far": "a"}


def test_sparse_graph_still_fills_every_robot_it_can() -> None:
    """With one arc per robot and task, robots crowded onto the same tasks are repaired."""
    rng = np.random.default_rng(3)
    robots = [robot(f"r{i}", (0, int(c))) for i, c in enumerate(rng.integers(0, 3, 8))]
    tasks = [task(f"t{j}", (2, int(c))) for j, c in enumerate(rng.integers(0, 12, 12))]
    _, result = run(FlowAssigner(k_nearest=1), robots, tasks)
    assert len(result.robot_of) == 8


@pytest.mark.parametrize(
    ("robots", "tasks", "message"),
    [
        ([robot("a", (0, 0)), robot("a", (0, 1))], [], "duplicate robot"),
        ([], [task("t", (0, 0)), task("t", (0, 1))], "duplicate task"),
        ([robot("a", (0, 0), held_task="t")], [task("t", (0, 1))], "holds t"),
        ([robot("a", (0, 0))], [task("t", (0, 1), assigned_to="a")], "does not hold"),
        ([robot("a", (0, 0), free_in_cells=-1)], [], "negative"),
    ],
)
def test_inconsistent_requests_are_refused(robots, tasks, message) -> None:
    """The core's bugs surface at once, not as a silently wrong assignment."""
    with pytest.raises(ValueError, match=message):
        AssignRequest(tuple(robots), tuple(tasks))


def test_strategies_are_chosen_by_name() -> None:
    """``ours`` and ``greedy`` exist; an unknown name is a one-line InputError listing them."""
    assert assigner_names() == ["greedy", "ours"]
    assert make_assigner("ours").name == "ours"
    assert make_assigner("greedy").name == "greedy"
    with pytest.raises(InputError, match="known: greedy, ours"):
        make_assigner("best")


def test_charger_table_marks_cells_cut_off_from_every_charger() -> None:
    """The pocket of the test floor has no way to a charger."""
    table = FloorDistances(FLOOR).table_to_nearest(CHARGERS)
    assert table[0, 0] == 0
    assert table[4, 0] == 2**30


def test_crowd_cost_spreads_robots_over_first_stops() -> None:
    """Two robots, two tasks at a near stop and two at one 4 cells further. Without the
    crowd term both go to the near stop; with 5 cells per robot already bound there or
    sent there this cycle, the second robot takes the further stop (4 < 5); with two
    robots already bound for the near stop, both go further."""
    robots = [robot("a", (0, 0)), robot("b", (0, 1))]
    tasks = [task("n1", (0, 2)), task("n2", (0, 2)), task("f1", (0, 6)), task("f2", (0, 6))]
    plain = CostWeights(age_cells_per_s=0.0)
    crowd = replace(plain, crowd_cells=5.0)
    _, result = run(FlowAssigner(weights=plain), robots, tasks)
    assert set(result.robot_of) == {"n1", "n2"}
    request, result = run(FlowAssigner(weights=crowd), robots, tasks)
    assert sorted(t[0] for t in result.robot_of) == ["f", "n"]
    assert crowd_cost(request, result, crowd) == 0.0  # one robot per stop, none bound before
    request, result = run(FlowAssigner(weights=crowd), robots, tasks, bound_for={(0, 2): 2})
    assert set(result.robot_of) == {"f1", "f2"}
    assert crowd_cost(request, result, crowd) == pytest.approx(5.0)  # the second robot at (0, 6)


def test_bound_for_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match="bound_for"):
        AssignRequest((), (), bound_for={(0, 0): -1})


@given(request=requests(max_robots=4, max_tasks=4), data=st.data())
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_ours_with_crowd_costs_reaches_the_brute_force_optimum(
    request: AssignRequest, data: st.DataObject
) -> None:
    """With convex per-stop crowd costs (random starting loads) the flow still assigns the
    most tasks and, among those, minimises pair costs plus `crowd_cost` (brute force)."""
    cells = sorted({t.first_cell for t in request.tasks})
    loads = data.draw(st.lists(st.integers(0, 3), min_size=len(cells), max_size=len(cells)))
    request = replace(without_holds(request), bound_for=dict(zip(cells, loads, strict=True)))
    weights = CostWeights(crowd_cells=data.draw(st.sampled_from([0.5, 3.0, 40.0])))
    distances = FloorDistances(FLOOR)
    found = candidates(request, distances)
    best: tuple[int, float] = (0, 0.0)
    n_robots, n_tasks = found.feasible.shape
    for size in range(1, min(n_robots, n_tasks) + 1):
        for rows in itertools.combinations(range(n_robots), size):
            for cols in itertools.permutations(range(n_tasks), size):
                pairs = list(zip(rows, cols, strict=True))
                if all(found.feasible[r, c] for r, c in pairs):
                    ids = [(request.tasks[c].task_id, request.robots[r].robot_id) for r, c in pairs]
                    value = total_cost(request, distances, Assignment(dict(ids)), weights)
                    if size > best[0] or (size == best[0] and value < best[1]):
                        best = (size, value)
    ours = FlowAssigner(weights=weights).assign(request, distances)
    check_rules(request, ours, FLOOR, free_only=False)
    assert len(ours.robot_of) == best[0]
    value = total_cost(request, distances, ours, weights)
    assert value == pytest.approx(best[1], abs=0.01 * (best[0] + 1) ** 2 + 1e-9)
