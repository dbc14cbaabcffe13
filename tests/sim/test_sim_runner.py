"""SimRunner: simulated robots over the real bus server, orders in, states and faults out."""

from __future__ import annotations

import dataclasses
import faulthandler
from collections.abc import Iterator
from pathlib import Path

import pytest
from sim_helpers import poll, shortest_path

from fleet.bus.config import BusConfig
from fleet.bus.keys import generate_keys
from fleet.bus.server import BusServer
from fleet.protocol import ConnectionState, ErrorLevel, State
from fleet.protocol.positions import cell_node_id, path_nodes_edges
from sim.controller import SimRobotParams
from sim.runner import SimRobotSpec, SimRunner
from sim.safety import ViolationKind
from tests.helpers import HANG_GUARD_S
from warehouse.config import load_config
from wms.layout import Cell

LOOPBACK = "tcp://127.0.0.1:0"
BUS = BusConfig(heartbeat_interval_s=1.0, missed_heartbeats=3, resend_after_s=0.3, max_resends=200)
"""Liveness 3 s: a robot heartbeating every 0.25 s stays ONLINE through a loaded machine's
stalls (0.6 s did not), a killed one is broken soon; orders are resent for 60 s."""
FLOOR = load_config().floor
QUICK = SimRobotParams(seconds_per_cell=0.25)
ROUTES: dict[str, tuple[Cell, Cell]] = {
    "r1": ((1, 1), (1, 30)),
    "r2": ((5, 30), (5, 3)),
    "r3": ((8, 1), (11, 12)),
}
"""Three routes on disjoint cells of the default floor, one with a turn."""


@pytest.fixture(autouse=True)
def hang_guard() -> Iterator[None]:
    """A hung live-socket test dumps every thread's stack and ends the run (`HANG_GUARD_S`)."""
    faulthandler.dump_traceback_later(HANG_GUARD_S, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.fixture
def server() -> Iterator[BusServer]:
    bus = BusServer(LOOPBACK, insecure=True, config=BUS)
    bus.start()
    yield bus
    bus.stop()


def specs(speeds: dict[str, float] | None = None) -> list[SimRobotSpec]:
    speeds = speeds or {}
    return [
        SimRobotSpec(name, start, dataclasses.replace(QUICK, speed_factor=speeds.get(name, 1.0)))
        for name, (start, _) in ROUTES.items()
    ]


def send_route(server: BusServer, robot: str, cells: list[Cell], order_id: str = "o1") -> None:
    nodes, edges = path_nodes_edges(FLOOR, cells, released=len(cells))
    server.send_order(robot, order_id, 0, nodes, edges)


def last_state(server: BusServer, robot: str) -> State | None:
    record = server.robots().get(robot)
    return record.last_state if record else None


def has_order(server: BusServer, robot: str, order_id: str) -> bool:
    state = last_state(server, robot)
    return state is not None and state.order_id == order_id


def at_node(server: BusServer, robot: str, cell: Cell) -> bool:
    state = last_state(server, robot)
    return state is not None and state.last_node_id == cell_node_id(cell) and not state.node_states


def connection(server: BusServer, robot: str) -> ConnectionState | None:
    record = server.robots().get(robot)
    return record.connection if record else None


def test_three_robots_drive_their_orders_to_the_last_node(server: BusServer) -> None:
    """Orders sent through the real server are driven: each robot's last state is at its goal."""
    with SimRunner(server.endpoint, FLOOR, specs({"r2": 1.5, "r3": 0.7}), speed=4.0) as sim:
        poll(lambda: len(server.robots()) == 3)
        for name, (start, goal) in ROUTES.items():
            send_route(server, f"sim/{name}", shortest_path(FLOOR, start, goal))
        for name, (_, goal) in ROUTES.items():
            poll(lambda name=name, goal=goal: at_node(server, f"sim/{name}", goal))
        assert sim.positions() == {f"sim/{n}": goal for n, (_, goal) in ROUTES.items()}
        assert sim.violations() == []
    assert all(r.factsheet is not None for r in server.robots().values())
    poll(lambda: all(r.connection is ConnectionState.OFFLINE for r in server.robots().values()))


def test_killed_robot_goes_connection_broken(server: BusServer) -> None:
    """kill closes the socket without goodbye: the server declares CONNECTIONBROKEN, others stay."""
    with SimRunner(server.endpoint, FLOOR, specs(), speed=4.0) as sim:
        poll(lambda: len(server.robots()) == 3)
        sim.kill("sim/r2")
        poll(lambda: connection(server, "sim/r2") is ConnectionState.CONNECTIONBROKEN)
        assert connection(server, "sim/r1") is ConnectionState.ONLINE
        assert "sim/r2" in sim.positions()


def test_comm_loss_breaks_the_connection_and_the_robot_drives_its_base(
    server: BusServer,
) -> None:
    """Silent for 80 s the robot is CONNECTIONBROKEN yet reaches its goal; then ONLINE again."""
    start, goal = ROUTES["r1"]
    with SimRunner(server.endpoint, FLOOR, specs()[:1], speed=8.0) as sim:
        poll(lambda: connection(server, "sim/r1") is ConnectionState.ONLINE)
        send_route(server, "sim/r1", shortest_path(FLOOR, start, goal))
        poll(lambda: has_order(server, "sim/r1", "o1"))
        # 80 s of sim time is 10 s of wall time at speed 8: past the 3 s liveness timeout,
        # and the goal (7.25 s of sim time away) is reached long before it ends.
        sim.comm_loss("sim/r1", 80.0)
        poll(lambda: connection(server, "sim/r1") is ConnectionState.CONNECTIONBROKEN)
        poll(lambda: sim.positions()["sim/r1"] == goal)
        assert connection(server, "sim/r1") is ConnectionState.CONNECTIONBROKEN
        poll(lambda: at_node(server, "sim/r1", goal))
        poll(lambda: connection(server, "sim/r1") is ConnectionState.ONLINE)


def test_breakdown_is_reported_fatal_and_stops_the_robot(server: BusServer) -> None:
    """break_down: the server sees a FATAL error in the robot's state; the robot stays put."""
    start, goal = ROUTES["r1"]
    with SimRunner(server.endpoint, FLOOR, specs()[:1], speed=4.0) as sim:
        poll(lambda: connection(server, "sim/r1") is ConnectionState.ONLINE)
        sim.break_down("sim/r1")
        send_route(server, "sim/r1", shortest_path(FLOOR, start, goal))

        def fatal() -> bool:
            state = last_state(server, "sim/r1")
            return (
                state is not None
                and state.order_id == "o1"
                and any(e.error_level is ErrorLevel.FATAL for e in state.errors)
            )

        poll(fatal)
        assert sim.positions()["sim/r1"] == start
        sim.repair("sim/r1")
        poll(lambda: at_node(server, "sim/r1", goal))


def test_head_on_orders_are_caught_by_the_runners_safety_check(server: BusServer) -> None:
    """Two robots sent through each other: the runner's own check flags a swap or shared cell."""
    robots = [SimRobotSpec("a", (1, 5), QUICK), SimRobotSpec("b", (1, 6), QUICK)]
    with SimRunner(server.endpoint, FLOOR, robots, speed=4.0) as sim:
        poll(lambda: len(server.robots()) == 2)
        send_route(server, "sim/a", [(1, 5), (1, 6), (1, 7)])
        send_route(server, "sim/b", [(1, 6), (1, 5), (1, 4)])
        poll(lambda: at_node(server, "sim/a", (1, 7)) and at_node(server, "sim/b", (1, 4)))
        kinds = {v.kind for v in sim.violations()}
    assert kinds and kinds <= {ViolationKind.SWAP, ViolationKind.SHARED_CELL}


def test_lockstep_stepping_by_the_caller(server: BusServer) -> None:
    """Without a thread the caller steps; the drive takes cells × seconds per cell of sim time."""
    start, goal = ROUTES["r1"]
    path = shortest_path(FLOOR, start, goal)
    sim = SimRunner(server.endpoint, FLOOR, specs()[:1], step_s=0.1, speed=None).connect()
    try:
        send_route(server, "sim/r1", path)
        poll(lambda: sim.step() and at_node(server, "sim/r1", goal), step_s=0.0)
        assert sim.positions()["sim/r1"] == goal
        assert sim.now_s >= (len(path) - 1) * QUICK.seconds_per_cell
    finally:
        sim.stop()


def test_curve_robots_join_a_secure_server(tmp_path: Path) -> None:
    """With a keys folder every sim robot authenticates with its own key and is registered."""
    generate_keys(tmp_path, ["sim/r1", "sim/r2"], [])
    with (
        BusServer(LOOPBACK, keys_dir=tmp_path, config=BUS) as secure,
        SimRunner(secure.endpoint, FLOOR, specs()[:2], keys_dir=tmp_path, speed=4.0),
    ):
        poll(lambda: len(secure.robots()) == 2)
        assert all(r.connection is ConnectionState.ONLINE for r in secure.robots().values())


def test_a_step_longer_than_a_cell_time_is_refused() -> None:
    """A step in which a robot could cross two cells is refused: the check could not judge it."""
    fast = SimRobotSpec("r1", (1, 1), SimRobotParams(seconds_per_cell=0.1))
    with pytest.raises(ValueError, match="step_s"):
        SimRunner(LOOPBACK, FLOOR, [fast], step_s=0.2)
