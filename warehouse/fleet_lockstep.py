"""The whole fleet manager in lockstep with simulated robots, for `warehouse bench fleet`.

Two figures need the real decision core rather than the assignment-only
simulation: the time of one full decision cycle (assign + plan + release) at
200 robots, and ours-vs-greedy empty travel *with traffic* — robots that wait
for each other, follow reserved bases and charge, on the same task stream.
Both run `FleetCore` with `sim.controller.SimRobot`s through
`fleet.manager.lockstep.Lockstep`; the simulator's own `SafetyMonitor` checks
every step, so a figure from a run with a violation would show it.
"""

from __future__ import annotations

import random
import time
from typing import Any

import numpy as np

from core.clock import Clock
from fleet.manager.assign_eval import StreamParams, StreamTask
from fleet.manager.config import FleetConfig, RobotRule
from fleet.manager.core import SERVICE_KINDS, FleetCore
from fleet.manager.lockstep import Lockstep
from fleet.manager.model import (
    PickLine,
    RobotKind,
    Stop,
    StopAction,
    TaskKind,
    TaskSpec,
    TaskStatus,
)
from sim.controller import SimRobot, SimRobotParams
from sim.safety import SafetyMonitor
from wms.layout import Cell, DistanceTables, Floor


def start_cells(floor: Floor, count: int, avoid: set[Cell]) -> list[Cell]:
    """The ``count`` free cells nearest the stations, chargers excluded."""
    tables = DistanceTables(floor.navigable)
    nearest = tables.from_cells([p.cell for p in floor.stations]).min(axis=0)
    free = [
        (int(r), int(c))
        for r, c in zip(*floor.navigable.nonzero(), strict=True)
        if (int(r), int(c)) not in avoid
    ]
    free.sort(key=lambda cell: (int(nearest[cell]), cell))
    return free[:count]


def _fleet(
    floor: Floor, amrs: int, agvs: int, config: FleetConfig, seed: int
) -> tuple[FleetCore, Lockstep, SafetyMonitor, dict[str, SimRobot]]:
    chargers = {p.cell for p in floor.chargers}
    cells = start_cells(floor, amrs + agvs, chargers)
    robots: dict[str, SimRobot] = {}
    for i, cell in enumerate(cells):
        name = f"sim/agv{i}" if i < agvs else f"sim/amr{i}"
        robots[name] = SimRobot(floor, cell, SimRobotParams(), charger_cells=frozenset(chargers))
    core = FleetCore(floor, config, seed=seed)
    monitor = SafetyMonitor(floor.navigable)
    return core, Lockstep(core, dict(robots), dt=0.5, on_step=monitor.observe), monitor, robots


def _spec(task: StreamTask, dwell_s: float) -> TaskSpec:
    if task.needs is RobotKind.AGV:
        pod, station, back = task.stops
        stops = (
            Stop(pod, StopAction.LIFT),
            Stop(station, StopAction.STATION, dwell_s),
            Stop(back, StopAction.DROP),
        )
        kind = TaskKind.MOVE_POD
    else:
        *picks, station = task.stops
        lines = [(PickLine(f"{task.task_id}/{i}", "", "", 1, ""),) for i in range(len(picks))]
        stops = (
            *(
                Stop(c, StopAction.PICK_LINES, dwell_s, ln)
                for c, ln in zip(picks, lines, strict=True)
            ),
            Stop(station, StopAction.STATION, dwell_s),
        )
        kind = TaskKind.PICK_ROUTE
    return TaskSpec(
        task.task_id,
        kind,
        stops,
        priority=task.priority,
        due_s=task.due_s,
        payload_kg=task.payload_kg,
    )


def stream_run(
    floor: Floor,
    tasks: list[StreamTask],
    params: StreamParams,
    assigner: str,
    *,
    seed: int = 0,
    max_s: float | None = None,
) -> dict[str, Any]:
    """One strategy on one task stream with the full manager; returns its figures."""
    rules = tuple(RobotRule(f"sim/agv{i}", RobotKind.AGV, 600.0) for i in range(params.agvs))
    config = FleetConfig(assigner=assigner, robots=rules)
    core, sim, monitor, _ = _fleet(floor, params.amrs, params.agvs, config, seed)
    pending = sorted(tasks, key=lambda t: t.arrival_s)
    ids = [t.task_id for t in pending]
    limit = max_s or params.arrival_hours * 3600.0 * 3
    nxt = 0
    while sim.now < limit:
        while nxt < len(pending) and pending[nxt].arrival_s <= sim.now:
            core.submit(_spec(pending[nxt], params.pick_dwell_s))
            nxt += 1
        if nxt == len(pending) and all(core.tasks.get(t).status.final for t in ids):
            break
        sim.step()
    done = [t for t in ids if t in core.tasks and core.tasks.get(t).status is TaskStatus.DONE]
    finished = [
        e.at_s for e in sim.log.task_events if e.status is TaskStatus.DONE and e.task_id in set(ids)
    ]
    makespan = max(finished) if finished else sim.now
    empty = sum(r.empty_cells for r in core.robots.values())
    loaded = sum(r.loaded_cells for r in core.robots.values())
    ms = np.asarray(sim.log.cycle_ms)
    return {
        "assigner": assigner,
        "tasks": len(ids),
        "completed": len(done),
        "makespan_s": round(makespan, 1),
        "tasks_per_hour": round(len(done) * 3600.0 / makespan, 1) if makespan else 0.0,
        "empty_cells": empty,
        "empty_cells_per_task": round(empty / len(done), 2) if done else None,
        "loaded_cells": loaded,
        "safety_violations": len(monitor.violations),
        "cycle_ms_p95": round(float(np.percentile(ms, 95)), 2) if ms.size else None,
        "service_tasks": sum(1 for t in core.tasks if t.spec.kind in SERVICE_KINDS),
    }


def cycle_timing(
    floor: Floor,
    robots: int = 200,
    seconds: float = 120.0,
    seed: int = 0,
    timer: Clock = time.perf_counter,
) -> dict[str, Any]:
    """Full decision cycles (assign + plan + release) with ``robots`` busy robots."""
    core, sim, monitor, _ = _fleet(floor, robots, 0, FleetConfig(), seed)
    sim.timer = timer
    rng = random.Random(seed)
    access = sorted({loc.access_cell for loc in floor.locations})
    made = 0
    while sim.now < seconds:
        queued = sum(1 for t in core.tasks.open() if t.status is TaskStatus.QUEUED)
        for _ in range(max(0, robots // 2 - queued)):
            first, second = (access[rng.randrange(len(access))] for _ in range(2))
            lines = [(PickLine(f"c{made}/{i}", "", "", 1, ""),) for i in range(2)]
            core.submit(
                TaskSpec(
                    f"c{made}",
                    TaskKind.PICK_ROUTE,
                    (
                        Stop(first, StopAction.PICK_LINES, 4.0, lines[0]),
                        Stop(second, StopAction.PICK_LINES, 4.0, lines[1]),
                    ),
                )
            )
            made += 1
        sim.step()
    ms = np.asarray(sim.log.cycle_ms)
    done = sum(1 for t in core.tasks if t.status is TaskStatus.DONE and t.task_id.startswith("c"))
    return {
        "floor": floor.name,
        "robots": robots,
        "cycles": int(ms.size),
        "cycle_ms_p50": round(float(np.percentile(ms, 50)), 2),
        "cycle_ms_p95": round(float(np.percentile(ms, 95)), 2),
        "cycle_ms_max": round(float(ms.max()), 2),
        "tasks_done": done,
        "safety_violations": len(monitor.violations),
    }
