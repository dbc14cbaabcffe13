"""What goes into the decision core (events) and what comes out (commands).

The core never reads a socket or a clock: every input is one of these frozen
events with the time it happened, every output a frozen command the adapter
carries out (send on the bus, persist, book in the ledger, publish).
"""

from __future__ import annotations

from dataclasses import dataclass

from fleet.manager.model import PickLine, TaskKind, TaskSpec, TaskStatus
from fleet.protocol.messages import Action, ConnectionState, Edge, Factsheet, Node, State
from wms.layout import Cell

# --- events ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RobotConnection:
    robot: str
    state: ConnectionState


@dataclass(frozen=True, slots=True)
class RobotStateReport:
    robot: str
    state: State


@dataclass(frozen=True, slots=True)
class RobotFactsheet:
    robot: str
    factsheet: Factsheet


@dataclass(frozen=True, slots=True)
class OrderRefused:
    """The robot rejected an order update (or never acknowledged it)."""

    robot: str
    order_id: str
    order_update_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class TaskSubmitted:
    spec: TaskSpec


@dataclass(frozen=True, slots=True)
class TaskCancelled:
    task_id: str


@dataclass(frozen=True, slots=True)
class TaskReprioritised:
    task_id: str
    priority: int


@dataclass(frozen=True, slots=True)
class CellsBlocked:
    cells: tuple[Cell, ...]
    blocked: bool = True


Event = (
    RobotConnection
    | RobotStateReport
    | RobotFactsheet
    | OrderRefused
    | TaskSubmitted
    | TaskCancelled
    | TaskReprioritised
    | CellsBlocked
)

# --- commands --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SendOrder:
    robot: str
    order_id: str
    order_update_id: int
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    reached_sequence_id: int = 0
    """The last node the robot was known to have passed (what a restart reserves from)."""
    task_id: str | None = None
    """The task the robot was driving for when this update was made."""


@dataclass(frozen=True, slots=True)
class SendInstantActions:
    robot: str
    actions: tuple[Action, ...]


@dataclass(frozen=True, slots=True)
class TaskEvent:
    """One step of a task's lifecycle: the store appends these and nothing else.

    ``seq`` numbers a task's events from 1, so replaying a log twice changes
    nothing (an event whose ``seq`` is not the next one is skipped).
    """

    task_id: str
    seq: int
    status: TaskStatus
    at_s: float
    robot: str | None = None
    reason: str | None = None
    stop_index: int = 0
    spec: TaskSpec | None = None
    """Carried by the first event (``seq == 1``) so the log alone rebuilds the task."""
    priority: int | None = None
    sequence: tuple[int, ...] | None = None
    """A new visiting order of the stops (indices into the spec's), when re-sequenced."""


@dataclass(frozen=True, slots=True)
class ConfirmPicks:
    """A stop's pick action FINISHED: book its lines in the ledger (idempotent by pick_id)."""

    task_id: str
    robot: str
    stop_index: int
    lines: tuple[PickLine, ...]


@dataclass(frozen=True, slots=True)
class LoadLeft:
    """A robot that failed carries a load: it is recorded where it is."""

    robot: str
    load_id: str
    cell: Cell
    task_id: str
    kind: TaskKind


@dataclass(frozen=True, slots=True)
class RobotPlaced:
    """A robot entered the registry, or stands with no order on this cell: kept durably,
    so a restart reserves the cell before the robot reports again."""

    robot: str
    number: int
    cell: Cell


@dataclass(frozen=True, slots=True)
class Rejected:
    """An input the core refused; nothing changed."""

    source: str
    reason: str


Command = (
    SendOrder
    | SendInstantActions
    | TaskEvent
    | ConfirmPicks
    | LoadLeft
    | RobotPlaced
    | CellsBlocked
    | Rejected
)
"""`CellsBlocked` is also a command: the core emits the change so the adapter keeps it."""
