"""Control-socket fixtures: a fake fleet behind a server on an OS-assigned loopback port."""

from __future__ import annotations

import faulthandler
from collections.abc import Iterator

import pytest
from control_helpers import LOOPBACK, FakeFleet

from fleet.control.client import ControlClient
from fleet.control.server import ControlServer
from tests.helpers import HANG_GUARD_S


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
    """A hung live-socket test dumps every thread's stack and ends the run (`HANG_GUARD_S`)."""
    faulthandler.dump_traceback_later(HANG_GUARD_S, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()
