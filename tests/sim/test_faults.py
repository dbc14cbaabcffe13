"""The fault schedule: actions in time order, once each, with starts and ends paired."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.faults import ActionKind, FaultAction, FaultSchedule, fault_actions
from sim.scenario import BoundFault, Fault, FaultKind, bind, load_scenario
from warehouse.config import load_config

REPO = Path(__file__).resolve().parents[2]
MAX_S = 1000.0


def robot_fault(
    index: int, kind: FaultKind, at_s: float, duration_s: float | None, robot: int
) -> BoundFault:
    pct = 20.0 if kind is FaultKind.BATTERY_DRAIN else None
    return BoundFault(Fault(index, index + 1, kind, at_s, duration_s, robot=robot, pct=pct))


def block(index: int, at_s: float, duration_s: float | None, *cells: tuple[int, int]) -> BoundFault:
    return BoundFault(
        Fault(index, index + 1, FaultKind.BLOCK, at_s, duration_s, cells=cells), cells
    )


def summary(actions: tuple[FaultAction, ...]) -> list[tuple]:
    return [(a.at_s, a.kind, a.robot, a.cells) for a in actions]


def test_example_scenario_schedule() -> None:
    """picking_faults.toml: breakdown and repair, the aisle blocked and freed, loss, drain."""
    scenario = load_scenario(REPO / "configs" / "scenarios" / "picking_faults.toml")
    schedule = FaultSchedule.of(bind(scenario, load_config(scenario.config).floor))
    aisle = tuple((8, c) for c in range(3, 13))
    assert summary(schedule.actions) == [
        (300.0, ActionKind.BREAK_DOWN, 3, ()),
        (420.0, ActionKind.REPAIR, 3, ()),
        (600.0, ActionKind.BLOCK, None, aisle),
        (900.0, ActionKind.UNBLOCK, None, aisle),
        (900.0, ActionKind.BLOCK, None, ((14, 13), (15, 13))),
        (1200.0, ActionKind.COMM_LOSS, 7, ()),
        (1500.0, ActionKind.SET_BATTERY, 11, ()),
    ]
    assert schedule.actions[5].seconds == 30.0 and schedule.actions[6].pct == 15.0


def test_due_returns_each_action_once_in_time_order() -> None:
    """due() gives what is due at or before now, never twice; nothing left after the last."""
    schedule = FaultSchedule(
        fault_actions(
            [
                robot_fault(0, FaultKind.BREAKDOWN, 10, 5, 0),
                block(1, 12, 3, (1, 1)),
            ],
            MAX_S,
        )
    )
    assert schedule.due(9.9) == [] and schedule.next_at_s == 10
    assert [a.kind for a in schedule.due(12)] == [ActionKind.BREAK_DOWN, ActionKind.BLOCK]
    assert schedule.due(12) == []
    assert [a.kind for a in schedule.due(15)] == [ActionKind.UNBLOCK, ActionKind.REPAIR]
    assert schedule.due(MAX_S) == [] and schedule.pending == () and schedule.next_at_s is None


def test_time_going_back_is_a_caller_bug() -> None:
    """Asking for an earlier time than last time raises instead of replaying."""
    schedule = FaultSchedule(())
    schedule.due(5)
    with pytest.raises(ValueError, match="time went back"):
        schedule.due(4)


def test_overlapping_breakdowns_repair_once_at_the_last_end() -> None:
    """Two overlapping breakdowns of one robot: one BREAK_DOWN, one REPAIR when both are over."""
    actions = fault_actions(
        [
            robot_fault(0, FaultKind.BREAKDOWN, 100, 100, 2),
            robot_fault(1, FaultKind.BREAKDOWN, 150, 150, 2),
        ],
        MAX_S,
    )
    assert summary(actions) == [
        (100.0, ActionKind.BREAK_DOWN, 2, ()),
        (300.0, ActionKind.REPAIR, 2, ()),
    ]
    assert actions[0].faults == actions[1].faults == (0, 1)


def test_overlapping_blocks_free_only_cells_no_fault_still_holds() -> None:
    """A cell in two blocks stays blocked until the later one ends; a touching block merges."""
    actions = fault_actions(
        [
            block(0, 10, 10, (1, 1), (1, 2)),
            block(1, 15, 20, (1, 2)),
            block(2, 20, 5, (1, 1)),
        ],
        MAX_S,
    )
    assert summary(actions) == [
        (10.0, ActionKind.BLOCK, None, ((1, 1), (1, 2))),
        (25.0, ActionKind.UNBLOCK, None, ((1, 1),)),
        (35.0, ActionKind.UNBLOCK, None, ((1, 2),)),
    ]


def test_until_the_end_has_no_end_and_ends_past_the_run_are_dropped() -> None:
    """No duration, or an end after max_sim_s: no REPAIR / UNBLOCK; a loss is cut at the end."""
    actions = fault_actions(
        [
            robot_fault(0, FaultKind.BREAKDOWN, 10, None, 0),
            robot_fault(1, FaultKind.COMM_LOSS, 900, None, 1),
            robot_fault(2, FaultKind.COMM_LOSS, 950, 500, 2),
            block(3, 990, 20, (1, 1)),
        ],
        MAX_S,
    )
    assert [a.kind for a in actions] == [
        ActionKind.BREAK_DOWN,
        ActionKind.COMM_LOSS,
        ActionKind.COMM_LOSS,
        ActionKind.BLOCK,
    ]
    assert [a.seconds for a in actions if a.kind is ActionKind.COMM_LOSS] == [100.0, 50.0]


def test_overlapping_comm_losses_become_one_until_the_last_ends() -> None:
    """The runner's comm_loss replaces the previous one, so overlaps are sent as one loss."""
    actions = fault_actions(
        [
            robot_fault(0, FaultKind.COMM_LOSS, 10, 30, 4),
            robot_fault(1, FaultKind.COMM_LOSS, 20, 5, 4),
        ],
        MAX_S,
    )
    assert [(a.at_s, a.seconds, a.faults) for a in actions] == [(10.0, 30.0, (0, 1))]


def test_same_time_ends_come_before_starts() -> None:
    """At one time, cells are freed and robots repaired before anything new starts."""
    actions = fault_actions(
        [
            block(0, 60, 5, (2, 2)),
            robot_fault(1, FaultKind.BREAKDOWN, 60, 5, 1),
            block(2, 50, 10, (1, 1)),
            robot_fault(3, FaultKind.BREAKDOWN, 50, 10, 0),
        ],
        MAX_S,
    )
    assert summary(actions)[2:4] == [
        (60.0, ActionKind.UNBLOCK, None, ((1, 1),)),
        (60.0, ActionKind.REPAIR, 0, ()),
    ]
    assert summary(actions)[4:6] == [
        (60.0, ActionKind.BLOCK, None, ((2, 2),)),
        (60.0, ActionKind.BREAK_DOWN, 1, ()),
    ]


ROBOTS = 4
CELLS = [(r, c) for r in range(2) for c in range(3)]


@st.composite
def fault_lists(draw: st.DrawFn) -> list[BoundFault]:
    """Random valid faults on 4 robots and 6 cells, times on a coarse grid so they collide."""
    faults = []
    for index in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(list(FaultKind)))
        at_s = float(draw(st.integers(0, 20)) * 50)
        duration = draw(st.one_of(st.none(), st.integers(1, 10).map(lambda d: d * 50.0)))
        if kind.is_robot_fault:
            if kind is FaultKind.BATTERY_DRAIN:
                duration = None
            faults.append(
                robot_fault(index, kind, at_s, duration, draw(st.integers(0, ROBOTS - 1)))
            )
        else:
            cells = tuple(draw(st.lists(st.sampled_from(CELLS), min_size=1, max_size=3)))
            faults.append(
                BoundFault(Fault(index, index + 1, kind, at_s, duration, cells=cells), cells)
            )
    return faults


def active(faults: list[BoundFault], t: float) -> list[Fault]:
    """The oracle: the faults in force at time t, straight from their definition."""
    return [b.fault for b in faults if b.fault.at_s <= t < b.fault.end_s]


def broken_at(faults: list[BoundFault], t: float) -> set[int]:
    return {f.robot for f in active(faults, t) if f.kind is FaultKind.BREAKDOWN}


def blocked_at(faults: list[BoundFault], t: float) -> set[tuple[int, int]]:
    in_force = {f.index for f in active(faults, t) if not f.kind.is_robot_fault}
    return {cell for b in faults if b.fault.index in in_force for cell in b.cells}


@settings(max_examples=200, deadline=None)
@given(fault_lists(), st.lists(st.integers(0, 1100), max_size=15))
def test_random_faults_pair_starts_and_ends(faults: list[BoundFault], probes: list[int]) -> None:
    """Random faults: times never decrease, each start has at most one end, nothing twice."""
    actions = fault_actions(faults, MAX_S)
    times = [a.at_s for a in actions]
    assert times == sorted(times) and all(t <= MAX_S for t in times)

    broken: set[int] = set()
    blocked: set[tuple[int, int]] = set()
    schedule = FaultSchedule(actions)
    handed: list[FaultAction] = []
    for now in sorted({*probes, 1100}):
        for action in schedule.due(float(now)):
            handed.append(action)
            if action.kind is ActionKind.BREAK_DOWN:
                assert action.robot not in broken  # a start only after the previous end
                broken.add(action.robot)
            elif action.kind is ActionKind.REPAIR:
                broken.remove(action.robot)  # an end only after its start, once
            elif action.kind is ActionKind.BLOCK:
                assert not blocked & set(action.cells)
                blocked |= set(action.cells)
            elif action.kind is ActionKind.UNBLOCK:
                assert set(action.cells) <= blocked
                blocked -= set(action.cells)
        if now < MAX_S:
            assert broken == broken_at(faults, now)
            assert blocked == blocked_at(faults, now)
    assert tuple(handed) == actions  # every action handed out exactly once, in order
