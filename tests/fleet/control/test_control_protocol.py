"""Control frames: every op round-trips, every bad frame is refused with a line naming why."""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

import msgpack
import pytest

from fleet.control.protocol import (
    MAX_REQUEST_BYTES,
    REQUEST_TYPES,
    UNREADABLE_ID,
    AddTask,
    CancelTask,
    ControlRefused,
    Drain,
    EStop,
    EStopRelease,
    FrameError,
    ListRobots,
    ListTasks,
    Op,
    Pause,
    Resume,
    SetPriority,
    Undrain,
    check_result,
    decode_answer,
    decode_request,
    encode_answer,
    encode_error,
    encode_request,
    one_line,
    plain,
)
from fleet.manager.model import TaskKind

EXAMPLES = [
    AddTask(TaskKind.MOVE, ((3, 4),), priority=5),
    AddTask(TaskKind.PICK_ROUTE, ((1, 2), (3, 4), (5, 6)), due_s=120.5, robot="acme/r1"),
    ListTasks(),
    ListRobots(),
    CancelTask("T1"),
    SetPriority("T1", -3),
    Pause("acme/r1"),
    Pause(None),
    Resume(None),
    EStop(),
    EStopRelease(),
    Drain("acme/r2"),
    Undrain("acme/r2"),
]


def frame(op: Any = "tasks.list", args: Any = None, request_id: Any = 1, **extra: Any) -> bytes:
    body = {"id": request_id, "op": op, **extra}
    if args is not None:
        body["args"] = args
    return msgpack.packb(body, use_bin_type=True)


def test_examples_cover_every_op() -> None:
    """The round-trip examples include every op, so a new op cannot go untested."""
    assert {type(r).op for r in EXAMPLES} == set(Op) == set(REQUEST_TYPES)


@pytest.mark.parametrize("request_", EXAMPLES, ids=repr)
def test_request_round_trips(request_: Any) -> None:
    """Encoding then decoding a request gives an equal typed request and the same id."""
    envelope = decode_request(encode_request(42, request_))
    assert envelope.request_id == 42
    assert envelope.request == request_


def test_move_takes_to_and_pick_route_takes_stops_on_the_wire() -> None:
    """A move is sent as ``to`` [row, col]; a multi-stop task as ``stops``."""
    move = msgpack.unpackb(encode_request(1, EXAMPLES[0]))
    route = msgpack.unpackb(encode_request(1, EXAMPLES[1]))
    assert move["args"]["to"] == [3, 4] and "stops" not in move["args"]
    assert route["args"]["stops"] == [[1, 2], [3, 4], [5, 6]]


BAD_FRAMES = [
    (b"\xc1", "not a msgpack value"),
    (msgpack.packb([1, 2]), "is a map"),
    (frame(request_id=None), "id: must be an integer"),
    (frame(request_id=True), "id: must be an integer"),
    (frame(request_id=0), "id: must be an integer"),
    (frame(request_id=2**64 - 1), "id: must be an integer"),
    (frame(op="tasks.explode"), "unknown op 'tasks.explode'"),
    (frame(op=7), "unknown op '7'"),
    (frame(args=[1]), "args must be a map"),
    (frame(extra=1), "unknown key 'extra'"),
    (frame("tasks.list", {"x": 1}), "unknown argument 'x'"),
    (frame("tasks.add", {"to": [1, 1]}), "argument 'kind' is required"),
    (frame("tasks.add", {"kind": "fly", "to": [1, 1]}), "kind: must be one of"),
    (frame("tasks.add", {"kind": "move"}), "exactly one of 'to'"),
    (frame("tasks.add", {"kind": "move", "to": [1, 1], "stops": [[1, 1]]}), "exactly one"),
    (frame("tasks.add", {"kind": "move", "stops": [[1, 1], [2, 2]]}), "exactly one cell"),
    (frame("tasks.add", {"kind": "pick_route", "stops": []}), "needs 1..1000 cells"),
    (frame("tasks.add", {"kind": "pick_route", "stops": [[0, 0]] * 1001}), "at most 1000"),
    (frame("tasks.add", {"kind": "move", "to": [1]}), "to: must be a [row, col] pair"),
    (frame("tasks.add", {"kind": "move", "to": [-1, 1]}), "to[0]: -1 is outside"),
    (frame("tasks.add", {"kind": "move", "to": [1, True]}), "to[1]: must be an integer"),
    (frame("tasks.add", {"kind": "move", "to": [1, 2.0]}), "to[1]: must be an integer"),
    (frame("tasks.add", {"kind": "move", "to": [1, 1], "priority": 1.5}), "priority: must be"),
    (frame("tasks.add", {"kind": "move", "to": [1, 1], "priority": 10**9}), "priority: 1000000000"),
    (frame("tasks.add", {"kind": "move", "to": [1, 1], "due_s": float("nan")}), "due_s"),
    (frame("tasks.add", {"kind": "move", "to": [1, 1], "due_s": -1}), "due_s"),
    (frame("tasks.add", {"kind": "move", "to": [1, 1], "robot": "a b"}), "robot: 'a b' is not"),
    (frame("tasks.cancel", {}), "argument 'task_id' is required"),
    (frame("tasks.cancel", {"task_id": ""}), "task_id: must be a non-empty string"),
    (frame("tasks.cancel", {"task_id": "x" * 201}), "is not an id"),
    (frame("tasks.priority", {"task_id": "T1", "priority": "high"}), "priority: must be an int"),
    (frame("pause", {}), "give 'robot' or 'all'"),
    (frame("pause", {"all": False}), "give 'robot' or 'all'"),
    (frame("resume", {"all": True, "robot": "acme/r1"}), "give 'robot' or 'all'"),
    (frame("drain", {"robot": 5}), "robot: must be a non-empty string"),
    (frame("estop", {"robot": "acme/r1"}), "unknown argument 'robot'"),
    (frame("tasks.list", {"a": {"b": {"c": {"d": {"e": {"f": {"g": [1]}}}}}}}), "nested deeper"),
    (b"\x80" * (MAX_REQUEST_BYTES + 1), "above the 65536-byte limit"),
]


@pytest.mark.parametrize(("body", "fragment"), BAD_FRAMES, ids=[f for _, f in BAD_FRAMES])
def test_bad_frame_is_refused_with_a_reason(body: bytes, fragment: str) -> None:
    """A malformed or invalid request raises `FrameError` whose one line names the problem."""
    with pytest.raises(FrameError) as caught:
        decode_request(body)
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)


def test_frame_error_keeps_a_readable_request_id() -> None:
    """Bad args keep the request's id (the client matches answers by it); a bad id gives 0."""
    with pytest.raises(FrameError) as with_id:
        decode_request(frame("drain", {}, request_id=9))
    with pytest.raises(FrameError) as without:
        decode_request(frame(request_id="9"))
    assert (with_id.value.request_id, without.value.request_id) == (9, UNREADABLE_ID)


def test_requests_validate_when_built_in_code_too() -> None:
    """A request the CLI builds is checked by the same rules as one read from the wire."""
    with pytest.raises(ControlRefused, match="exactly one cell"):
        AddTask(TaskKind.MOVE, ((1, 1), (2, 2)))
    with pytest.raises(ControlRefused, match="robot"):
        Pause("no spaces allowed")


class _Colour(enum.Enum):
    RED = "red"


@dataclasses.dataclass(frozen=True)
class _Row:
    name: str
    colour: _Colour
    cell: tuple[int, int]


def test_plain_turns_dataclasses_enums_and_tuples_into_wire_data() -> None:
    """Handlers may return frozen dataclasses, enums and tuples; the wire gets maps and lists."""
    assert plain([_Row("a", _Colour.RED, (1, 2))]) == [
        {"name": "a", "colour": "red", "cell": [1, 2]}
    ]


@pytest.mark.parametrize(
    ("op", "result"),
    [
        (Op.TASKS_ADD, {"id": "T1"}),
        (Op.TASKS_ADD, "T1"),
        (Op.TASKS_LIST, {"task_id": "T1"}),
        (Op.TASKS_LIST, [{"task_id": "T1", "kind": "move", "status": "queued"}]),
        (Op.ROBOTS_LIST, [{"robot": "a/b", "kind": "amr", "status": "idle", "battery": 1}]),
    ],
)
def test_result_contract_is_checked(op: Op, result: Any) -> None:
    """A result without the keys the CLI and outside tools rely on is a broken contract."""
    with pytest.raises(ValueError):
        check_result(op, result)


def test_answers_round_trip_and_errors_stay_one_line() -> None:
    """An ok answer keeps its result; an error answer's text is folded onto one line."""
    ok = decode_answer(encode_answer(3, [{"a": 1}]))
    bad = decode_answer(encode_error(4, "first\nsecond\r\n" + "x" * 1000))
    assert (ok.request_id, ok.ok, ok.result) == (3, True, [{"a": 1}])
    assert (bad.request_id, bad.ok) == (4, False)
    assert bad.error is not None and "\n" not in bad.error and len(bad.error) <= 300
    assert one_line("a\n\tb") == "a b"
