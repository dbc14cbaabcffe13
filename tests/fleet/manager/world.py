"""A small lockstep floor for the decision core's tests: the default floor, SimRobots,
and the simulator's independent safety monitor watching every step."""

from __future__ import annotations

import random
from dataclasses import dataclass

from fleet.manager.config import FleetConfig, RobotRule
from fleet.manager.core import FleetCore
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
from warehouse.config import load_config
from wms.layout import Cell

FLOOR = load_config().floor
ACCESS = sorted({loc.access_cell for loc in FLOOR.locations})
STATIONS = [p.cell for p in FLOOR.stations]
CHARGERS = [p.cell for p in FLOOR.chargers]


def pick_route(
    task_id: str,
    cells: list[Cell],
    *,
    resequence: bool = True,
    due_s: float | None = None,
) -> TaskSpec:
    """A pick route: one line at each cell, in this order, then the first station."""
    stops = tuple(
        Stop(c, StopAction.PICK_LINES, 1.0, (PickLine(f"{task_id}/{i}", "o", "S", 1, "L"),))
        for i, c in enumerate(cells)
    )
    return TaskSpec(
        task_id,
        TaskKind.PICK_ROUTE,
        (*stops, Stop(STATIONS[0], StopAction.STATION, 1.0)),
        due_s=due_s,
        resequence=resequence,
    )


@dataclass
class World:
    core: FleetCore
    sim: Lockstep
    robots: dict[str, SimRobot]
    monitor: SafetyMonitor

    def status(self, task_id: str) -> TaskStatus:
        return self.core.tasks.get(task_id).status

    def all_final(self, task_ids: list[str]) -> bool:
        return all(self.status(t).final for t in task_ids)


def make_world(
    count: int,
    *,
    seed: int = 0,
    speeds: tuple[float, ...] = (1.0,),
    agvs: int = 0,
    battery: dict[int, float] | None = None,
    config: FleetConfig | None = None,
    cells: list[Cell] | None = None,
) -> World:
    rng = random.Random(seed)
    free = [tuple(map(int, c)) for c in zip(*FLOOR.navigable.nonzero(), strict=True)]
    starts = cells or rng.sample([c for c in free if c not in CHARGERS], count)
    rules = tuple(RobotRule(f"sim/agv{i}", RobotKind.AGV, 600.0) for i in range(agvs))
    config = config or FleetConfig(robots=rules)
    core = FleetCore(FLOOR, config, seed=seed)
    robots: dict[str, SimRobot] = {}
    for i, cell in enumerate(starts):
        name = f"sim/agv{i}" if i < agvs else f"sim/r{i}"
        params = SimRobotParams(
            speed_factor=rng.choice(speeds),
            start_battery_pct=(battery or {}).get(i, 100.0),
        )
        robots[name] = SimRobot(FLOOR, cell, params, charger_cells=frozenset(CHARGERS))
    monitor = SafetyMonitor(FLOOR.navigable)
    sim = Lockstep(core, dict(robots), dt=0.25, on_step=monitor.observe)
    return World(core, sim, robots, monitor)
