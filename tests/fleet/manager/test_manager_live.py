"""The fleet manager live: real ZeroMQ sockets on loopback, simulated controllers, ctl."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from fleet.bus.config import BusConfig
from fleet.bus.server import BusServer
from fleet.control import AddTask, ControlClient, ControlServer, ListTasks
from fleet.manager import operator
from fleet.manager.booking import LedgerBooker
from fleet.manager.config import FleetConfig
from fleet.manager.core import FleetCore
from fleet.manager.model import TaskKind
from fleet.manager.service import ManagerService
from sim.runner import SimRobotSpec, SimRunner
from tests.fleet.manager.world import ACCESS, CHARGERS, FLOOR
from tests.helpers import ipc_endpoint
from wms.ledger import Ledger

BUS = BusConfig(heartbeat_interval_s=0.2, missed_heartbeats=3, resend_after_s=0.3, max_resends=20)
STARTS = [(29, 2), (29, 6), (29, 10), (29, 14), (29, 18)]


ASK_S = 60.0
"""How long a question to the manager's cycle thread may wait (`ManagerService.call`'s 5 s
default raised TimeoutError out of a poll when a loaded machine held the thread longer)."""


def ask(service: ManagerService, fn: Callable[[FleetCore], Any]) -> Any:
    return service.call(fn, ASK_S)


def wait_for(predicate: Callable[[], Any], timeout_s: float) -> Any:
    """Poll until ``predicate()`` is truthy; generous deadlines, no timing asserted."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    return predicate()


@contextmanager
def live_floor(
    count: int, booker: LedgerBooker | None = None
) -> Iterator[tuple[ManagerService, SimRunner]]:
    bus = BusServer("tcp://127.0.0.1:0", insecure=True, config=BUS).start()
    core = FleetCore(FLOOR, FleetConfig(cycle_s=0.05))
    service = ManagerService(core, bus, booker=booker).start()
    specs = [SimRobotSpec(f"r{i}", STARTS[i]) for i in range(count)]
    runner = SimRunner(
        bus.endpoint, FLOOR, specs, speed=4.0, step_s=0.05, charger_cells=frozenset(CHARGERS)
    ).start()
    try:
        yield service, runner
    finally:
        runner.stop()
        service.stop()
        bus.stop()


def statuses(service: ManagerService, ids: list[str]) -> dict[str, str]:
    rows = ask(service, lambda core: operator.handle(core, ListTasks()))
    return {r["task_id"]: r["status"] for r in rows if r["task_id"] in ids}


def test_ctl_tasks_move_real_robots_over_the_bus() -> None:
    """Operator tasks sent through the control socket are driven to done by simulated robots
    over real sockets; the simulator's own safety check sees nothing."""
    with live_floor(4) as (service, runner):
        control = ControlServer("tcp://127.0.0.1:0").open()
        control.start(lambda req: ask(service, lambda core: operator.handle(core, req)))
        try:
            client = ControlClient(control.endpoint, timeout_s=ASK_S)
            wait_for(lambda: len(service.core.reservations.drives) == 4, 20)
            ids = [
                client.call(AddTask(TaskKind.MOVE, (ACCESS[k * 37 % len(ACCESS)],)))["task_id"]
                for k in range(8)
            ]
            done = wait_for(lambda: set(statuses(service, ids).values()) == {"done"}, timeout_s=120)
            assert done, statuses(service, ids)
        finally:
            control.stop()
        assert runner.violations() == []
        assert service.errors == 0


def test_killed_robot_mid_task_is_finished_by_another() -> None:
    """A robot whose connection dies mid-task goes CONNECTIONBROKEN; its task is requeued
    and another robot finishes it, while nobody drives into the dead robot's cells."""
    with live_floor(3) as (service, runner):
        wait_for(lambda: len(service.core.reservations.drives) == 3, 20)
        far = ACCESS[len(ACCESS) // 2]
        task = ask(service, lambda core: operator.handle(core, AddTask(TaskKind.MOVE, (far,))))
        tid = task["task_id"]
        robot = wait_for(lambda: ask(service, lambda c: c.tasks.get(tid).robot), 20)
        assert robot
        wait_for(lambda: ask(service, lambda c: c.robots[robot].empty_cells >= 2), 30)
        runner.kill(robot)
        wait_for(lambda: ask(service, lambda c: c.tasks.get(tid).robot not in (None, robot)), 30)
        assert wait_for(lambda: statuses(service, [tid]).get(tid) == "done", 120)
        finisher = ask(
            service, lambda c: [e for e in service.store.events() if e.task_id == tid and e.robot]
        )
        assert finisher[-1].robot != robot
        assert runner.violations() == []


def test_picks_confirmed_once_in_the_ledger(tmp_path) -> None:
    """A pick route's lines are booked in the ledger when the robot finishes each pick, once,
    even when the confirmation is repeated."""
    from fleet.manager.events import ConfirmPicks
    from fleet.manager.model import PickLine, Stop, StopAction, TaskSpec
    from wms.inventory_types import LocationKind
    from wms.ledger import LocationRecord, SkuRecord

    ledger = Ledger.open(str(tmp_path / "site.db"))
    ledger.add_skus([SkuRecord("SKU1")])
    loc = FLOOR.locations[3]
    ledger.add_locations([LocationRecord(loc.location_id, LocationKind.FORWARD)])
    ledger.receive("SKU1", loc.location_id, 10)
    booker = LedgerBooker(ledger)
    line = PickLine("b1/0", "o1", "SKU1", 3, loc.location_id)
    spec = TaskSpec(
        "b1", TaskKind.PICK_ROUTE, (Stop(loc.access_cell, StopAction.PICK_LINES, 2.0, (line,)),)
    )
    with live_floor(2, booker=booker) as (service, _runner):
        wait_for(lambda: len(service.core.reservations.drives) == 2, 20)
        ask(service, lambda core: core.submit(spec))
        assert wait_for(lambda: statuses(service, ["b1"]).get("b1") == "done", 120)
    repeat = ConfirmPicks("b1", "sim/r0", 0, (line,))
    assert booker.confirm(repeat) == 0
    assert booker.booked == 1
    assert ledger.available("SKU1", loc.location_id) == 7
    ledger.close()


def _ctl(endpoint: str, *args: str) -> Any:
    # a generous answer deadline: a loaded machine can take longer than the 2 s default
    argv = ["ctl", "--connect", endpoint, "--timeout", "20", *args]
    out = subprocess.run(
        [sys.executable, "-m", "warehouse.cli", *argv],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_warehouse_serve_and_ctl_end_to_end(tmp_path) -> None:
    """`warehouse serve` (a subprocess) with simulated controllers and `warehouse ctl tasks add`
    moves a robot to its goal; a restart on the same --db keeps the task log."""
    # private ipc addresses: the restart binds them again, and a second copy of the suite
    # could take a TCP port found free (the PUB and snapshot ports beside it were not even
    # checked)
    bind, ctl = ipc_endpoint(tmp_path, "bus"), ipc_endpoint(tmp_path, "ctl")
    db = str(tmp_path / "site.db")
    command = [sys.executable, "-m", "warehouse.cli", "serve", "--insecure"]
    command += ["--bind", bind, "--ctl", ctl, "--db", db, "--log-level", "WARNING"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    runner = SimRunner(bind, FLOOR, [SimRobotSpec("r0", STARTS[0])], speed=4.0, step_s=0.05)
    try:
        runner.start()
        robots = wait_for(lambda: _try(lambda: _ctl(ctl, "robots", "list", "--json")), 30)
        wait_for(lambda: _ctl(ctl, "robots", "list", "--json")[0]["cell"], 30)
        goal = ACCESS[10]
        added = _ctl(
            ctl, "tasks", "add", "--kind", "move", "--to", f"{goal[0]},{goal[1]}", "--json"
        )
        tid = added["task_id"]

        def done() -> bool:
            rows = _ctl(ctl, "tasks", "list", "--json")
            return any(r["task_id"] == tid and r["status"] == "done" for r in rows)

        assert wait_for(done, 120)
        assert any(cells.get("sim/r0") == goal for _, cells in runner.trace())
        assert robots and robots[0]["robot"] == "sim/r0"
    finally:
        runner.stop()
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=60)
    assert server.returncode == 0
    again = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        rows = wait_for(lambda: _try(lambda: _ctl(ctl, "tasks", "list", "--json")), 30)
        assert any(r["task_id"] == tid and r["status"] == "done" for r in rows)
    finally:
        again.send_signal(signal.SIGTERM)
        again.communicate(timeout=60)


def _try(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except AssertionError:
        return None


def test_silent_robot_keeps_its_cells_and_is_reintegrated() -> None:
    """A robot that goes silent mid-task is CONNECTIONBROKEN: its task goes to another robot,
    every cell of its granted base stays held, and when it talks again it rejoins as idle."""
    with live_floor(2) as (service, runner):
        wait_for(lambda: len(service.core.reservations.drives) == 2, 20)
        far = ACCESS[len(ACCESS) // 3]
        tid = ask(service, lambda c: operator.handle(c, AddTask(TaskKind.MOVE, (far,))))["task_id"]
        robot = wait_for(lambda: ask(service, lambda c: c.tasks.get(tid).robot), 20)
        wait_for(lambda: ask(service, lambda c: c.robots[robot].empty_cells >= 2), 30)
        runner.comm_loss(robot, 12.0)
        held = wait_for(
            lambda: ask(
                service, lambda c: None if c.robots[robot].online else c.reservations.held_by(robot)
            ),
            30,
        )
        assert held, "the silent robot's base was not kept"
        assert wait_for(lambda: statuses(service, [tid]).get(tid) == "done", 120)
        back = wait_for(lambda: ask(service, lambda c: c.robots[robot].online), 60)
        assert back
        assert runner.violations() == []


def test_fleet_snapshot_on_the_pub_socket() -> None:
    """A late viewer gets the versioned fleet snapshot (robots, tasks, reservations)."""
    from fleet.bus.subscriber import FleetSubscriber

    bus = BusServer("tcp://127.0.0.1:0", pub="tcp://127.0.0.1:0", insecure=True, config=BUS)
    bus.start()
    core = FleetCore(FLOOR, FleetConfig(cycle_s=0.05))
    service = ManagerService(core, bus).start()
    runner = SimRunner(bus.endpoint, FLOOR, [SimRobotSpec("r0", STARTS[0])], speed=4.0, step_s=0.05)
    runner.start()
    try:
        wait_for(lambda: len(core.reservations.drives) == 1, 20)
        assert bus.pub_endpoint and bus.snapshot_endpoint
        with FleetSubscriber(bus.pub_endpoint, bus.snapshot_endpoint) as viewer:

            def snapshot() -> Any:
                viewer.snapshot(timeout_s=30.0)
                return viewer.values.get(("fleet", "snapshot"))

            first = wait_for(lambda: (s := snapshot()) and s["robots"] and s, 20)
            assert first and first["robots"][0]["robot"] == "sim/r0"
            assert {"version", "tasks", "reservations", "robots"} <= set(first)
            later = wait_for(
                lambda: (s := snapshot()) and s["version"] > first["version"] and s, 20
            )
            assert later
    finally:
        runner.stop()
        service.stop()
        bus.stop()


def test_a_call_the_busy_core_never_took_is_withdrawn_not_run_later() -> None:
    """An operator command that times out waiting for the cycle thread is not carried out
    afterwards behind the operator's back; one the core already runs is waited for."""
    bus = BusServer("tcp://127.0.0.1:0", insecure=True, config=BUS).start()
    service = ManagerService(FleetCore(FLOOR, FleetConfig(cycle_s=0.05)), bus).start()
    release, started, ran = threading.Event(), threading.Event(), []

    def hold(core: FleetCore) -> str:
        started.set()
        assert release.wait(120), "the test never released the core"
        return "held"

    try:
        holder = threading.Thread(target=lambda: ran.append(service.call(hold, 120.0)))
        holder.start()
        assert started.wait(60)  # the cycle thread is now inside `hold`
        with pytest.raises(TimeoutError, match="withdrawn"):
            service.call(lambda core: ran.append("late"), 0.05)
        release.set()
        holder.join(60)
        assert ask(service, lambda core: "after") == "after"  # the thread went on
        assert ran == ["held"]  # the withdrawn call never ran
    finally:
        release.set()
        service.stop()
        bus.stop()
