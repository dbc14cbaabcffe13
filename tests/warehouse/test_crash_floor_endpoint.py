"""The killable server keeps its address across restarts without ever guessing a free port:
the child binds port 0 itself and reports what it got, a restart binds that same port
again (waiting while a stranger holds it, then one clear error), and `CrashFloor` uses a
private ``ipc://`` address nobody else can take."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from fleet.manager.config import FleetConfig
from warehouse.config import load_config
from warehouse.crash_floor import CrashFloor, ServerArgs, ServerProcess, ServerProcessError

TCP = re.compile(r"tcp://127\.0\.0\.1:(\d+)")


def _args(tmp_path: Path, endpoint: str, rebind_timeout_s: float) -> ServerArgs:
    return ServerArgs(
        endpoint,
        load_config().floor,
        str(tmp_path / "site.db"),
        FleetConfig(cycle_s=1.0, seconds_per_cell=1.0),
        ("amr000",),
        1.0,
        rebind_timeout_s=rebind_timeout_s,
    )


def _port(endpoint: str) -> int:
    found = TCP.fullmatch(endpoint)
    assert found is not None, endpoint
    return int(found.group(1))


@contextmanager
def _grabbed(port: int) -> Iterator[socket.socket]:
    """Another process's listener on ``port``, as a second suite binding port 0 would be."""
    with socket.socket() as stranger:
        stranger.bind(("127.0.0.1", port))
        stranger.listen()
        yield stranger


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(_args(tmp_path, "tcp://127.0.0.1:0", rebind_timeout_s=60.0))
    yield process
    process.stop()


def test_the_child_binds_port_0_and_reports_the_port(server: ServerProcess) -> None:
    """Port 0 is resolved by the child's own bind; the parent learns the port from it, and
    something really listens there."""
    server.start()
    port = _port(server.endpoint)
    assert port != 0
    with socket.create_connection(("127.0.0.1", port), timeout=30):
        pass
    assert server.args.endpoint == "tcp://127.0.0.1:0"  # the request, kept as given


def test_a_restart_waits_for_a_stranger_to_release_the_port(server: ServerProcess) -> None:
    """Killed, its port taken by another socket: the restart keeps trying the same port and
    serves on it once the stranger lets go (never on another one the robots do not know)."""
    server.start()
    endpoint = server.endpoint
    server.kill()
    with _grabbed(_port(endpoint)) as stranger:
        releaser = threading.Timer(1.0, stranger.close)
        releaser.start()
        try:
            server.start()
        finally:
            releaser.cancel()
    assert server.endpoint == endpoint
    assert server.starts == 2
    assert isinstance(server.ask("seen"), dict)  # the restarted child answers


def test_a_port_held_past_the_deadline_is_one_clear_error(tmp_path: Path) -> None:
    """A stranger that keeps the port: the restart gives up after ``rebind_timeout_s`` with
    one line naming the address, and starts once the port is free again."""
    server = ServerProcess(_args(tmp_path, "tcp://127.0.0.1:0", rebind_timeout_s=1.0))
    try:
        server.start()
        endpoint = server.endpoint
        server.kill()
        with _grabbed(_port(endpoint)), pytest.raises(ServerProcessError) as refused:
            server.start()
        message = str(refused.value)
        assert "\n" not in message
        assert endpoint in message and "still taken by another process" in message
        server.start()
        assert server.endpoint == endpoint
    finally:
        server.stop()


def test_the_crash_floor_serves_on_a_private_ipc_address(tmp_path: Path) -> None:
    """`CrashFloor` binds no TCP port at all: its server and robots meet on an ``ipc://``
    path in a folder of its own, removed on stop."""
    floor = load_config().floor
    run = CrashFloor(floor, [], str(tmp_path / "site.db"), FleetConfig())
    endpoint = run.server.endpoint
    assert endpoint.startswith("ipc://")
    folder = Path(endpoint.removeprefix("ipc://")).parent
    assert folder.is_dir() and not any(folder.iterdir())
    run.stop()
    assert not folder.exists()
