"""The decision core in lockstep with simulated controllers: decisions and safety."""

from __future__ import annotations

import random

import pytest

from fleet.manager.core import ManagerRefused
from fleet.manager.events import RobotConnection, RobotStateReport
from fleet.manager.model import (
    PickLine,
    RobotKind,
    RobotStatus,
    Stop,
    StopAction,
    TaskKind,
    TaskSpec,
    TaskStatus,
)
from fleet.protocol.header import HeaderSequence
from fleet.protocol.messages import AgvPosition, ConnectionState
from tests.fleet.manager.world import ACCESS, CHARGERS, FLOOR, STATIONS, make_world


def _route(k: int, rng: random.Random) -> TaskSpec:
    cell = ACCESS[rng.randrange(len(ACCESS))]
    line = PickLine(f"t{k}/0", f"o{k}", "SKU", 1, "L")
    return TaskSpec(
        f"t{k}",
        TaskKind.PICK_ROUTE,
        (Stop(cell, StopAction.PICK_LINES, 3.0, (line,)), Stop(STATIONS[k % len(STATIONS)])),
    )


def test_robots_at_random_speeds_never_share_a_cell_or_swap() -> None:
    """Twelve robots at three speeds finish 40 pick routes; the simulator's own monitor
    sees no shared cell, swap or jump, and every pick is confirmed exactly once."""
    world = make_world(12, seed=1, speeds=(0.5, 1.0, 2.0))
    rng = random.Random(1)
    ids = [world.core.submit(_route(k, rng)).task_id for k in range(40)]
    assert world.sim.run_until(lambda s: world.all_final(ids), max_s=3000)
    assert all(world.status(t) is TaskStatus.DONE for t in ids)
    assert world.monitor.violations == []
    picks = [ln.pick_id for c in world.sim.log.confirmations for ln in c.lines]
    assert sorted(picks) == sorted(f"t{k}/0" for k in range(40))
    world.core.reservations.check()


def test_capability_and_payload_are_respected() -> None:
    """A pod move goes to the AGV, a pick route to an AMR; a payload nobody can carry waits."""
    world = make_world(3, seed=2, agvs=1)
    pod = world.core.submit(
        TaskSpec(
            "pod",
            TaskKind.MOVE_POD,
            (
                Stop(ACCESS[5], StopAction.LIFT),
                Stop(STATIONS[0], StopAction.STATION),
                Stop(ACCESS[5], StopAction.DROP),
            ),
        )
    )
    route = world.core.submit(_route(1, random.Random(2)))
    heavy = world.core.submit(
        TaskSpec("heavy", TaskKind.MOVE, (Stop(ACCESS[9]),), payload_kg=5000.0)
    )
    robots: dict[str, str] = {}

    def record(_: object) -> bool:
        for tid in ("pod", "t1"):
            task = world.core.tasks.get(tid)
            if task.robot:
                robots[tid] = task.robot
        return world.all_final([pod.task_id, route.task_id])

    assert world.sim.run_until(record, max_s=1500)
    assert robots["pod"] == "sim/agv0"
    assert world.core.robots[robots["t1"]].info.kind is RobotKind.AMR
    assert world.status(heavy.task_id) is TaskStatus.QUEUED
    assert not world.robots["sim/agv0"].loads  # lifted, then dropped


def test_low_battery_charges_first_and_one_robot_per_charger() -> None:
    """Robots below the go-charge threshold get no work, go to distinct chargers and come back
    to work only above the back-to-work threshold."""
    world = make_world(6, seed=3, battery={0: 20.0, 1: 15.0, 2: 12.0, 3: 10.0, 4: 18.0})
    rng = random.Random(3)
    ids = [world.core.submit(_route(k, rng)).task_id for k in range(6)]
    at_charger: dict[str, set[str]] = {}

    def watch(_: object) -> bool:
        for rid, robot in world.robots.items():
            if robot.charging:
                at_charger.setdefault(str(robot.cell), set()).add(rid)
        for task in world.core.tasks:
            if task.spec.kind not in (TaskKind.CHARGE, TaskKind.PARK) and task.robot in (
                "sim/r0",
                "sim/r1",
                "sim/r2",
                "sim/r3",
            ):
                track = world.core.robots[task.robot]
                assert track.battery >= world.core.config.go_charge_pct
        cells = {}
        for rid, robot in world.robots.items():
            if robot.charging:
                assert robot.cell not in cells, f"{rid} and {cells.get(robot.cell)} share a charger"
                cells[robot.cell] = rid
        return world.all_final(ids)

    assert world.sim.run_until(watch, max_s=4000)
    assert at_charger and all(c.strip("()") for c in at_charger)
    assert {tuple(map(int, c.strip("()").split(", "))) for c in at_charger} <= set(CHARGERS)
    assert world.monitor.violations == []


def test_pause_holds_a_robot_and_resume_lets_it_finish() -> None:
    """A paused robot does not move; after resume its task completes."""
    world = make_world(1, seed=4, cells=[(ACCESS[0][0], ACCESS[0][1])])
    far = max(ACCESS, key=lambda c: abs(c[0] - ACCESS[0][0]) + abs(c[1] - ACCESS[0][1]))
    task = world.core.submit(TaskSpec("go", TaskKind.MOVE, (Stop(far),)))
    world.sim.run_until(lambda s: world.robots["sim/r0"].cells_moved >= 2, max_s=60)
    world.sim.deliver(world.core.pause("sim/r0") or world.core._flush())
    world.sim.run_until(lambda s: False, max_s=world.sim.now + 3)
    here = world.robots["sim/r0"].cell
    world.sim.run_until(lambda s: False, max_s=world.sim.now + 20)
    assert world.robots["sim/r0"].cell == here
    assert world.core.status(world.core.robots["sim/r0"]) is RobotStatus.PAUSED
    world.core.pause("sim/r0", paused=False)
    world.sim.deliver(world.core._flush())
    assert world.sim.run_until(lambda s: world.status(task.task_id).final, max_s=400)
    assert world.status(task.task_id) is TaskStatus.DONE


def test_cancel_and_estop() -> None:
    """A cancelled task ends cancelled and its robot takes the next; e-stop stops everyone."""
    world = make_world(2, seed=5)
    rng = random.Random(5)
    first = world.core.submit(_route(0, rng))
    world.sim.run_until(lambda s: world.status(first.task_id) is not TaskStatus.QUEUED, 60)
    world.core.cancel(first.task_id)
    second = world.core.submit(_route(1, rng))
    assert world.sim.run_until(lambda s: world.status(second.task_id).final, max_s=600)
    assert world.status(first.task_id) is TaskStatus.CANCELLED
    assert world.status(second.task_id) is TaskStatus.DONE
    third = world.core.submit(_route(2, rng))
    world.sim.run_until(lambda s: any(r.driving for r in world.robots.values()), max_s=60)
    world.core.set_estop(True)
    world.sim.deliver(world.core._flush())
    world.sim.run_until(lambda s: False, max_s=world.sim.now + 3)
    cells = {rid: r.cell for rid, r in world.robots.items()}
    world.sim.run_until(lambda s: False, max_s=world.sim.now + 20)
    assert {rid: r.cell for rid, r in world.robots.items()} == cells
    world.core.set_estop(False)
    world.sim.deliver(world.core._flush())
    assert world.sim.run_until(lambda s: world.status(third.task_id).final, max_s=600)


def test_breakdown_requeues_and_another_robot_finishes() -> None:
    """A robot that reports a FATAL error loses its task, which another robot finishes; its
    cell stays held so nobody drives into it."""
    world = make_world(3, seed=6)
    rng = random.Random(6)
    task = world.core.submit(_route(0, rng))
    world.sim.run_until(lambda s: world.core.tasks.get("t0").robot is not None, 60)
    first = world.core.tasks.get("t0").robot
    assert first is not None
    world.sim.run_until(lambda s: world.robots[first].cells_moved >= 1, 60)
    world.robots[first].break_down()
    broken_cell = world.robots[first].cell
    assert world.sim.run_until(lambda s: world.status(task.task_id).final, max_s=800)
    assert world.status(task.task_id) is TaskStatus.DONE
    finisher = [e.robot for e in world.sim.log.task_events if e.task_id == "t0" and e.robot]
    assert finisher[-1] != first
    assert world.core.reservations.holder(broken_cell) == first
    assert world.monitor.violations == []


def test_bad_input_is_refused_and_changes_nothing() -> None:
    """Unknown location, off-map position, a node not in the order, unknown robot: refused."""
    world = make_world(1, seed=7)
    before = len(world.core.tasks)
    with pytest.raises(ManagerRefused):
        world.core.submit(TaskSpec("x", TaskKind.MOVE, (Stop((999, 999)),)))
    with pytest.raises(ManagerRefused):
        world.core.submit(TaskSpec("y", TaskKind.MOVE, (Stop((0, 0)),)))  # a wall cell
    with pytest.raises(ManagerRefused):
        world.core.pause("acme/nobody")
    with pytest.raises(ManagerRefused):
        world.core.cancel("no-such-task")
    assert len(world.core.tasks) == before
    robot = world.robots["sim/r0"]
    headers = HeaderSequence("sim", "r0", lambda: 0.0)
    state = robot.state(headers.next("state"))
    off = state.agv_position
    assert off is not None
    bad = AgvPosition(-50.0, 3.0, 0.0, off.map_id, True)
    from dataclasses import replace

    commands = world.core.handle(RobotStateReport("sim/r0", replace(state, agv_position=bad)), 1.0)
    assert any("off the map" in c.reason for c in commands if hasattr(c, "reason"))
    world.core.submit(TaskSpec("go", TaskKind.MOVE, (ACCESS[3],) and (Stop(ACCESS[3]),)))
    world.sim.run_until(lambda s: world.core.reservations.drives["sim/r0"].order_id, 30)
    drive = world.core.reservations.drives["sim/r0"]
    wrong = replace(
        robot.state(headers.next("state")),
        order_id=drive.order_id or "",
        last_node_sequence_id=2 * (drive.base_end + 5),
    )
    commands = world.core.handle(RobotStateReport("sim/r0", wrong), world.sim.now)
    assert any("not a released node" in c.reason for c in commands if hasattr(c, "reason"))
    assert FLOOR.navigable[world.core.robots["sim/r0"].cell]


def test_an_update_lost_in_a_communication_loss_does_not_stall_the_robot() -> None:
    """The robot goes deaf while driving and the manager sends it an update it never hears
    (nor acknowledges), then declares it lost; back online, its order is cancelled, it
    restarts from where it stands and finishes (before: it waited for that ack for ever)."""
    world = make_world(1, seed=4, cells=[(ACCESS[0][0], ACCESS[0][1])])
    far = max(ACCESS, key=lambda c: abs(c[0] - ACCESS[0][0]) + abs(c[1] - ACCESS[0][1]))
    task = world.core.submit(TaskSpec("go", TaskKind.MOVE, (Stop(far),)))
    world.sim.run_until(lambda s: world.robots["sim/r0"].cells_moved >= 1, max_s=60)
    sim, drive = world.sim, world.core.reservations.drives["sim/r0"]
    for _ in range(400):  # one lockstep step, the robot going deaf between report and cycle
        sent = drive.update_id
        sim.now += sim.dt
        world.robots["sim/r0"].advance(sim.now)
        sim.report("sim/r0")
        sim.silent.add("sim/r0")
        sim.deliver(world.core.cycle(sim.now))
        if drive.update_id > sent:
            break  # an update went out that the robot never hears
        sim.silent.discard("sim/r0")
    assert drive.update_id > sent
    broken = ConnectionState.CONNECTIONBROKEN
    world.sim.deliver(world.core.handle(RobotConnection("sim/r0", broken), world.sim.now))
    world.sim.run_until(lambda s: False, max_s=world.sim.now + 2)
    world.sim.silent.discard("sim/r0")
    online = ConnectionState.ONLINE
    world.sim.deliver(world.core.handle(RobotConnection("sim/r0", online), world.sim.now))
    assert world.sim.run_until(lambda s: world.status(task.task_id).final, max_s=600)
    assert world.status(task.task_id) is TaskStatus.DONE
    assert world.monitor.violations == []
