"""What a simulated run records, for the KPIs and the report (plain frozen data).

The world appends one `RobotSample` per robot per tick and an `OrderRecord`
per order; `sim.kpi` and `sim.charts` turn a `RunRecord` into KPIs and charts without
knowing how the run was made (lockstep or real time, demo or what-if).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from wms.layout import Cell


class RobotActivity(enum.Enum):
    """What a robot was doing during one tick (the viewer colours robots by it)."""

    IDLE = "idle"
    """No task (parked or parking)."""
    MOVING = "moving"
    """Driving to a task's first stop (empty travel)."""
    CARRYING = "carrying"
    """Driving with a load or a started route."""
    WORKING = "working"
    """Standing at a stop running its action (picking, lifting, at a station)."""
    WAITING = "waiting"
    """Has a task but stands still without an action: congestion or a held base."""
    CHARGING = "charging"
    ERROR = "error"
    """Broken down, or silent (communication lost)."""


@dataclass(frozen=True, slots=True)
class RobotSample:
    t_s: float
    robot: str
    cell: Cell
    activity: RobotActivity
    battery_pct: float


@dataclass(frozen=True, slots=True)
class OrderRecord:
    order_id: str
    lines: int
    released_s: float
    cutoff_s: float | None
    """The carrier cut-off, in run seconds; ``None``: no deadline."""
    completed_s: float | None
    """When its last line was picked and delivered; ``None``: not completed."""
    lines_short: int = 0
    carrier: str | None = None


@dataclass(frozen=True, slots=True)
class RunParams:
    seconds_per_tick: float = 1.0
    battery_kwh: float = 1.5
    """Battery capacity: 100 % drained = this many kWh."""
    grid_kg_co2e_per_kwh: float = 0.233
    """Grid emission factor (config; the default is a European average)."""


@dataclass
class RunRecord:
    """Everything one run left behind; ``samples`` hold one row per robot per tick."""

    floor_shape: tuple[int, int]
    robots: tuple[str, ...]
    params: RunParams = field(default_factory=RunParams)
    samples: list[RobotSample] = field(default_factory=list)
    orders: list[OrderRecord] = field(default_factory=list)
    energy_pct: dict[str, float] = field(default_factory=dict)
    """Battery percent each robot used (driving, lifting, idling), summed over the run."""
    empty_cells: int = 0
    loaded_cells: int = 0
    safety_violations: int = 0
    sim_s: float = 0.0
    wall_s: float = 0.0
