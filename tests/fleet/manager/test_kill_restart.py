"""Kill and restart: `warehouse serve` (a subprocess) is SIGKILLed at a random point while
simulated robots work over real ZeroMQ, restarted on the same database and endpoint, and
everything completes: every task done, every pick booked exactly once, ledger balanced —
on an SQLite file and on a real PostgreSQL server (``--db postgresql://...``)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys

from fleet.manager.durable import DurableFleet
from fleet.manager.model import PickLine, Stop, StopAction, TaskKind, TaskSpec, TaskStatus
from fleet.manager.store import SqlTaskStore
from fleet.manager.tasks import TaskBook
from sim.runner import SimRobotSpec, SimRunner
from tests.fleet.manager.test_manager_live import STARTS, wait_for
from tests.fleet.manager.world import CHARGERS, FLOOR
from tests.helpers import ipc_endpoint
from wms.inventory_types import LocationKind
from wms.ledger import Ledger, LocationRecord, SkuRecord

TASKS = 8
STOCK = 50


def seed_site(db: str, rng: random.Random) -> list[TaskSpec]:
    """A ledger with one SKU on a few faces; returns pick routes over them."""
    ledger = Ledger.open(db)
    ledger.add_skus([SkuRecord("SKU1")])
    faces = rng.sample(list(FLOOR.locations), 6)
    ledger.add_locations([LocationRecord(f.location_id, LocationKind.FORWARD) for f in faces])
    for face in faces:
        ledger.receive("SKU1", face.location_id, STOCK)
    ledger.close()
    specs = []
    for k in range(TASKS):
        stops = tuple(
            Stop(
                face.access_cell,
                StopAction.PICK_LINES,
                1.0,
                (PickLine(f"t{k}/{i}", f"o{k}", "SKU1", 1 + i, face.location_id),),
            )
            for i, face in enumerate(rng.sample(faces, 2))
        )
        specs.append(TaskSpec(f"t{k}", TaskKind.PICK_ROUTE, stops))
    return specs


def release(db: str, specs: list[TaskSpec]) -> None:
    """Pick routes into the task log, as the WMS link releases them (read on start)."""
    book = TaskBook()
    store = SqlTaskStore(db)
    store.append([book.submit(spec, 0.0) for spec in specs])
    store.close()


def registered(db: str) -> int:
    """Robots in the registry the server keeps (read through the same storage layer)."""
    durable = DurableFleet(db)
    try:
        return len(durable.resume().robots)
    finally:
        durable.close()


def task_statuses(db: str) -> dict[str, TaskStatus]:
    store = SqlTaskStore(db)
    try:
        return {t.task_id: t.status for t in TaskBook.replay(store.events())}
    finally:
        store.close()


def test_sigkill_at_a_random_point_loses_nothing(tmp_path, site_url: str) -> None:
    """SIGKILL the server mid-work (a random moment after the first task started), restart
    it on the same --db and --bind: all tasks end done, each pick line is booked once with
    its quantity, the ledger balances, and the robots' own safety check sees nothing.

    The work is released while the robots are known: a first server registers them and is
    killed idle, so the next one reserves every robot's cell from the database before any
    robot has reported (a robot not connected yet is otherwise invisible)."""
    rng = random.Random()
    db = site_url
    specs = seed_site(db, rng)
    bind = ipc_endpoint(tmp_path, "bus")  # bound again by each restart: no one else can take it
    command = [sys.executable, "-m", "warehouse.cli", "serve", "--insecure", "--no-pub"]
    command += ["--bind", bind, "--db", db, "--log-level", "INFO", "--status-every", "0"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 - closed below
    server = subprocess.Popen(command, stdout=log, stderr=log, env=env)
    specs_robots = [SimRobotSpec(f"r{i}", STARTS[i]) for i in range(4)]
    runner = SimRunner(
        bind, FLOOR, specs_robots, speed=4.0, step_s=0.05, charger_cells=frozenset(CHARGERS)
    )
    ids = [s.task_id for s in specs]
    try:
        runner.start()
        assert wait_for(lambda: registered(db) == len(specs_robots), 120), registered(db)
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=30)
        release(db, specs)
        server = subprocess.Popen(command, stdout=log, stderr=log, env=env)
        started = wait_for(
            lambda: any(s is TaskStatus.ACTIVE for s in task_statuses(db).values()), 120
        )
        assert started, "no task started before the kill"
        done_before = rng.randint(0, TASKS // 2)
        wait_for(
            lambda: sum(s is TaskStatus.DONE for s in task_statuses(db).values()) >= done_before,
            120,
        )
        wait_for(lambda: False, rng.uniform(0.0, 1.5))  # a random moment, mid-drive or mid-pick
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=30)
        server = subprocess.Popen(command, stdout=log, stderr=log, env=env)
        finished = wait_for(
            lambda: all(task_statuses(db).get(t) is TaskStatus.DONE for t in ids), 240
        )
        assert finished, task_statuses(db)
    finally:
        runner.stop()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        log.close()
    assert runner.violations() == []
    ledger = Ledger.open(db)
    try:
        assert ledger.balance_check().ok
        picks = [m for m in ledger.movements() if m.ref and m.ref.startswith("confirm:")]
        booked = sorted(m.ref.removeprefix("confirm:") for m in picks)
        lines = {ln.pick_id: ln for s in specs for stop in s.stops for ln in stop.lines}
        assert booked == sorted(lines), "a pick was lost or booked twice"
        for movement in picks:
            assert movement.qty == lines[movement.ref.removeprefix("confirm:")].qty
    finally:
        ledger.close()
    text = (tmp_path / "serve.log").read_text(errors="replace")
    assert "Traceback" not in text, text[-3000:]
