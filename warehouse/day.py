"""One working day on the simulated floor: the whole system, end to end.

orders → slotting → waves, batches and OR-Tools routes (`wms.planning`) → a
fresh ledger with opening stock that does not know the plan → pick-route tasks
(`fleet.manager.wms_link`) → the fleet manager over real ZeroMQ with simulated
controllers, in lockstep (`warehouse.floor_sim`) → each pick booked in the
ledger when its robot finishes it, a line the stock cannot cover reported
short → a `sim.record.RunRecord` for the KPIs and the report.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fleet.manager.booking import RETURN_PREFIX, LedgerBooker
from fleet.manager.config import FleetConfig, RobotRule
from fleet.manager.model import RobotKind, TaskKind, TaskSpec, TaskStatus
from fleet.manager.wms_link import plan_tasks, pod_tasks, sortation_tasks
from sim.faults import ActionKind, FaultAction, FaultSchedule
from sim.record import OrderRecord, RobotActivity, RobotSample, RunParams, RunRecord
from sim.runner import SimRobotSpec
from sim.scenario import BoundScenario, Mode, Returns, Stock, StockSource
from warehouse.config import AppConfig
from warehouse.fleet_lockstep import start_cells
from warehouse.floor_sim import LockstepFloor, LockstepSettings
from wms import planning
from wms.catalog import Catalog
from wms.errors import InputError
from wms.inventory_types import LocationKind
from wms.layout import Cell, Floor, FloorPoint, PointKind
from wms.layout.sortation import sortation_floor
from wms.ledger import RETURNS_PREFIX, Ledger, floor_locations
from wms.ledger.demo import seed_demo
from wms.opening_stock import pick_faces, read_stock_csv, stock_catalog, stock_ledger, stocked_skus
from wms.orders import OrderBook, generate_orders, read_orders_csv
from wms.picking.plan import WavePlan, plan_waves
from wms.returns import Inspection, load_policy, summarise_outcomes
from wms.returns.synthetic import synthetic_returns

SHIFT_START_HOUR = 6
"""Simulated time 0 is 06:00 on the day of the first cut-off."""


@dataclass(frozen=True, slots=True)
class DaySettings:
    amrs: int = 20
    agvs: int = 0
    seed: int = 0
    orders: int | None = None
    orders_csv: Path | None = None
    max_sim_s: float = 36_000.0
    tick_s: float = 1.0
    returns: Returns = field(default_factory=Returns)
    """Customer returns reaching the docks during the day (none by default)."""
    returns_station: Cell | None = None
    """Where returns are inspected; ``None``: the floor's last station."""
    stock: Stock = field(default_factory=Stock)
    """Where the opening stock comes from: the demo history (default) or a stock file."""
    planner: str = "guided"
    assigner: str = "ours"
    pub: bool = False
    mode: Mode = Mode.PICKING
    start_battery_pct: float | None = None
    starts: tuple[Cell, ...] | None = None
    faults: tuple[FaultAction, ...] = ()
    """Scripted faults (`sim.faults`), applied at the start of the tick they fall in."""


def settings_from_scenario(bound: BoundScenario) -> DaySettings:
    """A scenario file's day: fleet, seed, clock, orders, mode, start cells and faults."""
    sc = bound.scenario
    return DaySettings(
        amrs=sc.robots.amr,
        agvs=sc.robots.agv,
        seed=sc.seed,
        orders=sc.orders.count,
        orders_csv=sc.orders.csv,
        max_sim_s=sc.max_sim_s,
        tick_s=sc.seconds_per_tick,
        mode=sc.mode,
        start_battery_pct=sc.start_battery_pct,
        starts=sc.robots.starts,
        faults=FaultSchedule.of(bound).actions,
        stock=sc.stock,
        returns=sc.returns,
        returns_station=bound.returns_station,
    )


@dataclass
class DayRun:
    """What the day produced: the run record and the parts the report describes."""

    record: RunRecord
    plan: WavePlan | None
    """``None`` for sortation: parcels go to chutes without a pick plan."""
    wms: dict[str, Any]
    ledger: dict[str, Any]
    fleet: dict[str, Any] = field(default_factory=dict)
    returns: dict[str, Any] = field(default_factory=dict)
    """Customer returns carried by robots: received, booked into stock, dock-to-stock times."""


DEMO_HISTORY_DAYS = 200
"""Length of the demo history that opens a day's ledger (`wms.ledger.demo.seed_demo`)."""


def open_stock(
    config: AppConfig, settings: DaySettings, path: Path | str | None, planning_config: Any
) -> Ledger:
    """The day's ledger with its opening stock from the scenario: the demo history (seeded,
    ending when the order stream starts; as many SKUs as the floor has forward faces for,
    up to the catalogue's size) or a stock file. Neither knows the day's plan. ``path``:
    an SQLite file or any URL the ledger opens (``postgresql://`` too); None: in memory."""
    floor = config.floor
    url = str(path) if path else ":memory:"
    if settings.mode is Mode.SORTATION:
        return Ledger.open(url)  # parcels come from outside: nothing is picked from stock
    if settings.stock.source is StockSource.CSV:
        assert settings.stock.csv is not None
        rows = read_stock_csv(settings.stock.csv)
        ledger = Ledger.open(url)
        try:
            stock_ledger(ledger, floor, rows, planning.default_catalog(planning_config, 0))
        except BaseException:
            ledger.close()
            raise
        return ledger
    kinds = [r.kind for r in floor_locations(floor)]
    skus = min(
        planning_config.skus, kinds.count(LocationKind.FORWARD), kinds.count(LocationKind.RESERVE)
    )
    if skus < 1:
        raise InputError(floor.name, "has no storage faces for the demo stock history")
    end = planning_config.profile.start.replace(tzinfo=UTC)
    return seed_demo(url, floor, seed=settings.seed, skus=skus, days=DEMO_HISTORY_DAYS, end=end)


def day_orders(planning_config: Any, settings: DaySettings, ledger: Ledger) -> OrderBook:
    """The day's orders: the order file (read with the config's catalogue plus the
    ledger's SKUs), or the seeded synthetic stream drawn over the SKUs the opening stock
    holds — a warehouse takes orders for what it sells. Sortation parcels come from
    outside: the config's catalogue and order stream."""
    if settings.mode is Mode.SORTATION:
        if settings.orders is not None:
            profile = replace(planning_config.profile, orders=settings.orders)
            planning_config = replace(planning_config, profile=profile)
        return planning.load_order_book(planning_config, settings.orders_csv, settings.seed)
    base = planning.default_catalog(planning_config, settings.seed)
    known = stock_catalog(ledger, base, settings.seed)
    profile = planning_config.profile
    if settings.orders is not None:
        profile = replace(profile, orders=settings.orders)
    if settings.orders_csv is not None:
        both = Catalog({**base.skus, **known.skus}, synthetic=base.synthetic, note=base.note)
        return read_orders_csv(settings.orders_csv, both, planning_config.uci_cutoff_hour)
    stocked = stocked_skus(ledger)
    if not stocked:
        raise InputError("stock", "the opening stock holds no units: no orders to draw")
    catalog = Catalog({s: known[s] for s in stocked}, synthetic=known.synthetic, note=known.note)
    orders = generate_orders(catalog, profile, settings.seed)
    return OrderBook(orders, catalog, "synthetic")


def plan_day(
    config: AppConfig, settings: DaySettings, ledger: Ledger
) -> tuple[OrderBook, WavePlan | None, dict[str, Any]]:
    """The day's orders and, except for sortation (parcels need no pick plan), its waves,
    batches and routes, each SKU picked where the opening stock holds it."""
    planning_config = config.wms.planning
    book = day_orders(planning_config, settings, ledger)
    lines = sum(len(o.lines) for o in book.orders)
    if settings.mode is Mode.SORTATION:
        return book, None, {"orders": len(book.orders), "lines": lines, "parcels": len(book.orders)}
    model = planning.floor_model(config.floor)
    skus = [line.sku for order in book.orders for line in order.lines]
    faces = pick_faces(ledger, skus, model.travel.location_ids)
    plan = plan_waves(
        book.orders, book.catalog, faces, model.travel, model.aisles, planning_config.picking
    )
    summary = {
        "orders": plan.orders,
        "lines": plan.lines,
        "skus": len(book.catalog),
        "waves": len(plan.waves),
        "batches": len(plan.batches),
        "travel": plan.travel,
        "baseline_single_order_sshape_travel": plan.baseline_single_order_sshape_travel,
        "baseline_batched_sshape_travel": plan.baseline_batched_sshape_travel,
        "lower_bound": plan.lower_bound,
    }
    return book, plan, summary


def shift_start(book: OrderBook) -> datetime:
    """06:00 on the day of the first cut-off."""
    first = min(o.due for o in book.orders)
    return first.replace(hour=SHIFT_START_HOUR, minute=0, second=0, microsecond=0)


def _activity(floor_run: LockstepFloor, robot_id: str, moved: bool) -> RobotActivity:
    core = floor_run.core
    track = core.robots[robot_id]
    sim = floor_run.runner.robot(robot_id) if floor_run.runner else None
    if track.fault or not track.online or (sim is not None and sim.broken):
        return RobotActivity.ERROR
    if sim is not None and sim.charging:
        return RobotActivity.CHARGING
    task = core.tasks.get(track.task_id) if track.task_id else None
    if task is None or task.spec.kind in (TaskKind.PARK, TaskKind.CHARGE):
        return RobotActivity.IDLE if task is None or not moved else RobotActivity.MOVING
    if track.action_id is not None and not moved:
        return RobotActivity.WORKING
    if moved:
        return RobotActivity.CARRYING if task.status is TaskStatus.ACTIVE else RobotActivity.MOVING
    return RobotActivity.WAITING


def run_day(
    config: AppConfig,
    settings: DaySettings,
    ledger_path: Path | None = None,
    on_tick: Callable[[LockstepFloor, RunRecord], None] | None = None,
) -> DayRun:
    """Plan the day, open the ledger, drive every batch with the fleet; see the module doc."""
    floor = config.floor
    fleet_size = settings.amrs + settings.agvs
    if fleet_size < 1:
        raise InputError("--robots", "the fleet needs at least one robot")
    free = int(floor.navigable.sum()) - len(floor.chargers)
    if fleet_size > free:
        raise InputError("--robots", f"{fleet_size} robots do not fit on {free} free cells")
    wms = config.wms
    ledger = open_stock(config, settings, ledger_path, wms.planning)
    try:
        return _run_day(config, settings, ledger, ledger_path, on_tick)
    finally:
        ledger.close()


def _run_day(
    config: AppConfig,
    settings: DaySettings,
    ledger: Ledger,
    ledger_path: Path | None,
    on_tick: Callable[[LockstepFloor, RunRecord], None] | None,
) -> DayRun:
    floor = config.floor
    fleet_size = settings.amrs + settings.agvs
    book, plan, wms_summary = plan_day(config, settings, ledger)
    start = shift_start(book)
    booker = None
    if settings.mode is not Mode.SORTATION:
        booker = LedgerBooker(ledger, policy=load_policy() if settings.returns.count else None)
    arrivals = day_returns(settings, ledger, floor) if booker is not None else []
    received = 0
    rules = (RobotRule("sim/agv*", RobotKind.AGV, 600.0),)
    fleet = FleetConfig(
        cycle_s=settings.tick_s,
        planner=settings.planner,
        assigner=settings.assigner,
        robots=rules,
        seconds_per_cell=settings.tick_s,
    )
    cells = list(
        settings.starts
        or start_cells(_with_stations(floor), fleet_size, {p.cell for p in floor.chargers})
    )
    names = [f"amr{i:03d}" for i in range(settings.amrs)]
    names += [f"agv{i:03d}" for i in range(settings.agvs)]
    specs = [SimRobotSpec(n, c) for n, c in zip(names, cells, strict=True)]
    params = replace(config.sim, seconds_per_cell=settings.tick_s)  # one cell a tick
    if settings.start_battery_pct is not None:
        params = replace(params, start_battery_pct=settings.start_battery_pct)
    lock = LockstepFloor(
        floor,
        specs,
        fleet=fleet,
        settings=LockstepSettings(tick_s=settings.tick_s, pub=settings.pub),
        params=params,
        booker=booker,
        seed=settings.seed,
    )
    record = RunRecord(floor.shape, tuple(s.robot_id for s in specs), RunParams(settings.tick_s))
    tasks = day_tasks(book, plan, start, settings.mode, floor)
    order_tasks: dict[str, set[str]] = {}
    for spec in tasks:
        for stop in spec.stops:
            for line in stop.lines:
                order_tasks.setdefault(line.order_id, set()).add(spec.task_id)
    order_lines = {o.order_id: len(o.lines) for o in book.orders}
    order_due = {o.order_id: (o.due - start).total_seconds() for o in book.orders}
    with lock:
        wall0 = time.perf_counter()  # the simulated floor, not its start-up
        submit = tasks
        if booker is not None:
            # The waves are released: top up what they will drain; a pick task whose faces
            # cannot cover it yet waits for its top-up (the booker submits it then).
            booker.release(tasks)
            submit = booker.take_requests()
            tasks = [*(t for t in submit if t.kind is TaskKind.REPLENISH), *tasks]
        for spec in submit:
            lock.service.call(lambda core, spec=spec: core.submit(spec))
        ids = [t.task_id for t in tasks]
        before = {rid: lock.runner.robot(rid).cell for rid in record.robots}
        battery = {rid: lock.runner.robot(rid).battery_pct for rid in record.robots}

        def done(run: LockstepFloor) -> bool:
            if arrivals or (booker is not None and (booker.returns_open or booker.held)):
                return False
            return all(t in run.core.tasks and run.core.tasks.get(t).status.final for t in ids)

        schedule = FaultSchedule(settings.faults)
        pending_blocks = lock.pending_blocks
        while lock.now_s < settings.max_sim_s and not done(lock):
            while arrivals and arrivals[0][0] <= lock.now_s:
                assert booker is not None
                _, inspection, dock, station = arrivals.pop(0)
                received += 1
                spec = booker.receive_return(inspection, dock, station)
                lock.service.call(lambda core, spec=spec: core.submit(spec))
            for action in schedule.due(lock.now_s):
                _apply_fault(lock, action, names, pending_blocks)
            if pending_blocks:  # an obstacle appears once no robot holds the cell any more
                free_now = {c for c in pending_blocks if lock.core.reservations.holder(c) is None}
                if free_now:
                    lock.runner.block(free_now)
                    pending_blocks -= free_now
            lock.step()
            for rid in record.robots:
                robot = lock.runner.robot(rid)
                moved = robot.cell != before[rid]
                before[rid] = robot.cell
                drop = battery[rid] - robot.battery_pct
                if drop > 0:
                    record.energy_pct[rid] = record.energy_pct.get(rid, 0.0) + drop
                battery[rid] = robot.battery_pct
                record.samples.append(
                    RobotSample(
                        lock.now_s, rid, robot.cell, _activity(lock, rid, moved), robot.battery_pct
                    )
                )
            if on_tick is not None:
                on_tick(lock, record)
        finished = {}
        for event in lock.service.store.events():
            if event.status is TaskStatus.DONE:
                finished[event.task_id] = event.at_s
        short_by_order: dict[str, int] = {}
        for line in booker.short if booker else ():
            short_by_order[line.order_id] = short_by_order.get(line.order_id, 0) + 1
        for order_id, task_ids in sorted(order_tasks.items()):
            ends = [finished.get(t) for t in task_ids]
            record.orders.append(
                OrderRecord(
                    order_id,
                    order_lines.get(order_id, 0),
                    0.0,
                    order_due.get(order_id),
                    None if None in ends else max(e for e in ends if e is not None),
                    short_by_order.get(order_id, 0),
                    carrier=_cutoff_label(start, order_due.get(order_id)),
                )
            )
        record.empty_cells = sum(t.empty_cells for t in lock.core.robots.values())
        record.loaded_cells = sum(t.loaded_cells for t in lock.core.robots.values())
        record.safety_violations = len(lock.runner.violations())
        record.sim_s = lock.now_s
        lock.bus.settle()  # the last tick's commands are sent before the counters are read
        fleet_summary = {
            "robots": fleet_size,
            "planner": settings.planner,
            "assigner": settings.assigner,
            "tasks": len(ids),
            "tasks_done": sum(
                1
                for t in ids
                if t in lock.core.tasks and lock.core.tasks.get(t).status is TaskStatus.DONE
            ),
            "orders_sent": lock.core.stats.orders_sent,
            "cycle_ms_p95": _p95(lock.cycle_ms),
            "bus": {k: v for k, v in lock.bus.counters().items() if isinstance(v, int)},
        }
    record.wall_s = time.perf_counter() - wall0
    balance = ledger.balance_check()
    ledger_summary = {
        "path": str(ledger_path) if ledger_path else None,
        "lines_booked": booker.booked if booker else 0,
        "lines_short": len(booker.short) if booker else 0,
        "short_reasons": {r.value: n for r, n in sorted(booker.short_reasons.items(), key=str)}
        if booker
        else {},
        "tasks_waited_for_topup": booker.tasks_waited if booker else 0,
        "lines_waited_for_topup": booker.lines_waited_for_topup if booker else 0,
        "repeats_ignored": booker.repeats if booker else 0,
        "replenishments_by_robot": booker.moves if booker else 0,
        "returns_booked": len(booker.returns) if booker else 0,
        "returns_refused": booker.returns_refused if booker else 0,
        "balanced": bool(getattr(balance, "ok", balance)),
    }
    returns = _returns_summary(settings, booker, finished, received)
    return DayRun(record, plan, wms_summary, ledger_summary, fleet_summary, returns)


def day_tasks(
    book: OrderBook, plan: WavePlan | None, start: datetime, mode: Mode, floor: Floor
) -> list[TaskSpec]:
    """The robots' work for the mode: pick routes (AMR tote picking), pod moves to the
    stations (AGV goods-to-person), or parcels from induct stations to the chute of their
    carrier (sortation, `sortation_floor`)."""
    if mode is Mode.SORTATION:
        inducts, chutes = sortation_floor(floor)
        return sortation_tasks(book.orders, start, chutes, inducts)
    assert plan is not None
    due_s = {w.due: (datetime.fromisoformat(w.due) - start).total_seconds() for w in plan.waves}
    if mode is Mode.PICKING:
        return plan_tasks(plan, due_s)
    return pod_tasks(plan, due_s)


def _with_stations(floor: Floor) -> Floor:
    """The floor, with its sortation inducts as stations when it has none (a Robot Runners
    map): robots start nearest the stations."""
    if floor.stations:
        return floor
    inducts, _ = sortation_floor(floor)
    points = tuple(FloorPoint(f"I{i + 1}", PointKind.STATION, c) for i, c in enumerate(inducts))
    return replace(floor, points=floor.points + points)


def day_returns(
    settings: DaySettings, ledger: Ledger, floor: Floor
) -> list[tuple[float, Inspection, str, Cell]]:
    """(arrival s, inspection, dock location id, inspection station) per return, in arrival
    order: seeded returns of sold SKUs, spread over the floor's docks."""
    count = settings.returns.count
    if count == 0:
        return []
    if not floor.docks or not (settings.returns_station or floor.stations):
        raise InputError("returns", f"need docks and an inspection station; {floor.name} lacks one")
    station = settings.returns_station or floor.stations[-1].cell
    docks = [RETURNS_PREFIX + p.point_id for p in floor.docks]
    inspections = synthetic_returns(ledger, count, settings.seed)
    if not inspections:
        raise InputError(
            "returns", "no SKU has sold units to return: returns need a sales history (stock demo)"
        )
    times = settings.returns.arrivals()
    return [
        (at, inspection, docks[i % len(docks)], station)
        for i, (at, inspection) in enumerate(zip(times, inspections, strict=False))
    ]


def _returns_summary(
    settings: DaySettings, booker: LedgerBooker | None, finished: dict[str, float], received: int
) -> dict[str, Any]:
    if booker is None or not settings.returns.count:
        return {"received": 0, "booked": 0}
    arrived = dict(
        zip(
            (f"RMA-D{i + 1:04d}" for i in range(settings.returns.count)),
            settings.returns.arrivals(),
            strict=True,
        )
    )
    spans = sorted(
        finished[f"putaway-{o.return_id}"] - arrived[o.return_id]
        for o in booker.returns
        if f"putaway-{o.return_id}" in finished and o.return_id in arrived
    )
    return {
        "received": received,
        "inspected": sum(1 for t in finished if t.startswith(RETURN_PREFIX)),
        **summarise_outcomes(booker.returns),
        "booked": len(booker.returns),
        "refused": booker.returns_refused,
        "dock_to_stock_s_p50": spans[len(spans) // 2] if spans else None,
        "dock_to_stock_s_max": spans[-1] if spans else None,
    }


def _apply_fault(
    lock: LockstepFloor, action: FaultAction, names: list[str], pending: set[Cell]
) -> None:
    runner = lock.runner
    assert runner is not None
    robot = f"sim/{names[action.robot]}" if action.robot is not None else None
    if action.kind is ActionKind.BREAK_DOWN and robot:
        runner.break_down(robot)
    elif action.kind is ActionKind.REPAIR and robot:
        runner.repair(robot)
    elif action.kind is ActionKind.COMM_LOSS and robot:
        runner.comm_loss(robot, action.seconds or 0.0)
    elif action.kind is ActionKind.SET_BATTERY and robot:
        runner.set_battery(robot, action.pct or 0.0)
    elif action.kind is ActionKind.BLOCK:
        cells = [c for c in action.cells if lock.floor.navigable[c]]
        lock.service.call(lambda core: core.block(cells))
        pending.update(cells)
    elif action.kind is ActionKind.UNBLOCK:
        cells = list(action.cells)
        pending.difference_update(cells)
        runner.block(cells, blocked=False)
        lock.service.call(lambda core: core.block(cells, blocked=False))


def _cutoff_label(start: datetime, due_s: float | None) -> str | None:
    if due_s is None:
        return None
    return (start + timedelta(seconds=due_s)).strftime("%H:%M")


def _p95(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2)
