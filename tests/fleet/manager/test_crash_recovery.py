"""Crash recovery of the decision core: a manager thrown away at any tick and rebuilt from
the database adopts the robots' orders, finishes every task, confirms every pick, and
never lets two robots share a cell — with the robots driving on while it is down."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleet.manager.config import FleetConfig
from fleet.manager.core import FleetCore, task_of_order
from fleet.manager.durable import DurableFleet
from fleet.manager.events import (
    Command,
    ConfirmPicks,
    RobotConnection,
    RobotPlaced,
    TaskEvent,
    TaskSubmitted,
)
from fleet.manager.lockstep import Lockstep
from fleet.manager.model import PickLine, Stop, StopAction, TaskKind, TaskSpec, TaskStatus
from fleet.manager.store import SqliteTaskStore
from fleet.protocol.messages import ConnectionState
from sim.controller import SimRobot, SimRobotParams
from sim.safety import SafetyMonitor
from tests.fleet.manager.world import ACCESS, CHARGERS, FLOOR
from wms.ledger import Ledger

STARTS = [(29, 2), (29, 6), (29, 10), (29, 14)]


class DurableLockstep(Lockstep):
    """The in-process lockstep with the service's write-before-act order: task events and
    orders go to the database before they reach a robot; ``crash_after_write`` drops the
    actions of the next batch, as a crash right after the commit would."""

    def __init__(self, core, controllers, db, confirmed, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.store = SqliteTaskStore(db)
        self.durable = DurableFleet(db)
        self.confirmed = confirmed
        self.crash_after_write = False
        self.crash_at_pick = False
        self.dead = False
        super().__init__(core, controllers, **kwargs)

    def deliver(self, commands: list[Command]) -> None:
        if self.dead:
            return
        self.store.append([c for c in commands if isinstance(c, TaskEvent)])
        self.durable.record(commands)
        picked = any(isinstance(c, ConfirmPicks) for c in commands)
        if self.crash_after_write or (self.crash_at_pick and picked):
            self.dead = True
            return
        for command in commands:
            if isinstance(command, ConfirmPicks):
                self.confirmed.update(line.pick_id for line in command.lines)
        super().deliver(commands)

    def close(self) -> None:
        self.store.close()
        self.durable.close()


def pick_tasks(count: int, rng: random.Random) -> list[TaskSpec]:
    specs = []
    for k in range(count):
        cells = rng.sample(ACCESS, 2)
        stops = tuple(
            Stop(
                cell,
                StopAction.PICK_LINES,
                2.0,
                (PickLine(f"t{k}/{i}", f"o{k}", "SKU1", 1, f"L{i}"),),
            )
            for i, cell in enumerate(cells)
        )
        specs.append(TaskSpec(f"t{k}", TaskKind.PICK_ROUTE, stops))
    return specs


def new_core() -> FleetCore:
    return FleetCore(FLOOR, FleetConfig(reconnect_grace_s=5.0), seed=0)


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    crash_tick=st.integers(5, 160),
    outage_ticks=st.integers(0, 12),
    crash=st.sampled_from(["tick", "after_write", "at_pick"]),
    seed=st.integers(0, 1000),
)
def test_core_crash_at_any_tick_loses_nothing(
    tmp_path_factory, crash_tick: int, outage_ticks: int, crash: str, seed: int
) -> None:
    """Kill the manager at a random tick (or right after it stored a batch, before acting
    on it, or right after storing the batch that finished a pick, before booking it), let
    the robots drive on, rebuild it from the database: every task ends done, every picked
    line is confirmed, and the safety monitor sees no violation."""
    db = str(tmp_path_factory.mktemp("crash") / "site.db")
    crash_and_restore(db, crash_tick, outage_ticks, crash, seed)


def crash_and_restore(db: str, crash_tick: int, outage_ticks: int, crash: str, seed: int) -> None:
    """The crash of `test_core_crash_at_any_tick_loses_nothing` on the site database ``db``
    (any URL: the PostgreSQL tests run it too), and its checks."""
    Ledger.open(db).close()  # the database is the ledger's
    rng = random.Random(seed)
    robots = {
        f"sim/r{i}": SimRobot(FLOOR, cell, SimRobotParams(), charger_cells=frozenset(CHARGERS))
        for i, cell in enumerate(STARTS)
    }
    monitor = SafetyMonitor(FLOOR.navigable)
    confirmed: set[str] = set()
    specs = pick_tasks(8, rng)
    core = new_core()
    run = DurableLockstep(core, dict(robots), db, confirmed, dt=0.25, on_step=monitor.observe)
    for spec in specs:
        run.deliver(core.handle(TaskSubmitted(spec), 0.0))
    for _ in range(crash_tick):
        run.step()
    run.crash_after_write = crash == "after_write"
    run.crash_at_pick = crash == "at_pick"
    run.step()
    while crash == "at_pick" and not run.dead and run.now < 1000:
        run.step()
    run.close()
    now = run.now
    for _ in range(outage_ticks):  # nobody answers; the robots drive their released bases
        now += run.dt
        for robot in robots.values():
            robot.advance(now)
        monitor.observe(now, {rid: r.cell for rid, r in robots.items()})
    core = new_core()
    again = DurableLockstep(core, {}, db, confirmed, dt=0.25, on_step=monitor.observe)
    again.deliver(core.restore(again.store.events(), now, again.durable.begin()))
    again.controllers = dict(robots)
    again.now = now
    again._headers = run._headers  # the robots' header counters go on
    for rid in robots:
        again.deliver(core.handle(RobotConnection(rid, ConnectionState.ONLINE), now))
        again.report(rid)
    ids = [s.task_id for s in specs]
    finished = again.run_until(lambda r: all(core.tasks.get(t).status.final for t in ids), 2000)
    again.close()
    assert finished, {t: core.tasks.get(t).status for t in ids}
    assert all(core.tasks.get(t).status is TaskStatus.DONE for t in ids)
    lines = {line.pick_id for s in specs for stop in s.stops for line in stop.lines}
    assert confirmed == lines
    assert monitor.violations == []
    core.reservations.check()


def test_orders_name_their_task_and_are_adopted(tmp_path) -> None:
    """An orderId names the task it was started for; after a restart the robot's running
    order is adopted (same orderId, next update continues it) instead of cancelled."""
    db = str(tmp_path / "site.db")
    Ledger.open(db).close()
    robots = {"sim/r0": SimRobot(FLOOR, STARTS[0], SimRobotParams())}
    core = new_core()
    run = DurableLockstep(core, dict(robots), db, set(), dt=0.25)
    far = ACCESS[len(ACCESS) // 2]
    run.deliver(core.handle(TaskSubmitted(TaskSpec("far", TaskKind.MOVE, (Stop(far),))), 0.0))
    for _ in range(12):
        run.step()
    run.close()
    stored = DurableFleet(db)
    resume = stored.resume()
    stored.close()
    (order_id,) = [o for o in resume.orders["sim/r0"] if task_of_order(o) == "far"]
    assert resume.latest["sim/r0"] == order_id
    core = new_core()
    again = DurableLockstep(core, {}, db, set(), dt=0.25)
    commands = core.restore(again.store.events(), run.now, again.durable.begin())
    assert not any(isinstance(c, RobotPlaced) for c in commands)
    drive = core.reservations.drives["sim/r0"]
    assert drive.order_id == order_id
    again.deliver(commands)
    again.controllers, again.now, again._headers = dict(robots), run.now, run._headers
    again.report("sim/r0")
    for _ in range(4):
        again.step()
    again.close()
    # no cancelOrder went out: the robot still drives the order it had, updated further
    state = robots["sim/r0"].state(run._headers["sim/r0"].next("state"))
    assert state.order_id == order_id
    assert state.order_update_id > resume.orders["sim/r0"][order_id][-1].update_id
