"""Control-socket fixtures: a fake fleet behind a server on an OS-assigned loopback port."""

from __future__ import annotations

import faulthandler
from collections.abc import Iterator

import pytest
from control_helpers import LOOPBACK, FakeFleet

from fleet.control.client import ControlClient
from fleet.control.server import ControlServer


@pytest.fixture
def fleet() -> FakeFleet:
    return FakeFleet()


@pytest.fixture
def server(fleet: FakeFleet) -> Iterator[ControlServer]:
    control = ControlServer(LOOPBACK).start(fleet)
    yield control
    control.stop()


@pytest.fixture
def client(server: ControlServer) -> Iterator[ControlClient]:
    ctl = ControlClient(server.endpoint, timeout_s=30.0)
    yield ctl
    ctl.close()


@pytest.fixture(autouse=True)
def hang_guard() -> Iterator[None]:
    """A live-socket test that hangs dumps every thread's stack and ends the run after 90 s."""
    faulthandler.dump_traceback_later(90, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()
