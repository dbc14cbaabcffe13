"""The operator control protocol: typed requests and one-line answers over msgpack.

Frames (one msgpack map each way, on a DEALER → ROUTER connection)::

    request   {"id": int, "op": str, "args": {...}}
    answer    {"id": int, "ok": true,  "result": ...}
            | {"id": int, "ok": false, "error": "one line"}

Everything a peer sends is distrusted: the body size, the nesting depth, the
op name and every argument are checked before a handler sees anything, and a
check that fails is an answer (``ok: false``) rather than an exception in the
socket loop. The fleet core receives frozen, already validated request objects
(`AddTask`, `Pause`, ...), never raw maps, so it needs no parsing of its own.

What a handler returns for each op is part of the contract too
(`check_result`): ``tasks.add`` a map with ``task_id``; ``tasks.list`` and
``robots.list`` lists of maps with the `TASK_COLUMNS` / `ROBOT_COLUMNS` keys.
The CLI and outside tools rely on those keys.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import re
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import msgpack

from fleet.manager.model import TaskKind
from wms.errors import WarehouseError
from wms.layout import Cell

MAX_REQUEST_BYTES = 64 * 1024
"""A request body above this is refused unread (the largest legal one is far smaller)."""
MAX_ANSWER_BYTES = 16 * 1024 * 1024
"""A result above this becomes an error answer (a fleet of 10,000 tasks is ~2 MiB)."""
MAX_DEPTH = 8
"""Nesting limit for request bodies: the deepest legal request (stops) has depth 4."""
MAX_STOPS = 1_000
MAX_NAME = 200
"""Longest robot id or task id accepted."""
MAX_CELL = 1_000_000
MAX_PRIORITY = 1_000_000
MAX_ERROR_CHARS = 300
MAX_REQUEST_ID = 2**63 - 1
UNREADABLE_ID = 0
"""The ``id`` of an answer to a request whose own id could not be read; clients count from 1."""

TASK_COLUMNS = ("task_id", "kind", "status", "robot")
"""Keys every ``tasks.list`` row must carry (handlers may add more)."""
ROBOT_COLUMNS = ("robot", "kind", "status", "battery", "cell")
"""Keys every ``robots.list`` row must carry (handlers may add more)."""

_NAME = re.compile(r"^[A-Za-z0-9._:/-]+$")


class ControlError(WarehouseError):
    """Base of the control errors; its text is one line, fit for the CLI's exit-2 message."""


class ControlRefused(ControlError):
    """A command the fleet will not carry out (unknown robot, unknown task, bad state).

    A handler raises it for a clean refusal: its message goes back to the
    operator verbatim as the ``error`` of the answer. The client raises it for
    every ``ok: false`` answer.
    """


class ControlUnavailable(ControlError):
    """No answer: no server at the endpoint, or it refused our key."""


class Op(enum.Enum):
    """Operation names on the wire."""

    TASKS_ADD = "tasks.add"
    TASKS_LIST = "tasks.list"
    TASKS_CANCEL = "tasks.cancel"
    TASKS_PRIORITY = "tasks.priority"
    ROBOTS_LIST = "robots.list"
    PAUSE = "pause"
    RESUME = "resume"
    ESTOP = "estop"
    ESTOP_RELEASE = "estop.release"
    DRAIN = "drain"
    UNDRAIN = "undrain"


def one_line(text: str) -> str:
    """Newlines and control characters folded, length capped: answers are one line."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= MAX_ERROR_CHARS else flat[: MAX_ERROR_CHARS - 3] + "..."


# --- argument checks shared by the request types -------------------------------------


def _refuse(where: str, problem: str) -> ControlRefused:
    return ControlRefused(f"{where}: {problem}")


def _int(value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _refuse(where, f"must be an integer, got {type(value).__name__}")
    if not low <= value <= high:
        raise _refuse(where, f"{value} is outside {low}..{high}")
    return value


def _name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise _refuse(where, "must be a non-empty string")
    if len(value) > MAX_NAME or not _NAME.match(value):
        raise _refuse(
            where, f"{value[:40]!r} is not an id (letters, digits, '._:/-', {MAX_NAME} at most)"
        )
    return value


def _cell(value: Any, where: str) -> Cell:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise _refuse(where, "must be a [row, col] pair")
    return (_int(value[0], f"{where}[0]", 0, MAX_CELL), _int(value[1], f"{where}[1]", 0, MAX_CELL))


def _keys(
    args: Mapping[str, Any], op: Op, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> None:
    """Refuse unknown argument names and missing required ones."""
    unknown = sorted(set(args) - set(required) - set(optional))
    if unknown:
        raise _refuse(op.value, f"unknown argument {unknown[0]!r}")
    for key in required:
        if key not in args:
            raise _refuse(op.value, f"argument {key!r} is required")


# --- requests ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AddTask:
    """``tasks.add``: queue a task. ``stops`` are the cells in order; ``move`` has exactly one.

    Wire args: ``kind``, then ``to`` ([row, col]; the one stop of a ``move``)
    or ``stops`` ([[row, col], ...]), and optionally ``priority`` (higher goes
    first), ``due_s`` (deadline in manager seconds) and ``robot`` (pin to one
    robot). Whether the cells are on the floor is the fleet's to judge.
    """

    op: ClassVar[Op] = Op.TASKS_ADD
    kind: TaskKind
    stops: tuple[Cell, ...]
    priority: int = 0
    due_s: float | None = None
    robot: str | None = None

    def __post_init__(self) -> None:
        if not 1 <= len(self.stops) <= MAX_STOPS:
            raise _refuse("stops", f"needs 1..{MAX_STOPS} cells, got {len(self.stops)}")
        if self.kind is TaskKind.MOVE and len(self.stops) != 1:
            raise _refuse("to", "a move task goes to exactly one cell")
        for i, cell in enumerate(self.stops):
            _cell(cell, f"stops[{i}]")
        _int(self.priority, "priority", -MAX_PRIORITY, MAX_PRIORITY)
        if self.due_s is not None and (
            isinstance(self.due_s, bool)
            or not isinstance(self.due_s, int | float)
            or not math.isfinite(self.due_s)
            or self.due_s < 0
        ):
            raise _refuse("due_s", "must be a finite number of seconds ≥ 0")
        if self.robot is not None:
            _name(self.robot, "robot")

    def to_args(self) -> dict[str, Any]:
        args: dict[str, Any] = {"kind": self.kind.value, "priority": self.priority}
        if self.kind is TaskKind.MOVE:
            args["to"] = list(self.stops[0])
        else:
            args["stops"] = [list(cell) for cell in self.stops]
        if self.due_s is not None:
            args["due_s"] = self.due_s
        if self.robot is not None:
            args["robot"] = self.robot
        return args

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> AddTask:
        _keys(args, cls.op, ("kind",), ("to", "stops", "priority", "due_s", "robot"))
        kinds = {k.value: k for k in TaskKind}
        kind = kinds.get(args["kind"]) if isinstance(args["kind"], str) else None
        if kind is None:
            raise _refuse("kind", f"must be one of {', '.join(kinds)}")
        if ("to" in args) == ("stops" in args):
            raise _refuse(cls.op.value, "give exactly one of 'to' (one cell) and 'stops'")
        if "to" in args:
            stops: tuple[Cell, ...] = (_cell(args["to"], "to"),)
        else:
            raw = args["stops"]
            if not isinstance(raw, list | tuple) or len(raw) > MAX_STOPS:
                raise _refuse("stops", f"must be a list of at most {MAX_STOPS} cells")
            stops = tuple(_cell(cell, f"stops[{i}]") for i, cell in enumerate(raw))
        return cls(kind, stops, args.get("priority", 0), args.get("due_s"), args.get("robot"))


@dataclass(frozen=True, slots=True)
class ListTasks:
    """``tasks.list``: every task the fleet knows, one map per task (`TASK_COLUMNS` at least)."""

    op: ClassVar[Op] = Op.TASKS_LIST


@dataclass(frozen=True, slots=True)
class ListRobots:
    """``robots.list``: every robot, one map per robot (`ROBOT_COLUMNS` at least)."""

    op: ClassVar[Op] = Op.ROBOTS_LIST


@dataclass(frozen=True, slots=True)
class CancelTask:
    """``tasks.cancel``: args ``task_id``."""

    op: ClassVar[Op] = Op.TASKS_CANCEL
    task_id: str

    def __post_init__(self) -> None:
        _name(self.task_id, "task_id")


@dataclass(frozen=True, slots=True)
class SetPriority:
    """``tasks.priority``: args ``task_id``, ``priority`` (higher goes first)."""

    op: ClassVar[Op] = Op.TASKS_PRIORITY
    task_id: str
    priority: int

    def __post_init__(self) -> None:
        _name(self.task_id, "task_id")
        _int(self.priority, "priority", -MAX_PRIORITY, MAX_PRIORITY)


@dataclass(frozen=True, slots=True)
class _Fleetwide:
    """A command for one robot (``robot``) or, with ``robot`` None, for all of them.

    On the wire the choice is explicit, ``{"robot": id}`` or ``{"all": true}``,
    so a forgotten argument never turns into a fleet-wide command.
    """

    op: ClassVar[Op]
    robot: str | None

    def __post_init__(self) -> None:
        if self.robot is not None:
            _name(self.robot, "robot")

    def to_args(self) -> dict[str, Any]:
        return {"all": True} if self.robot is None else {"robot": self.robot}

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> Any:
        _keys(args, cls.op, (), ("robot", "all"))
        if ("robot" in args) == ("all" in args) or args.get("all", True) is not True:
            raise _refuse(cls.op.value, "give 'robot' or 'all': true")
        return cls(args.get("robot"))


@dataclass(frozen=True, slots=True)
class Pause(_Fleetwide):
    """``pause``: robots stop where they are, keep their cell and task."""

    op: ClassVar[Op] = Op.PAUSE


@dataclass(frozen=True, slots=True)
class Resume(_Fleetwide):
    """``resume``: paused robots carry on."""

    op: ClassVar[Op] = Op.RESUME


@dataclass(frozen=True, slots=True)
class EStop:
    """``estop``: emergency stop of the whole fleet, until ``estop.release``."""

    op: ClassVar[Op] = Op.ESTOP


@dataclass(frozen=True, slots=True)
class EStopRelease:
    """``estop.release``: lift the emergency stop."""

    op: ClassVar[Op] = Op.ESTOP_RELEASE


@dataclass(frozen=True, slots=True)
class Drain:
    """``drain``: take a robot out of service for maintenance (args ``robot``)."""

    op: ClassVar[Op] = Op.DRAIN
    robot: str

    def __post_init__(self) -> None:
        _name(self.robot, "robot")


@dataclass(frozen=True, slots=True)
class Undrain:
    """``undrain``: put a drained robot back into service (args ``robot``)."""

    op: ClassVar[Op] = Op.UNDRAIN
    robot: str

    def __post_init__(self) -> None:
        _name(self.robot, "robot")


Request = (
    AddTask
    | ListTasks
    | ListRobots
    | CancelTask
    | SetPriority
    | Pause
    | Resume
    | EStop
    | EStopRelease
    | Drain
    | Undrain
)
"""What a handler receives: one frozen, validated request."""

REQUEST_TYPES: dict[Op, type] = {cls.op: cls for cls in typing.get_args(Request)}
"""The request type of each op (every op has exactly one)."""

Handler = Callable[[Request], Any]
"""Called once per request; returns the result (plain data, enums, tuples or dataclasses)
or raises `ControlRefused`. Any other exception becomes a one-line error answer."""


def request_args(request: Request) -> dict[str, Any]:
    """The wire ``args`` of a request (the inverse of `request_from_wire`)."""
    custom = getattr(request, "to_args", None)
    if custom is not None:
        return custom()
    return {f.name: getattr(request, f.name) for f in dataclasses.fields(request)}


def _from_args(cls: type, args: Mapping[str, Any]) -> Request:
    custom = getattr(cls, "from_args", None)
    if custom is not None:
        return custom(args)
    names = tuple(f.name for f in dataclasses.fields(cls))
    _keys(args, cls.op, names)  # type: ignore[attr-defined]
    return cls(**{name: args[name] for name in names})


# --- frames ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Envelope:
    """A decoded request frame: its id and the typed request."""

    request_id: int
    request: Request


class FrameError(ControlError):
    """A request frame that cannot be used; ``request_id`` is its id when it could be read."""

    def __init__(self, message: str, request_id: int = UNREADABLE_ID) -> None:
        super().__init__(one_line(message))
        self.request_id = request_id


def _depth_ok(value: Any, limit: int) -> bool:
    """Nesting depth of containers at most ``limit`` (iterative: no recursion on hostile input)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return False
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return True


def _unpack(body: bytes, max_bytes: int) -> Any:
    if len(body) > max_bytes:
        raise FrameError(f"request of {len(body)} bytes is above the {max_bytes}-byte limit")
    try:
        return msgpack.unpackb(body, raw=False, strict_map_key=True)
    except Exception as error:  # msgpack raises assorted types on hostile input
        raise FrameError(f"not a msgpack value ({type(error).__name__})") from None


def encode_request(request_id: int, request: Request) -> bytes:
    """The body of a request frame."""
    frame = {"id": request_id, "op": request.op.value, "args": request_args(request)}
    return msgpack.packb(frame, use_bin_type=True)


def decode_request(body: bytes, max_bytes: int = MAX_REQUEST_BYTES) -> Envelope:
    """Validate a request frame into an `Envelope`; raises `FrameError` naming the problem."""
    frame = _unpack(body, max_bytes)
    if not isinstance(frame, dict):
        raise FrameError("a request is a map with id, op and args")
    raw_id = frame.get("id")
    ok_id = isinstance(raw_id, int) and not isinstance(raw_id, bool)
    request_id = raw_id if ok_id and 0 < raw_id <= MAX_REQUEST_ID else UNREADABLE_ID
    if request_id == UNREADABLE_ID:
        raise FrameError(f"id: must be an integer in 1..{MAX_REQUEST_ID}")
    if not _depth_ok(frame, MAX_DEPTH):
        raise FrameError(f"nested deeper than {MAX_DEPTH} levels", request_id)
    unknown = sorted(str(k) for k in set(frame) - {"id", "op", "args"})
    if unknown:
        raise FrameError(f"unknown key {unknown[0][:40]!r} in the request", request_id)
    ops = {op.value: op for op in Op}
    op = ops.get(frame.get("op")) if isinstance(frame.get("op"), str) else None
    if op is None:
        shown = str(frame.get("op"))[:40]
        raise FrameError(f"unknown op {shown!r} (known: {', '.join(ops)})", request_id)
    args = frame.get("args", {})
    if not isinstance(args, dict):
        raise FrameError(f"{op.value}: args must be a map", request_id)
    try:
        request = _from_args(REQUEST_TYPES[op], args)
    except ControlRefused as error:
        raise FrameError(str(error), request_id) from None
    return Envelope(request_id, request)


def plain(value: Any) -> Any:
    """A handler's result as msgpack-ready data: dataclasses → maps, enums → values, tuples → lists.

    So the core may answer with its own frozen rows instead of building dicts.
    """
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        return [plain(v) for v in value]
    return value


def check_result(op: Op, result: Any) -> None:
    """Raise ``ValueError`` when a (plain) result breaks the op's result contract."""
    if op is Op.TASKS_ADD and (not isinstance(result, dict) or "task_id" not in result):
        raise ValueError("tasks.add must return a map with task_id")
    columns = {Op.TASKS_LIST: TASK_COLUMNS, Op.ROBOTS_LIST: ROBOT_COLUMNS}.get(op)
    if columns is not None:
        if not isinstance(result, list) or not all(isinstance(row, dict) for row in result):
            raise ValueError(f"{op.value} must return a list of maps")
        for row in result:
            missing = [c for c in columns if c not in row]
            if missing:
                raise ValueError(f"{op.value} row lacks {', '.join(missing)}")


def encode_answer(request_id: int, result: Any) -> bytes:
    return msgpack.packb({"id": request_id, "ok": True, "result": result}, use_bin_type=True)


def encode_error(request_id: int, message: str) -> bytes:
    frame = {"id": request_id, "ok": False, "error": one_line(message)}
    return msgpack.packb(frame, use_bin_type=True)


@dataclass(frozen=True, slots=True)
class Answer:
    """A decoded answer frame: ``error`` is set exactly when ``ok`` is false."""

    request_id: int
    ok: bool
    result: Any = None
    error: str | None = None


def decode_answer(body: bytes, max_bytes: int = MAX_ANSWER_BYTES) -> Answer:
    """Validate an answer frame; raises `FrameError` when it is not one."""
    frame = _unpack(body, max_bytes)
    if not isinstance(frame, dict):
        raise FrameError("an answer is a map")
    request_id, ok = frame.get("id"), frame.get("ok")
    if isinstance(request_id, bool) or not isinstance(request_id, int) or not isinstance(ok, bool):
        raise FrameError("an answer has an integer id and a boolean ok")
    if ok:
        return Answer(request_id, True, frame.get("result"))
    return Answer(request_id, False, error=one_line(str(frame.get("error", "refused"))))
