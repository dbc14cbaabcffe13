"""Evaluating assignment strategies: a timed one-shot case and a lifelong task-stream simulation.

`warehouse bench fleet` and `bench/fleet.py` are thin layers over this. The
simulation is deliberately simple so that it measures assignment alone:
robots drive at one cell per ``seconds_per_cell`` along true shortest
distances and never interact (no traffic, no waiting for each other; the
full manager with the traffic planner replaces it later). Both strategies
run on the same seeded task stream, the same floor and the same fleet, with
the same charging policy; only the assigner differs. The clock used for
timings is passed in.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from fleet.dispatch.assign import (
    Assigner,
    AssignRequest,
    EnergyModel,
    RobotOffer,
    TaskOffer,
)
from fleet.dispatch.distances import FloorDistances
from fleet.manager.model import RobotKind
from wms.layout import UNREACHABLE, Cell, Floor


@dataclass(frozen=True, slots=True)
class StreamTask:
    """One task of the stream: arrives at ``arrival_s``, visits ``stops`` in order."""

    task_id: str
    arrival_s: float
    needs: RobotKind
    stops: tuple[Cell, ...]
    dwell_s: float
    """Total time spent standing at the stops (picks, station)."""
    payload_kg: float
    priority: int
    due_s: float | None
    work_cells: int


@dataclass(frozen=True, slots=True)
class StreamParams:
    """The lifelong scenario: fleet, task stream and charging policy (defaults: the benchmark)."""

    amrs: int = 16
    agvs: int = 8
    tasks_per_hour: float = 800.0
    arrival_hours: float = 2.0
    agv_share: float = 0.35
    """Share of tasks that are pod moves (the rest are pick routes)."""
    max_picks: int = 4
    pick_dwell_s: float = 8.0
    station_dwell_s: float = 20.0
    priority_share: float = 0.1
    due_share: float = 0.3
    due_after_s: tuple[float, float] = (900.0, 2700.0)
    seconds_per_cell: float = 1.0
    energy: EnergyModel = field(default_factory=lambda: EnergyModel(0.05, 15.0))
    go_charge_pct: float = 25.0
    idle_charge_pct: float = 40.0
    """A robot left without work below this goes to charge (opportunity charging)."""
    back_to_work_pct: float = 90.0
    charge_pct_per_s: float = 0.25
    horizon_s: float = 30.0
    """Robots this close to finishing are offered as about to be free."""
    seed: int = 0


def task_stream(floor: Floor, distances: FloorDistances, params: StreamParams) -> list[StreamTask]:
    """Poisson arrivals (seeded) of pick routes (AMR) and pod moves (AGV) on ``floor``.

    A pick route visits 1..``max_picks`` storage locations in aisle order
    (column, then row) and ends at a station; a pod move lifts a pod at its
    location, brings it to a station and puts it back.
    """
    rng = np.random.default_rng(params.seed)
    access = [loc.access_cell for loc in floor.locations]
    stations = [p.cell for p in floor.stations]
    if not access or not stations:
        raise ValueError("the floor needs storage locations and stations for a task stream")
    count = int(rng.poisson(params.tasks_per_hour * params.arrival_hours))
    arrivals = np.sort(rng.uniform(0.0, params.arrival_hours * 3600.0, count))
    specs = []
    for n, arrival in enumerate(arrivals):
        station = stations[int(rng.integers(len(stations)))]
        if rng.random() < params.agv_share:
            pod = access[int(rng.integers(len(access)))]
            needs, stops = RobotKind.AGV, (pod, station, pod)
            dwell, payload = 2 * params.pick_dwell_s + params.station_dwell_s, rng.uniform(100, 500)
        else:
            picks = rng.choice(
                len(access), int(rng.integers(1, params.max_picks + 1)), replace=False
            )
            cells = sorted((access[int(i)] for i in picks), key=lambda cell: (cell[1], cell[0]))
            needs, stops = RobotKind.AMR, (*cells, station)
            dwell = len(cells) * params.pick_dwell_s + params.station_dwell_s
            payload = rng.uniform(5, 40)
        priority = int(rng.random() < params.priority_share)
        due = None
        if rng.random() < params.due_share:
            due = float(arrival + rng.uniform(*params.due_after_s))
        specs.append((f"t{n}", float(arrival), needs, stops, dwell, float(payload), priority, due))
    lengths = distances.route_lengths([spec[3] for spec in specs])
    return [
        StreamTask(*spec[:5], spec[5], spec[6], spec[7], int(length))
        for spec, length in zip(specs, lengths, strict=True)
    ]


class _State(enum.Enum):
    IDLE = "idle"
    WORKING = "working"
    CHARGING = "charging"


@dataclass(slots=True)
class _Robot:
    """Mutable simulation state of one robot; ``cell`` is where it is free (now or at ``until``)."""

    robot_id: str
    kind: RobotKind
    max_payload_kg: float
    cell: Cell
    battery: float
    """Charge left once its current commitments are done."""
    state: _State = _State.IDLE
    until: float = 0.0
    held: str | None = None


@dataclass(frozen=True, slots=True)
class StreamResult:
    """What one strategy did with the stream."""

    assigner: str
    tasks: int
    completed: int
    makespan_s: float
    empty_cells: int
    """Travel from where a robot was to the first stop of its next task, summed over tasks."""
    work_cells: int
    charge_cells: int
    late: int
    wait_s_p50: float
    wait_s_p95: float
    assign_ms_p50: float
    assign_ms_p95: float
    cycles: int

    @property
    def tasks_per_hour(self) -> float:
        return 3600.0 * self.completed / self.makespan_s if self.makespan_s else 0.0

    def summary(self) -> dict[str, float | int | str]:
        return {
            "assigner": self.assigner,
            "tasks": self.tasks,
            "completed": self.completed,
            "makespan_s": round(self.makespan_s, 1),
            "tasks_per_hour": round(self.tasks_per_hour, 1),
            "empty_cells": self.empty_cells,
            "empty_cells_per_task": round(self.empty_cells / max(self.completed, 1), 2),
            "work_cells": self.work_cells,
            "charge_cells": self.charge_cells,
            "late": self.late,
            "wait_s_p50": round(self.wait_s_p50, 1),
            "wait_s_p95": round(self.wait_s_p95, 1),
            "assign_ms_p50": round(self.assign_ms_p50, 3),
            "assign_ms_p95": round(self.assign_ms_p95, 3),
            "cycles": self.cycles,
        }


def fleet_start(floor: Floor, params: StreamParams) -> list[_Robot]:
    """The fleet on distinct random free cells with random charge (seeded; same for every run)."""
    rng = np.random.default_rng(params.seed + 1)
    free = np.argwhere(floor.navigable)
    cells = free[rng.choice(len(free), params.amrs + params.agvs, replace=False)]
    robots = []
    for i, (r, c) in enumerate(cells):
        kind = RobotKind.AMR if i < params.amrs else RobotKind.AGV
        payload = 50.0 if kind is RobotKind.AMR else 600.0
        robots.append(
            _Robot(f"{kind.value}{i}", kind, payload, (int(r), int(c)), float(rng.uniform(50, 100)))
        )
    return robots


def simulate(
    floor: Floor,
    distances: FloorDistances,
    stream: list[StreamTask],
    assigner: Assigner,
    params: StreamParams,
    clock: Callable[[], float],
) -> StreamResult:
    """Run the stream to the last completion, one assignment cycle per second of floor time."""
    robots = fleet_start(floor, params)
    chargers = [p.cell for p in floor.chargers]
    charger_free = [0.0] * len(chargers)
    charger_table = distances.table_to_nearest(chargers) if chargers else None
    energy, spc = params.energy, params.seconds_per_cell
    by_id = {task.task_id: task for task in stream}
    queued: dict[str, StreamTask] = {}
    holder: dict[str, str] = {}
    next_arrival = 0
    empty = work = charge_travel = late = 0
    waits: list[float] = []
    timings: list[float] = []
    finished_at = 0.0
    done = 0
    now = 0.0

    def start(robot: _Robot, task: StreamTask) -> None:
        nonlocal empty, work, late, finished_at, done
        lead = distances.distance(robot.cell, task.stops[0])
        empty += lead
        work += task.work_cells
        robot.battery -= energy.pct_per_cell * (lead + task.work_cells)
        robot.state = _State.WORKING
        robot.until = now + (lead + task.work_cells) * spc + task.dwell_s
        robot.cell = task.stops[-1]
        waits.append(now - task.arrival_s)
        late += task.due_s is not None and robot.until > task.due_s
        finished_at = max(finished_at, robot.until)
        done += 1

    def go_charge(robot: _Robot) -> None:
        nonlocal charge_travel
        reach = distances.matrix([robot.cell], chargers)[0]
        arrive = now + reach * spc
        begin = np.maximum(arrive, charger_free)
        k = int(np.argmin(np.where(reach < UNREACHABLE, begin, np.inf)))
        charge_travel += int(reach[k])
        robot.battery -= energy.pct_per_cell * int(reach[k])
        robot.until = (
            float(begin[k])
            + max(params.back_to_work_pct - robot.battery, 0.0) / params.charge_pct_per_s
        )
        charger_free[k] = robot.until
        robot.battery = max(robot.battery, params.back_to_work_pct)
        robot.cell = chargers[k]
        robot.state = _State.CHARGING

    while done < len(stream):
        while next_arrival < len(stream) and stream[next_arrival].arrival_s <= now:
            queued[stream[next_arrival].task_id] = stream[next_arrival]
            next_arrival += 1
        for robot in robots:
            if robot.state is not _State.IDLE and robot.until <= now:
                robot.state = _State.IDLE
                if robot.held is not None:
                    task = by_id[robot.held]
                    robot.held = None
                    del holder[task.task_id]
                    start(robot, task)
                elif robot.battery < params.go_charge_pct and chargers:
                    go_charge(robot)
        offers = []
        for robot in robots:
            left = robot.until - now
            if robot.state is _State.IDLE or (
                robot.state is _State.WORKING
                and left <= params.horizon_s
                and robot.battery >= params.go_charge_pct
            ):
                free_in = 0 if robot.state is _State.IDLE else math.ceil(left / spc)
                offers.append(
                    RobotOffer(
                        robot.robot_id,
                        robot.cell,
                        robot.kind,
                        robot.max_payload_kg,
                        robot.battery + energy.pct_per_cell * free_in,
                        free_in,
                        robot.held,
                    )
                )
        waiting = [*queued.values(), *(by_id[t] for t in holder)]
        if offers and waiting:
            request = AssignRequest(
                tuple(offers),
                tuple(_offer(task, now, holder.get(task.task_id)) for task in waiting),
                now_s=now,
                seconds_per_cell=spc,
                energy=energy,
                charger_distance=charger_table,
            )
            began = clock()
            result = assigner.assign(request, distances)
            timings.append(1000.0 * (clock() - began))
            index = {robot.robot_id: robot for robot in robots}
            for task_id, robot_id in list(holder.items()):
                if result.robot_of.get(task_id) != robot_id:
                    index[robot_id].held = None
                    del holder[task_id]
                    queued[task_id] = by_id[task_id]
            for task_id, robot_id in result.robot_of.items():
                robot = index[robot_id]
                if holder.get(task_id) == robot_id:
                    continue
                queued.pop(task_id, None)
                if robot.state is _State.IDLE:
                    start(robot, by_id[task_id])
                else:
                    robot.held = task_id
                    holder[task_id] = robot_id
        for robot in robots:
            if robot.state is _State.IDLE and robot.battery < params.idle_charge_pct and chargers:
                go_charge(robot)
        now += 1.0
        if now > 100 * 3600.0 + params.arrival_hours * 3600.0:
            raise RuntimeError("the stream did not drain: the fleet cannot do these tasks")
    wait = np.asarray(waits) if waits else np.zeros(1)
    times = np.asarray(timings) if timings else np.zeros(1)
    return StreamResult(
        assigner=assigner.name,
        tasks=len(stream),
        completed=done,
        makespan_s=finished_at,
        empty_cells=empty,
        work_cells=work,
        charge_cells=charge_travel,
        late=int(late),
        wait_s_p50=float(np.percentile(wait, 50)),
        wait_s_p95=float(np.percentile(wait, 95)),
        assign_ms_p50=float(np.percentile(times, 50)),
        assign_ms_p95=float(np.percentile(times, 95)),
        cycles=len(timings),
    )


def _offer(task: StreamTask, now: float, assigned_to: str | None) -> TaskOffer:
    return TaskOffer(
        task.task_id,
        task.stops[0],
        task.stops[-1],
        task.work_cells,
        task.needs,
        task.payload_kg,
        task.priority,
        task.due_s,
        now - task.arrival_s,
        assigned_to,
    )


def random_request(
    floor: Floor, distances: FloorDistances, robots: int, tasks: int, seed: int
) -> AssignRequest:
    """The one-shot timing case: ``robots`` free robots on distinct random free cells, half AMRs,
    and ``tasks`` queued tasks from `task_stream` (pick routes and pod moves, random stops)."""
    rng = np.random.default_rng(seed)
    free = np.argwhere(floor.navigable)
    if robots > len(free):
        raise ValueError(f"{robots} robots do not fit on {len(free)} free cells")
    cells = free[rng.choice(len(free), robots, replace=False)]
    offers = tuple(
        RobotOffer(
            f"r{i}",
            (int(r), int(c)),
            RobotKind.AMR if i % 2 else RobotKind.AGV,
            50.0 if i % 2 else 600.0,
            float(rng.uniform(30, 100)),
        )
        for i, (r, c) in enumerate(cells)
    )
    params = StreamParams(tasks_per_hour=tasks, arrival_hours=1.0, seed=seed)
    stream = task_stream(floor, distances, params)
    while len(stream) < tasks:
        params = StreamParams(tasks_per_hour=2 * params.tasks_per_hour, seed=seed)
        stream = task_stream(floor, distances, params)
    horizon = stream[tasks - 1].arrival_s
    chargers = [p.cell for p in floor.chargers]
    return AssignRequest(
        offers,
        tuple(_offer(task, horizon, None) for task in stream[:tasks]),
        now_s=horizon,
        energy=params.energy,
        charger_distance=distances.table_to_nearest(chargers) if chargers else None,
    )
