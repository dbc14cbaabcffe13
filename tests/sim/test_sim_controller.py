"""SimRobot: the pure simulated controller, driven by hand-built orders and instant actions."""

from __future__ import annotations

import dataclasses
import math

import pytest
from sim_helpers import action, instant, open_floor, order, row_path

from fleet.protocol import ActionStatus, BlockingType, ErrorLevel, Verdict, decode, encode
from fleet.protocol.examples import header
from sim.controller import BATTERY_EMPTY, BREAKDOWN, SimRobot, SimRobotParams, sim_factsheet

FLOOR = open_floor()
STILL = SimRobotParams(drain_pct_per_cell=0.0, drain_pct_per_s=0.0)
"""A robot whose battery never changes, for tests about motion and actions."""


def robot(cell: tuple[int, int] = (2, 0), params: SimRobotParams = STILL, **kw: object) -> SimRobot:
    return SimRobot(FLOOR, cell, params, **kw)  # type: ignore[arg-type]


def status(bot: SimRobot, action_id: str) -> ActionStatus:
    state = bot.progress.action(action_id)
    assert state is not None
    return state.action_status


def test_drives_only_released_nodes_and_waits_at_the_base_end() -> None:
    """With 3 of 6 nodes released the robot stops on the third and asks for more base."""
    bot = robot()
    assert bot.on_order(order(FLOOR, row_path(2, 0, 5), released=3)) is Verdict.ACCEPTED
    bot.advance(100.0)
    assert bot.cell == (2, 2)
    state = bot.state(header())
    assert (state.last_node_id, state.last_node_sequence_id) == ("c2_2", 4)
    assert not state.driving
    assert state.new_base_request is True
    assert [n.released for n in state.node_states] == [False, False, False]


def test_one_cell_per_seconds_per_cell_over_speed_factor() -> None:
    """At 1 s per cell and speed factor 2 a cell takes 0.5 s: arrivals fall exactly on time."""
    bot = robot(params=dataclasses.replace(STILL, speed_factor=2.0))
    bot.on_order(order(FLOOR, row_path(2, 0, 5), released=6))
    bot.advance(0.49)
    assert bot.cell == (2, 0) and bot.driving
    bot.advance(0.5)
    assert bot.cell == (2, 1)
    bot.advance(1.7)
    assert bot.cell == (2, 3)


def test_stitched_update_continues_from_the_base_end() -> None:
    """An update starting at the last base node releases more; the robot drives on to its end."""
    bot = robot()
    bot.on_order(order(FLOOR, row_path(2, 0, 5), released=3))
    bot.advance(10.0)
    assert bot.cell == (2, 2)
    update = order(FLOOR, row_path(2, 2, 6), released=5, update_id=1, first_sequence_id=4)
    assert bot.on_order(update) is Verdict.UPDATED
    bot.advance(20.0)
    assert bot.cell == (2, 6)
    assert not bot.progress.nodes and not bot.progress.busy


def test_update_before_the_base_end_keeps_the_robot_driving() -> None:
    """A base extended while the robot is still on its way costs no stop: it arrives on time."""
    bot = robot()
    bot.on_order(order(FLOOR, row_path(2, 0, 5), released=3))
    bot.advance(1.0)
    bot.on_order(order(FLOOR, row_path(2, 2, 5), released=4, update_id=1, first_sequence_id=4))
    bot.advance(5.0)
    assert bot.cell == (2, 5)


def test_new_order_must_start_where_the_robot_is() -> None:
    """A first order starting two cells away is an orderError: the sim never teleports."""
    bot = robot()
    assert bot.on_order(order(FLOOR, row_path(2, 2, 5), released=4)) is Verdict.REJECTED
    bot.advance(10.0)
    assert bot.cell == (2, 0)
    assert [e.error_type for e in bot.state(header()).errors] == ["orderError"]


def test_timed_node_action_holds_the_robot_then_loads_and_drops() -> None:
    """A HARD pick with durationSeconds=3 runs 3 s with the robot standing, then loads the pod."""
    pick = action("pick", durationSeconds=3.0, loadId="pod-7")
    drop = action("drop", durationSeconds=1.0, loadId="pod-7")
    bot = robot()
    bot.on_order(order(FLOOR, row_path(2, 0, 4), released=5, node_actions={1: (pick,), 3: (drop,)}))
    bot.advance(2.5)
    assert bot.cell == (2, 1) and status(bot, pick.action_id) is ActionStatus.RUNNING
    assert not bot.driving and bot.loads == ()
    bot.advance(4.0)
    assert status(bot, pick.action_id) is ActionStatus.FINISHED
    assert [x.load_id for x in bot.loads] == ["pod-7"]
    bot.advance(6.9)
    assert bot.cell == (2, 3) and status(bot, drop.action_id) is ActionStatus.RUNNING
    bot.advance(7.0)
    assert status(bot, drop.action_id) is ActionStatus.FINISHED and bot.loads == ()
    bot.advance(8.0)
    assert bot.cell == (2, 4)


def test_actions_without_duration_finish_at_once_and_first_node_actions_run() -> None:
    """First-node actions run on acceptance; an unknown type without duration ends at once."""
    beep = action("beep")
    bot = robot()
    bot.on_order(order(FLOOR, row_path(2, 0, 1), released=2, node_actions={0: (beep,)}))
    bot.advance(0.0)
    assert status(bot, beep.action_id) is ActionStatus.FINISHED
    bot.advance(1.0)
    assert bot.cell == (2, 1)


def test_drop_of_a_load_not_on_board_fails() -> None:
    """Dropping a loadId the robot does not carry is FAILED and changes no loads."""
    drop = action("drop", loadId="pod-9")
    bot = robot()
    bot.on_instant_actions(instant(drop))
    bot.advance(0.0)
    assert status(bot, drop.action_id) is ActionStatus.FAILED


def test_none_blocking_action_runs_while_driving() -> None:
    """A NONE action with a duration does not hold the robot; it ends on its own clock."""
    lights = action("lights", BlockingType.NONE, durationSeconds=2.5)
    bot = robot()
    bot.on_order(order(FLOOR, row_path(2, 0, 4), released=5, node_actions={0: (lights,)}))
    bot.advance(2.0)
    assert bot.cell == (2, 2) and status(bot, lights.action_id) is ActionStatus.RUNNING
    bot.advance(2.5)
    assert status(bot, lights.action_id) is ActionStatus.FINISHED


def test_charging_finishes_at_once_and_charges_until_full() -> None:
    """startCharging is FINISHED when charging starts; 0.5 %/s takes 90 % to 100 % in 20 s."""
    bot = robot(params=dataclasses.replace(STILL, start_battery_pct=90.0, charge_pct_per_s=0.5))
    charge = action("startCharging")
    bot.on_instant_actions(instant(charge))
    bot.advance(0.0)
    assert status(bot, charge.action_id) is ActionStatus.FINISHED
    assert bot.state(header()).battery_state.charging
    bot.advance(10.0)
    assert bot.battery_pct == pytest.approx(95.0)
    bot.advance(30.0)
    assert bot.battery_pct == 100.0 and not bot.charging


def test_stop_charging_and_driving_off_end_charging() -> None:
    """stopCharging ends charging; so does setting off on a new drive."""
    bot = robot(params=dataclasses.replace(STILL, start_battery_pct=50.0))
    bot.on_instant_actions(instant(action("startCharging")))
    bot.advance(1.0)
    bot.on_instant_actions(instant(action("stopCharging")))
    bot.advance(2.0)
    assert not bot.charging and bot.battery_pct == pytest.approx(50.5)
    bot.on_instant_actions(instant(action("startCharging")))
    bot.advance(3.0)
    assert bot.charging
    bot.on_order(order(FLOOR, row_path(2, 0, 2), released=3))
    bot.advance(3.5)
    assert bot.driving and not bot.charging


def test_charging_only_at_chargers_when_they_are_given() -> None:
    """With charger cells configured, startCharging elsewhere is FAILED and nothing charges."""
    bot = robot(
        charger_cells=frozenset({(0, 0)}), params=dataclasses.replace(STILL, start_battery_pct=50)
    )
    charge = action("startCharging")
    bot.on_instant_actions(instant(charge))
    bot.advance(5.0)
    assert status(bot, charge.action_id) is ActionStatus.FAILED and not bot.charging


def test_battery_drains_per_cell_driven_and_per_second_standing() -> None:
    """Four cells at 1 %/cell (4 s driving) then 2 s standing at 0.5 %/s cost 5 %."""
    params = SimRobotParams(drain_pct_per_cell=1.0, drain_pct_per_s=0.5, start_battery_pct=80.0)
    bot = robot(params=params)
    bot.on_order(order(FLOOR, row_path(2, 0, 4), released=5))
    bot.advance(4.0)
    assert bot.cell == (2, 4) and bot.battery_pct == pytest.approx(76.0)
    bot.advance(6.0)
    assert bot.battery_pct == pytest.approx(75.0)


def test_empty_battery_stops_the_robot_with_a_fatal_error_until_recharged() -> None:
    """At 0 % the robot stands with a FATAL batteryEmpty error; charge lets it drive on."""
    params = SimRobotParams(drain_pct_per_cell=1.0, drain_pct_per_s=0.0, start_battery_pct=2.0)
    bot = robot(params=params)
    bot.on_order(order(FLOOR, row_path(2, 0, 4), released=5))
    bot.advance(10.0)
    assert bot.cell == (2, 2)
    errors = bot.state(header()).errors
    assert [(e.error_type, e.error_level) for e in errors] == [(BATTERY_EMPTY, ErrorLevel.FATAL)]
    bot.set_battery(50.0)
    bot.advance(12.0)
    assert bot.cell == (2, 4) and not bot.state(header()).errors


def test_pause_stops_driving_and_pauses_running_actions() -> None:
    """startPause: no motion, a running action goes PAUSED; stopPause resumes it where it was."""
    wait = action("wait", durationSeconds=4.0)
    bot = robot()
    bot.on_order(order(FLOOR, row_path(2, 0, 3), released=4, node_actions={1: (wait,)}))
    bot.advance(3.0)  # arrived at 1.0, waited 2 s of 4
    bot.on_instant_actions(instant(action("startPause")))
    bot.advance(13.0)
    assert bot.state(header()).paused and status(bot, wait.action_id) is ActionStatus.PAUSED
    bot.on_instant_actions(instant(action("stopPause")))
    bot.advance(14.9)
    assert status(bot, wait.action_id) is ActionStatus.RUNNING and bot.cell == (2, 1)
    bot.advance(15.0)
    assert status(bot, wait.action_id) is ActionStatus.FINISHED
    bot.advance(17.0)
    assert bot.cell == (2, 3)


def test_pause_mid_drive_freezes_the_drive() -> None:
    """Paused half-way to a node, the robot arrives half a cell-time after it resumes."""
    bot = robot()
    bot.on_order(order(FLOOR, row_path(2, 0, 1), released=2))
    bot.advance(0.5)
    bot.on_instant_actions(instant(action("startPause")))
    bot.advance(5.0)
    assert bot.cell == (2, 0) and not bot.state(header()).driving
    bot.on_instant_actions(instant(action("stopPause")))
    bot.advance(5.4)
    assert bot.cell == (2, 0)
    bot.advance(5.5)
    assert bot.cell == (2, 1)


def test_cancel_order_stops_the_robot_and_fails_its_actions() -> None:
    """cancelOrder mid-drive: the robot stays on its last node, its actions FAILED; new order ok."""
    pick = action("pick", durationSeconds=1.0)
    bot = robot()
    bot.on_order(order(FLOOR, row_path(2, 0, 5), released=6, node_actions={4: (pick,)}))
    bot.advance(1.5)
    cancel = action("cancelOrder")
    bot.on_instant_actions(instant(cancel))
    bot.advance(10.0)
    assert bot.cell == (2, 1)
    assert status(bot, pick.action_id) is ActionStatus.FAILED
    assert status(bot, cancel.action_id) is ActionStatus.FINISHED
    assert not bot.state(header()).node_states
    back = order(FLOOR, row_path(2, 1, 0), released=2, order_id="o2")
    assert bot.on_order(back) is Verdict.ACCEPTED
    bot.advance(11.0)
    assert bot.cell == (2, 0)


def test_breakdown_is_fatal_and_stops_the_robot_until_repaired() -> None:
    """break_down: a FATAL breakdown error and no motion; repair lets it finish the drive."""
    bot = robot()
    bot.on_order(order(FLOOR, row_path(2, 0, 4), released=5))
    bot.advance(1.0)
    bot.break_down()
    bot.advance(20.0)
    state = bot.state(header())
    assert bot.cell == (2, 1) and not state.driving
    assert [(e.error_type, e.error_level) for e in state.errors] == [(BREAKDOWN, ErrorLevel.FATAL)]
    bot.repair()
    bot.advance(23.0)
    assert bot.cell == (2, 4) and not bot.state(header()).errors


def test_state_reports_the_cell_centre_and_heading_and_validates() -> None:
    """agvPosition is the cell centre in metres, theta the last drive's direction (north = π/2)."""
    bot = robot(cell=(4, 3))
    bot.on_order(order(FLOOR, [(4, 3), (3, 3), (2, 3)], released=3))
    bot.advance(1.0)
    state = bot.state(header())
    assert state.agv_position is not None
    pos = state.agv_position
    assert (pos.x, pos.y, pos.map_id) == (*FLOOR.cell_xy((3, 3)), "test")
    assert pos.theta == pytest.approx(math.pi / 2)
    assert decode(*encode(state)) == state


def test_one_big_advance_equals_many_small_ones() -> None:
    """Events fall at their own times whatever the step: 100 steps of 0.1 s = one step of 10 s."""
    params = SimRobotParams(drain_pct_per_cell=0.7, drain_pct_per_s=0.3, start_battery_pct=60.0)
    pick = action("pick", durationSeconds=1.3, loadId="p")
    make = order(FLOOR, row_path(1, 0, 6), released=7, node_actions={2: (pick,)})
    big, small = robot((1, 0), params), robot((1, 0), params)
    for bot in (big, small):
        bot.on_order(make)
    big.advance(10.0)
    for i in range(1, 101):
        small.advance(i / 10)
    assert big.cell == small.cell == (1, 6)
    assert big.battery_pct == pytest.approx(small.battery_pct)
    assert big.state(header()) == small.state(header())


def test_time_never_runs_backwards() -> None:
    """advance to an earlier time is a ValueError, not a silent rewind."""
    bot = robot()
    bot.advance(5.0)
    with pytest.raises(ValueError):
        bot.advance(4.0)


def test_factsheet_request_is_flagged_and_the_factsheet_validates() -> None:
    """factsheetRequest sets the flag for the runner; the factsheet is a CARRIER and encodes."""
    bot = robot()
    bot.on_instant_actions(instant(action("factsheetRequest")))
    assert bot.factsheet_requested
    sheet = sim_factsheet(header(), STILL, FLOOR.cell_size_m, max_load_mass_kg=400.0)
    assert sheet.type_specification.agv_class == "CARRIER"
    assert sheet.type_specification.max_load_mass == 400.0
    assert decode(*encode(sheet)) == sheet
