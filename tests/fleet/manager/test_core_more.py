"""More of the decision core: re-sequencing, duplicated reports, unreachable tasks, drain,
and VDA 5050 2.1.0 conformance of every order it sends."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import msgpack
import numpy as np
import pytest

from fleet.manager.core import FleetCore
from fleet.manager.events import SendOrder
from fleet.manager.lockstep import Lockstep
from fleet.manager.model import (
    RobotStatus,
    Stop,
    StopAction,
    TaskKind,
    TaskSpec,
    TaskStatus,
)
from fleet.protocol.codec import encode
from fleet.protocol.examples import header
from fleet.protocol.messages import Order
from sim.controller import SimRobot
from tests.fleet.manager.world import ACCESS, STATIONS, make_world, pick_route
from wms.layout import Floor


def test_route_is_resequenced_from_the_robot_position() -> None:
    """Stops given in a zig-zag order are visited in a shorter order chosen with OR-Tools
    from where the robot is; the station stays last and every line is still confirmed."""
    by_col = sorted(ACCESS, key=lambda c: (c[1], c[0]))
    zigzag = [by_col[0], by_col[-1], by_col[10], by_col[-10]]
    world = make_world(1, seed=11, cells=[STATIONS[0]])
    task = world.core.submit(pick_route("zz", zigzag))
    assert world.sim.run_until(lambda s: world.status("zz").final, max_s=2000)
    done = world.core.tasks.get(task.task_id)
    assert done.status is TaskStatus.DONE
    assert done.sequence is not None and done.sequence[-1] == len(zigzag)
    assert sorted(done.sequence) == list(range(len(zigzag) + 1))
    given = world.core.distances.route_lengths([[STATIONS[0], *zigzag, STATIONS[0]]])[0]
    chosen = world.core.distances.route_lengths([[STATIONS[0], *(s.cell for s in done.stops)]])[0]
    assert chosen < given
    picks = sorted(ln.pick_id for c in world.sim.log.confirmations for ln in c.lines)
    assert picks == sorted(f"zz/{i}" for i in range(len(zigzag)))


def test_duplicated_reports_confirm_each_pick_once() -> None:
    """Every state reported twice (a duplicated or replayed report) books nothing twice."""
    world = make_world(3, seed=12)
    original = world.sim.report

    def twice(robot: str) -> list:
        return original(robot) + original(robot)

    world.sim.report = twice  # type: ignore[method-assign]
    ids = [world.core.submit(pick_route(f"d{k}", [ACCESS[k * 50 + 7]])).task_id for k in range(5)]
    assert world.sim.run_until(lambda s: world.all_final(ids), max_s=2000)
    picks = [ln.pick_id for c in world.sim.log.confirmations for ln in c.lines]
    assert sorted(picks) == sorted(f"d{k}/0" for k in range(5))


def test_unreachable_task_fails_with_its_reason() -> None:
    """A task in a part of the floor no robot can reach fails, saying why, instead of waiting
    forever; a reachable one on the same floor is done."""
    grid = np.full((5, 9), ord("."), dtype=np.uint8)
    grid[:, 4] = ord("@")  # a wall: two rooms
    floor = Floor("rooms", grid)
    core = FleetCore(floor)
    robot = SimRobot(floor, (2, 1))
    sim = Lockstep(core, {"sim/r0": robot}, dt=0.25)
    far = core.submit(TaskSpec("far", TaskKind.MOVE, (Stop((2, 7)),)))
    near = core.submit(TaskSpec("near", TaskKind.MOVE, (Stop((0, 3)),)))
    assert sim.run_until(lambda s: core.tasks.get("near").status.final, max_s=200)
    assert core.tasks.get(near.task_id).status is TaskStatus.DONE
    failed = core.tasks.get(far.task_id)
    assert failed.status is TaskStatus.FAILED
    assert failed.reason and "unreachable" in failed.reason


def test_drained_robot_takes_no_work() -> None:
    """A drained robot gets no new task while another robot does the work."""
    world = make_world(2, seed=13)
    world.core.drain("sim/r0")
    ids = [world.core.submit(pick_route(f"w{k}", [ACCESS[k * 30 + 3]])).task_id for k in range(3)]
    assert world.sim.run_until(lambda s: world.all_final(ids), max_s=2000)
    assert all(world.core.tasks.get(t).status is TaskStatus.DONE for t in ids)
    workers = {e.robot for e in world.sim.log.task_events if e.task_id in ids and e.robot}
    assert workers == {"sim/r1"}
    assert world.core.status(world.core.robots["sim/r0"]) is RobotStatus.DRAINED


@pytest.fixture(scope="module")
def order_schema(vda5050_schemas_dir: Path) -> jsonschema.protocols.Validator:
    schema = json.loads((vda5050_schemas_dir / "order.schema").read_text())
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def test_every_order_the_manager_sends_is_valid_vda5050(order_schema) -> None:
    """New orders, stitched updates, horizon nodes and node actions of a busy run all
    validate against the official VDA 5050 2.1.0 order schema."""
    world = make_world(4, seed=14, agvs=1)
    sent: list[SendOrder] = []
    deliver = world.sim.deliver

    def keep(commands: list) -> None:
        sent.extend(c for c in commands if isinstance(c, SendOrder))
        deliver(commands)

    world.sim.deliver = keep  # type: ignore[method-assign]
    world.core.submit(
        TaskSpec(
            "pod",
            TaskKind.MOVE_POD,
            (
                Stop(ACCESS[40], StopAction.LIFT),
                Stop(STATIONS[1], StopAction.STATION),
                Stop(ACCESS[40], StopAction.DROP),
            ),
        )
    )
    ids = ["pod"] + [
        world.core.submit(pick_route(f"v{k}", [ACCESS[k * 40 + 9]])).task_id for k in range(3)
    ]
    assert world.sim.run_until(lambda s: world.all_final(ids), max_s=2000)
    assert len(sent) > 20
    kinds = {a.action_type for c in sent for n in c.nodes for a in n.actions}
    assert {"pick", "drop", "stationWork"} <= kinds
    for command in sent:
        order = Order(
            header(), command.order_id, command.order_update_id, command.nodes, command.edges
        )
        _, body = encode(order)
        errors = [e.message for e in order_schema.iter_errors(msgpack.unpackb(body, raw=False))]
        assert errors == [], errors[:3]
