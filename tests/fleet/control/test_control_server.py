"""The control socket on real loopback sockets: answers, refusals, hostile frames, CURVE."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import msgpack
import pytest
import zmq
from control_helpers import LOOPBACK, FakeFleet, free_endpoint

from fleet.bus.keys import generate_keys
from fleet.bus.robot_client import ClientKeys
from fleet.bus.subscriber import ViewerKeys
from fleet.control.client import ControlClient, operator_keys
from fleet.control.protocol import (
    AddTask,
    CancelTask,
    ControlRefused,
    ControlUnavailable,
    Drain,
    EStop,
    ListRobots,
    ListTasks,
    Pause,
    SetPriority,
    encode_request,
)
from fleet.control.server import ControlServer
from fleet.manager.model import TaskKind
from wms.errors import InputError


def test_round_trip_reaches_the_handler_and_returns_its_result(
    client: ControlClient, fleet: FakeFleet
) -> None:
    """A queued task shows up in the list the handler returns; enums arrive as their values."""
    added = client.call(AddTask(TaskKind.MOVE, ((3, 4),), priority=2))
    client.call(SetPriority(added["task_id"], 7))
    (task,) = client.call(ListTasks())
    assert task["task_id"] == added["task_id"]
    assert (task["kind"], task["status"], task["priority"], task["stops"]) == (
        "move",
        "queued",
        7,
        [[3, 4]],
    )
    assert fleet.requests[0] == AddTask(TaskKind.MOVE, ((3, 4),), priority=2)


def test_commands_change_the_fleet(client: ControlClient, fleet: FakeFleet) -> None:
    """Pause one robot, pause all, drain, e-stop: each arrives typed and takes effect."""
    client.call(Pause("acme/r1"))
    assert [r["status"] for r in client.call(ListRobots())] == ["paused", "busy"]
    client.call(Pause(None))
    client.call(Drain("acme/r2"))
    assert client.call(EStop()) is None
    assert [r["status"] for r in fleet.robots.values()] == ["paused", "drained"]
    assert fleet.estopped


def test_refusal_comes_back_as_the_handlers_line(
    client: ControlClient, server: ControlServer
) -> None:
    """An unknown robot or task is refused with the handler's message; nothing else happens."""
    with pytest.raises(ControlRefused, match="unknown robot 'acme/r9'"):
        client.call(Pause("acme/r9"))
    with pytest.raises(ControlRefused, match="unknown task 'T404'"):
        client.call(CancelTask("T404"))
    assert server.counters["refused"] == 2


def test_handler_bug_is_one_line_and_the_server_keeps_serving(
    client: ControlClient, fleet: FakeFleet, server: ControlServer
) -> None:
    """A handler exception becomes an internal-error answer; the next request still works."""
    fleet.robots["acme/r1"]["cell"] = object()  # not encodable: the answer cannot be packed
    with pytest.raises(ControlRefused, match=r"internal error in robots\.list") as caught:
        client.call(ListRobots())
    assert "\n" not in str(caught.value)
    del fleet.robots["acme/r1"]["cell"]  # now the result breaks the robots.list contract
    with pytest.raises(ControlRefused, match="row lacks cell"):
        client.call(ListRobots())
    assert client.call(ListTasks()) == []
    assert server.counters["failed"] == 2


@pytest.fixture
def raw(server: ControlServer) -> Iterator[zmq.Socket]:
    """A bare DEALER on the control socket, to send what a real client never would."""
    context = zmq.Context()
    socket = context.socket(zmq.DEALER)
    socket.setsockopt(zmq.LINGER, 0)
    socket.connect(server.endpoint)
    yield socket
    socket.close()
    context.term()


def _answer(socket: zmq.Socket) -> dict:
    assert socket.poll(30_000), "no answer before the deadline"
    return msgpack.unpackb(socket.recv(), raw=False)


@pytest.mark.parametrize(
    "frames",
    [
        [b"\xc1\xc1"],
        [b""],
        [msgpack.packb("hello")],
        [b"one", b"two"],
        [msgpack.packb({"id": 5, "op": "pause", "args": {"robot": ["nested"]}})],
        [msgpack.packb({"id": 6, "op": "tasks.list", "args": {"x": [[[[[[[[[1]]]]]]]]]}})],
        [b"\x92" * 70_000],
    ],
    ids=["garbage", "empty", "string", "two-frames", "bad-args", "deep", "oversized"],
)
def test_malformed_frames_get_an_error_and_never_kill_the_server(
    raw: zmq.Socket, client: ControlClient, fleet: FakeFleet, frames: list[bytes]
) -> None:
    """Each hostile frame is answered ok=false without reaching the handler; service goes on."""
    raw.send_multipart(frames)
    answer = _answer(raw)
    assert answer["ok"] is False and isinstance(answer["error"], str)
    assert fleet.requests == []
    assert client.call(ListTasks()) == []


def test_frame_above_the_transport_limit_drops_only_that_peer(
    raw: zmq.Socket, client: ControlClient
) -> None:
    """A frame above MAXMSGSIZE closes that connection; other clients are still answered."""
    raw.send(b"\x00" * (5 * 64 * 1024))
    assert client.call(ListTasks()) == []


def test_answer_carries_the_request_id(raw: zmq.Socket) -> None:
    """Answers name the id they answer, so a client can skip a late answer to an old request."""
    raw.send(encode_request(77, ListTasks()))
    assert _answer(raw) == {"id": 77, "ok": True, "result": []}


def test_owner_thread_mode_calls_the_handler_on_the_polling_thread(fleet: FakeFleet) -> None:
    """With poll/handle_ready the handler runs on the owner's thread, never on another."""
    server = ControlServer(LOOPBACK).open()
    results: list[object] = []
    client = ControlClient(server.endpoint, timeout_s=30.0)
    caller = threading.Thread(target=lambda: results.append(client.call(ListRobots())))
    caller.start()
    deadline = time.monotonic() + 30.0
    while not results and time.monotonic() < deadline:
        if server.poll(50):
            assert server.handle_ready(fleet) == 1
    caller.join(30.0)
    client.close()
    server.close()
    assert fleet.threads == {threading.get_ident()}
    assert [r["robot"] for r in results[0]] == ["acme/r1", "acme/r2"]  # type: ignore[index]


def test_bad_endpoint_is_an_input_error() -> None:
    """An endpoint that cannot be bound is a one-line `InputError` naming it."""
    with pytest.raises(InputError, match="nonsense"):
        ControlServer("nonsense").open()
    with pytest.raises(InputError, match="port '99999'"):
        ControlServer("tcp://127.0.0.1:99999").open()


def test_no_server_is_unavailable_after_the_timeout() -> None:
    """Nothing listening: the client gives up with `ControlUnavailable` instead of hanging."""
    with (
        free_endpoint() as nobody,
        ControlClient(nobody, timeout_s=0.3) as client,
        pytest.raises(ControlUnavailable, match=r"no answer within 0\.3 s"),
    ):
        client.call(ListTasks())


# --- CURVE ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("keys")
    generate_keys(root, ["acme/r1"], ["wall"], operators=["alice"])
    generate_keys(root.parent / "stranger", [], [], operators=["mallory"])
    return root


@pytest.fixture
def secure(keys_dir: Path, fleet: FakeFleet) -> Iterator[ControlServer]:
    control = ControlServer(LOOPBACK, keys_dir=keys_dir).start(fleet)
    yield control
    control.stop()


def _call_with(server: ControlServer, keys: ClientKeys | ViewerKeys | None) -> object:
    with ControlClient(server.endpoint, keys=keys, timeout_s=30.0) as client:  # type: ignore[arg-type]
        return client.call(ListRobots())


def test_authorised_operator_is_answered(secure: ControlServer, keys_dir: Path) -> None:
    """An operator whose public key is in authorized/operators gets answers."""
    robots = _call_with(secure, operator_keys(keys_dir, "alice"))
    assert [r["robot"] for r in robots] == ["acme/r1", "acme/r2"]  # type: ignore[attr-defined]


def test_robot_viewer_and_unknown_keys_are_refused(
    secure: ControlServer, keys_dir: Path, fleet: FakeFleet
) -> None:
    """A robot's key, a viewer's key and an unregistered operator key all fail the handshake."""
    server_public = operator_keys(keys_dir, "alice").server_public
    stranger = operator_keys(keys_dir.parent / "stranger", "mallory")
    for keys in (
        ClientKeys.from_folder(keys_dir, "acme/r1"),
        ViewerKeys.from_folder(keys_dir, "wall"),
        ClientKeys(stranger.public, stranger.secret, server_public),
    ):
        with pytest.raises(ControlUnavailable, match="refused this operator key"):
            _call_with(secure, keys)
    assert fleet.requests == []


def test_plain_client_gets_nothing_from_a_curve_server(
    secure: ControlServer, fleet: FakeFleet
) -> None:
    """Without keys the handshake cannot start: the client times out, the handler is not called."""
    with ControlClient(secure.endpoint, timeout_s=0.3) as client, pytest.raises(ControlUnavailable):
        client.call(ListRobots())
    assert fleet.requests == []


def test_operator_added_later_gets_in_after_reload(secure: ControlServer, keys_dir: Path) -> None:
    """Registering an operator is copying its public key in and reloading the keys."""
    generate_keys(keys_dir, [], [], operators=["bob"])
    secure.reload_keys()
    robots = _call_with(secure, operator_keys(keys_dir, "bob"))
    assert len(robots) == 2  # type: ignore[arg-type]
