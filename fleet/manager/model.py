"""The fleet manager's domain types: robots, tasks, stops.

Plain frozen values shared by every phase of the decision core, the store and
the adapters. Cells are ``(row, col)`` tuples as everywhere in `wms.layout`;
flat ids (``row * width + col``) appear only inside the traffic library.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from fleet.dispatch.kinds import RobotKind
from wms.layout import Cell

__all__ = [
    "KIND_NEEDS",
    "PickLine",
    "RobotInfo",
    "RobotKind",
    "RobotStatus",
    "Stop",
    "StopAction",
    "TaskKind",
    "TaskSpec",
    "TaskStatus",
]


class RobotStatus(enum.Enum):
    """The manager's view of a robot, derived from its connection, state and our commands."""

    IDLE = "idle"
    """Online, no task: may be given one."""
    BUSY = "busy"
    """Holds a task (assigned or active)."""
    CHARGING = "charging"
    """At a charger; gets no work until its back-to-work threshold."""
    PAUSED = "paused"
    """Paused by an operator: holds its cell, keeps its task."""
    ESTOP = "estop"
    """Stopped by an operator emergency stop."""
    DRAINED = "drained"
    """Taken out of service for maintenance: finishes nothing new, parks."""
    FAULT = "fault"
    """Reported a FATAL error: its cell is blocked, its task requeued."""
    OFFLINE = "offline"
    """Disconnected or silent: its cell and granted base are blocked."""


class TaskKind(enum.Enum):
    MOVE_POD = "move_pod"
    """AGV: pod from its storage cell to a station, wait for the picks, back to storage."""
    PICK_ROUTE = "pick_route"
    """AMR: a multi-stop tote route from the WMS wave plan."""
    PUTAWAY = "putaway"
    REPLENISH = "replenish"
    """Reserve location to forward location."""
    RETURN_TO_INSPECTION = "return_to_inspection"
    CHARGE = "charge"
    PARK = "park"
    MOVE = "move"
    """Go to a cell; used by operators and tests."""


class TaskStatus(enum.Enum):
    """``queued → assigned → active → done | failed | cancelled``; the last three are final."""

    QUEUED = "queued"
    ASSIGNED = "assigned"
    ACTIVE = "active"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def final(self) -> bool:
        return self in (TaskStatus.DONE, TaskStatus.FAILED, TaskStatus.CANCELLED)


class StopAction(enum.Enum):
    """What a robot does on arriving at a stop (the VDA 5050 node action type)."""

    NONE = "none"
    PICK_LINES = "pick"
    """Items are picked into the robot's tote; FINISHED confirms the stop's lines."""
    LIFT = "lift"
    """AGV lifts the pod under it."""
    DROP = "drop"
    """AGV puts the pod down."""
    STATION = "station"
    """Wait at a station while the picker works (duration from the lines)."""
    CHARGE = "startCharging"


@dataclass(frozen=True, slots=True)
class PickLine:
    """One ledger line a stop confirms: ``pick_id`` is unique, so booking it is idempotent."""

    pick_id: str
    order_id: str
    sku: str
    qty: int
    location_id: str
    reservation_id: int | None = None
    from_location: str | None = None
    """Set on a replenishment line: the units move from here to ``location_id``."""


@dataclass(frozen=True, slots=True)
class Stop:
    cell: Cell
    action: StopAction = StopAction.NONE
    duration_s: float = 0.0
    lines: tuple[PickLine, ...] = ()
    load_id: str | None = None


KIND_NEEDS: dict[TaskKind, RobotKind | None] = {
    TaskKind.MOVE_POD: RobotKind.AGV,
    TaskKind.PICK_ROUTE: RobotKind.AMR,
    TaskKind.PUTAWAY: None,
    TaskKind.REPLENISH: None,
    TaskKind.RETURN_TO_INSPECTION: None,
    TaskKind.CHARGE: None,
    TaskKind.PARK: None,
    TaskKind.MOVE: None,
}
"""The robot kind a task kind needs (``None``: any robot)."""


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """What was asked: immutable once submitted (priority changes are events)."""

    task_id: str
    kind: TaskKind
    stops: tuple[Stop, ...]
    priority: int = 0
    """Higher goes first."""
    due_s: float | None = None
    """Carrier cut-off, in manager seconds; ``None``: no deadline."""
    payload_kg: float = 0.0
    robot_kind: RobotKind | None = None
    """Overrides `KIND_NEEDS` when set."""
    resequence: bool = False
    """Stops after the first may be re-ordered from the robot's actual position."""
    robot: str | None = None
    """Pinned to one robot (operator tasks, charge and park tasks)."""

    @property
    def needs(self) -> RobotKind | None:
        return self.robot_kind if self.robot_kind is not None else KIND_NEEDS[self.kind]


@dataclass(frozen=True, slots=True)
class RobotInfo:
    """What the manager knows of a robot's hardware (config plus factsheet)."""

    robot_id: str
    kind: RobotKind = RobotKind.AMR
    max_payload_kg: float = 50.0
    capabilities: frozenset[str] = field(default_factory=frozenset)
