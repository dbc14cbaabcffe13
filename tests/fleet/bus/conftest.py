"""Live-bus fixtures: a server on OS-assigned loopback ports, robot clients, a recorder."""

from __future__ import annotations

import faulthandler
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import zmq
from bus_helpers import FAST, LOOPBACK, Recorder

from fleet.bus.robot_client import RobotClient
from fleet.bus.server import BusServer
from tests.helpers import HANG_GUARD_S


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def context() -> Iterator[zmq.Context]:
    ctx = zmq.Context()
    yield ctx
    ctx.destroy(linger=0)


@pytest.fixture
def server(recorder: Recorder) -> Iterator[BusServer]:
    bus = BusServer(LOOPBACK, pub=LOOPBACK, insecure=True, config=FAST, listener=recorder)
    bus.start()
    yield bus
    bus.stop()


@pytest.fixture
def clients(context: zmq.Context) -> Iterator[Callable[..., RobotClient]]:
    made: list[RobotClient] = []

    def make(
        endpoint: str, serial: str = "r1", manufacturer: str = "acme", **kw: Any
    ) -> RobotClient:
        # connect() waits for the handshake so the first message is not dropped
        # (ZMQ_IMMEDIATE); its 2 s default can run out on a loaded machine.
        kw.setdefault("connect_timeout_s", 60.0)
        client = RobotClient(endpoint, manufacturer, serial, context=context, **kw)
        made.append(client)
        return client.connect()

    yield make
    for client in made:
        if client.socket is not None:
            client.close(clean=False)


@pytest.fixture(autouse=True)
def hang_guard() -> Iterator[None]:
    """A hung live-socket test dumps every thread's stack and ends the run (`HANG_GUARD_S`)."""
    faulthandler.dump_traceback_later(HANG_GUARD_S, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()
