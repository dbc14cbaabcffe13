"""The fault campaign: lockstep days in which the server is SIGKILLed and restarted, robots
break down, communication drops in bursts and aisles are blocked — and nothing is lost.

One run (`run_faults`) plans a day (`warehouse.day.plan_day`), opens its ledger in a
fresh database (an SQLite file, or a scratch schema of a PostgreSQL database when given
a ``postgresql://`` URL: `run_site`; the same code path through the storage layer
either way), releases the pick routes and drives them on a `CrashFloor` (server in
its own process). A seeded schedule, different per run, kills the server 1–2 times at
random ticks (the robots drive on while it is down), breaks down 10% of the robots for
a while, silences bursts of robots and blocks short aisle segments. At the end the
database alone is judged:

- an order is *completed* when all of its tasks are DONE and *lost* otherwise;
- every line of every stop the task log says is done must be booked exactly once in
  the ledger (`confirm:<pick id>` movements): a missing one is *units lost*, a second
  booking or a booking for a stop not done is *units duplicated*; the ledger's own
  balance check must hold;
- the simulated robots' independent safety monitor counts violations;
- recovery is wall time from the SIGKILL until every robot that can talk has reported
  to the new server and been given its drive back.

Opening stock covers several days of demand, so no line is short and every unbooked
line is a loss, not a stock-out.
"""

from __future__ import annotations

import math
import random
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fleet.manager.config import FleetConfig
from fleet.manager.model import TaskKind, TaskStatus
from fleet.manager.store import SqlTaskStore
from fleet.manager.tasks import TaskBook
from sim.runner import SimRobotSpec
from sim.scenario import Mode
from warehouse.config import AppConfig
from warehouse.crash_floor import CrashFloor
from warehouse.day import DaySettings, day_tasks, open_stock, plan_day, shift_start
from warehouse.fleet_lockstep import start_cells
from wms.layout import Cell
from wms.ledger import Ledger
from wms.ledger.storage import parse_url, scratch_schemas


@dataclass(frozen=True, slots=True)
class CampaignSettings:
    robots: int = 20
    orders: int = 60
    max_sim_s: float = 3000.0
    tick_s: float = 1.0
    kills: tuple[int, int] = (1, 2)
    """How many server kills per run (inclusive range)."""
    breakdown_share: float = 0.10


@dataclass
class FaultPlan:
    """The seeded schedule of one run (simulated seconds)."""

    kills: list[float] = field(default_factory=list)
    down_ticks: list[int] = field(default_factory=list)
    breakdowns: list[tuple[float, float, int]] = field(default_factory=list)
    comm_loss: list[tuple[float, float, int]] = field(default_factory=list)
    blocks: list[tuple[float, float, tuple[Cell, ...]]] = field(default_factory=list)


def fault_plan(
    rng: random.Random, settings: CampaignSettings, robots: int, aisle: list[Cell]
) -> FaultPlan:
    plan = FaultPlan()
    for _ in range(rng.randint(*settings.kills)):
        plan.kills.append(float(rng.randint(20, 150)))
        plan.down_ticks.append(rng.randint(0, 3))
    plan.kills.sort()
    broken = rng.sample(range(robots), max(1, math.ceil(settings.breakdown_share * robots)))
    for robot in broken:
        start = float(rng.randint(10, 200))
        plan.breakdowns.append((start, start + rng.randint(30, 120), robot))
    for _ in range(3):  # bursts: a fifth of the fleet silent at once
        start = float(rng.randint(10, 250))
        for robot in rng.sample(range(robots), max(1, robots // 5)):
            plan.comm_loss.append((start, float(rng.randint(2, 8)), robot))
    for _ in range(2):
        cell = rng.choice(aisle)
        segment = tuple(c for c in ((cell[0], cell[1] + d) for d in range(3)) if c in aisle)
        start = float(rng.randint(10, 200))
        plan.blocks.append((start, start + rng.randint(30, 120), segment))
    return plan


def _aisle_cells(config: AppConfig) -> list[Cell]:
    """Cells a blockage may fall on: free cells that are no stop, station, charger or dock."""
    floor = config.floor
    special = {loc.access_cell for loc in floor.locations}
    for points in (floor.stations, floor.chargers, floor.docks):
        special |= {p.cell for p in points}
    rows, cols = floor.navigable.nonzero()
    return sorted(
        (int(r), int(c)) for r, c in zip(rows, cols, strict=True) if (r, c) not in special
    )


@contextmanager
def run_site(db_url: str | None, name: str) -> Iterator[str]:
    """The URL of a fresh, empty site database for one run, removed afterwards.

    Without ``db_url``: an SQLite file in a temporary folder. With a ``postgresql://``
    URL: a new schema in that database (`wms.ledger.storage.scratch_schemas`; the URL
    returned selects it by ``search_path``), so runs never see each other's rows and
    nothing else in the database is touched. Any other URL is refused
    (`UnsupportedDatabase`): a run needs a database of its own.
    """
    if db_url is None:
        with tempfile.TemporaryDirectory(prefix="faults-") as tmp:
            yield str(Path(tmp) / "site.db")
        return
    with scratch_schemas(db_url) as make:
        yield make(name)


def backend_of(db_url: str | None) -> str:
    """The storage backend a campaign runs on ("sqlite" without a URL)."""
    return "sqlite" if db_url is None else parse_url(db_url).backend


def run_faults(
    config: AppConfig, seed: int, settings: CampaignSettings, db_url: str | None = None
) -> dict[str, Any]:
    """One fault run; see the module docstring for what is measured. ``db_url``: a
    PostgreSQL database to make the run's scratch schema in (default: an SQLite file)."""
    rng = random.Random(seed)
    floor = config.floor
    day = DaySettings(amrs=settings.robots, orders=settings.orders, seed=seed)
    planning_config = config.wms
    with run_site(db_url, f"faults{seed}") as db:
        # The day's own opening stock (the demo history), orders and plan, as `warehouse demo`.
        ledger = open_stock(config, day, db, planning_config.planning)
        try:
            book, plan, _summary = plan_day(config, day, ledger)
        finally:
            ledger.close()
        tasks = day_tasks(book, plan, shift_start(book), Mode.PICKING, floor)
        ids = [t.task_id for t in tasks]
        cells = start_cells(floor, settings.robots, {p.cell for p in floor.chargers})
        names = [f"amr{i:03d}" for i in range(settings.robots)]
        specs = [SimRobotSpec(n, c) for n, c in zip(names, cells, strict=True)]
        fleet = FleetConfig(
            cycle_s=settings.tick_s, seconds_per_cell=settings.tick_s, reconnect_grace_s=10.0
        )
        faults = fault_plan(rng, settings, settings.robots, _aisle_cells(config))
        run = CrashFloor(floor, specs, db, fleet, tick_s=settings.tick_s, seed=seed)
        wall0 = time.perf_counter()
        recoveries: list[float] = []
        completed_run = True
        stuck: dict[str, Any] = {}
        try:
            run.start()
            run.submit(tasks)
            robot_ids = [s.robot_id for s in specs]
            deaf_until: dict[str, float] = {}
            pending: set[Cell] = set()
            kills = list(zip(faults.kills, faults.down_ticks, strict=True))
            broken_on = sorted((s, r) for s, _, r in faults.breakdowns)
            broken_off = sorted((e, r) for _, e, r in faults.breakdowns)
            comm = sorted(faults.comm_loss)
            blocks_on = sorted((s, c) for s, _, c in faults.blocks)
            blocks_off = sorted((e, c) for _, e, c in faults.blocks)
            while run.now_s < settings.max_sim_s:
                now = run.now_s
                while broken_on and broken_on[0][0] <= now:
                    run.runner.break_down(robot_ids[broken_on.pop(0)[1]])
                while broken_off and broken_off[0][0] <= now:
                    run.runner.repair(robot_ids[broken_off.pop(0)[1]])
                while comm and comm[0][0] <= now:
                    _, seconds, robot = comm.pop(0)
                    run.runner.comm_loss(robot_ids[robot], seconds)
                    deaf_until[robot_ids[robot]] = now + seconds
                while blocks_on and blocks_on[0][0] <= now:
                    segment = list(blocks_on.pop(0)[1])
                    run.block(segment)
                    pending.update(segment)
                while blocks_off and blocks_off[0][0] <= now:
                    segment = list(blocks_off.pop(0)[1])
                    pending.difference_update(segment)
                    run.runner.block(segment, blocked=False)
                    run.block(segment, blocked=False)
                if pending:
                    free_now = run.free(pending)
                    if free_now:
                        run.runner.block(free_now)
                        pending -= free_now
                if kills and kills[0][0] <= now:
                    _, down = kills.pop(0)
                    recoveries.append(_kill_and_recover(run, down, robot_ids, deaf_until))
                    run.submit(tasks)  # the WMS releases again what the task log lacks
                    continue
                run.step()
                if int(now) % 10 == 0 and not set(ids) & set(run.status()["open"]):
                    break
            violations = len(run.runner.violations())
            final = run.status()
            errors = final["errors"]
            if set(ids) & set(final["open"]):
                stuck = {"tasks": final["stuck"], "robots": final["robots"]}
        except Exception as error:  # a run that fails is reported, not hidden
            completed_run = False
            violations = len(run.runner.violations()) if run.runner else 0
            errors = repr(error)
        finally:
            run.stop()
        wall = time.perf_counter() - wall0
        result = judge(db, tasks, book.orders)
    result.update(
        seed=seed,
        backend=backend_of(db_url),
        robots=settings.robots,
        completed=completed_run and result["orders_lost"] == 0,
        server_kills=len(recoveries),
        recovery_s=[round(r, 2) for r in recoveries],
        max_recovery_s=round(max(recoveries, default=0.0), 2),
        safety_violations=violations,
        manager_errors=errors,
        stuck_tasks=stuck,
        sim_s=run.now_s,
        wall_s=round(wall, 1),
        breakdowns=len(faults.breakdowns),
        comm_loss_robots=len(faults.comm_loss),
        blocked_segments=len(faults.blocks),
    )
    return result


def _kill_and_recover(
    run: CrashFloor, down_ticks: int, robot_ids: list[str], deaf_until: dict[str, float]
) -> float:
    """SIGKILL the server, let the world drive on for ``down_ticks``, restart it, and tick
    until every robot that can talk drives again; returns the wall seconds that took."""
    killed = time.perf_counter()
    run.kill_server()
    for _ in range(down_ticks):
        run.step(down=True)
    run.restart_server()
    deadline = time.monotonic() + 120.0
    while time.monotonic() < deadline:
        run.step()
        talking = [r for r in robot_ids if deaf_until.get(r, 0.0) <= run.now_s]
        if run.recovered(talking):
            return time.perf_counter() - killed
    raise TimeoutError("the robots did not recover after the server restart")


def judge(db: str, tasks: list[Any], orders: list[Any]) -> dict[str, Any]:
    """Orders completed / lost and units lost / duplicated, from the database alone."""
    store = SqlTaskStore(db)
    try:
        book = TaskBook.replay(store.events())
    finally:
        store.close()
    ledger = Ledger.open(db)
    try:
        booked: Counter[str] = Counter()
        qty: dict[str, int] = {}
        for m in ledger.movements():
            if m.ref and m.ref.startswith("confirm:"):
                booked[m.ref.removeprefix("confirm:")] += 1
                qty[m.ref.removeprefix("confirm:")] = m.qty
        balanced = bool(ledger.balance_check().ok)
    finally:
        ledger.close()
    done_lines: dict[str, int] = {}
    open_lines: set[str] = set()
    for task in book:
        for index, stop in enumerate(task.stops):
            for line in stop.lines:
                if index < task.stop_index:
                    done_lines[line.pick_id] = line.qty
                else:
                    open_lines.add(line.pick_id)
    units_lost = sum(q for pid, q in done_lines.items() if booked[pid] == 0)
    units_dup = sum(qty.get(pid, 0) * (n - 1) for pid, n in booked.items() if n > 1)
    units_dup += sum(qty.get(pid, 0) for pid in open_lines if booked[pid])
    order_tasks: dict[str, set[str]] = {}
    for spec in tasks:
        for stop in spec.stops:
            for line in stop.lines:
                order_tasks.setdefault(line.order_id, set()).add(spec.task_id)
    status = {t.task_id: t.status for t in book}
    completed = sum(
        1 for ts in order_tasks.values() if all(status.get(t) is TaskStatus.DONE for t in ts)
    )
    replenish = [t for t in book if t.spec.kind is TaskKind.REPLENISH]
    failed = sorted(
        {
            f"{t.task_id} {t.status.value}: {t.reason}"
            for t in book
            if t.status.final
            and t.status is not TaskStatus.DONE
            and t.spec.kind not in (TaskKind.CHARGE, TaskKind.PARK)
        }
    )
    return {
        "orders": len(order_tasks),
        "orders_completed": completed,
        "orders_lost": len(order_tasks) - completed,
        "lines_booked": sum(booked.values()),
        "units_lost": units_lost,
        "units_duplicated": units_dup,
        "ledger_balanced": balanced,
        "replenishments": len(replenish),
        "not_done": failed,
    }


def totals(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The campaign's total over its runs."""
    return {
        "runs": len(results),
        "runs_completed": sum(1 for r in results if r["completed"]),
        "orders_completed": sum(r["orders_completed"] for r in results),
        "orders_lost": sum(r["orders_lost"] for r in results),
        "units_lost": sum(r["units_lost"] for r in results),
        "units_duplicated": sum(r["units_duplicated"] for r in results),
        "safety_violations": sum(r["safety_violations"] for r in results),
        "server_kills": sum(r["server_kills"] for r in results),
        "max_recovery_s": max((r["max_recovery_s"] for r in results), default=0.0),
        "ledgers_balanced": all(r["ledger_balanced"] for r in results),
    }
