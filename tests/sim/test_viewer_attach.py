"""``warehouse view``: a read-only viewer on a fleet's PUB socket (snapshot, then updates)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sim_helpers import poll
from viewer_helpers import FLOOR, snapshot

from fleet.bus.server import BusServer
from fleet.bus.subscriber import FleetSubscriber
from sim.record import RobotActivity
from sim.viewer.attach import NoSnapshot, first_snapshot, watch
from sim.viewer.live import Viewer
from warehouse.cli import main

REPO = Path(__file__).resolve().parents[2]
KEY = ("fleet", "snapshot")


@pytest.fixture
def server() -> Iterator[BusServer]:
    bus = BusServer("tcp://127.0.0.1:0", pub="tcp://127.0.0.1:0", insecure=True)
    bus.start()
    yield bus
    bus.stop()


def published(server: BusServer, value: dict[str, Any]) -> None:
    """Publish a fleet snapshot and wait until the snapshot socket hands it out."""
    server.publish("fleet", "snapshot", value)
    probe = FleetSubscriber(server.pub_endpoint, server.snapshot_endpoint)
    try:
        poll(lambda: probe.snapshot() and probe.values.get(KEY) == value)
    finally:
        probe.close()


def test_view_screenshot_draws_the_running_fleet(server: BusServer, tmp_path: Path) -> None:
    """The PNG written by ``warehouse view --screenshot`` shows the published robots."""
    from sim.viewer.renderer import STATE_COLOURS

    published(server, snapshot())
    out = tmp_path / "fleet.png"
    argv = ["view", "--connect", server.pub_endpoint, "--snapshot", server.snapshot_endpoint]
    # --timeout 60: the 5 s default for the first snapshot can run out on a loaded machine
    assert main([*argv, "--timeout", "60", "--screenshot", str(out)]) == 0
    pygame = sys.modules["pygame"]
    image = pygame.image.load(str(out))
    viewport = Viewer(FLOOR, "none").ui.viewport
    assert tuple(image.get_at(viewport.centre((11, 5))))[:3] == STATE_COLOURS[RobotActivity.WAITING]


def test_view_against_no_server_exits_2_with_one_line(tmp_path: Path) -> None:
    """Nothing listening: one stderr line naming the address, exit 2, no PNG."""
    out = tmp_path / "never.png"
    command = ["view", "--connect", "tcp://127.0.0.1:1", "--timeout", "0.3", "--screenshot"]
    result = subprocess.run(
        [sys.executable, "-m", "warehouse.cli", *command, str(out)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and "tcp://127.0.0.1:1" in lines[0] and "no fleet snapshot" in lines[0]
    assert not out.exists()


def test_a_server_without_a_fleet_snapshot_times_out(server: BusServer) -> None:
    """A bus with no manager behind it answers the snapshot request but has no fleet to show."""
    subscriber = FleetSubscriber(server.pub_endpoint, server.snapshot_endpoint)
    try:
        with pytest.raises(NoSnapshot, match="published no fleet snapshot"):
            first_snapshot(subscriber, timeout_s=0.2)
    finally:
        subscriber.close()


class ScriptedSubscriber:
    """Stands in for `FleetSubscriber`: a snapshot, then one newer value on the second poll."""

    def __init__(self, first: dict[str, Any], later: dict[str, Any]) -> None:
        self.values: dict[tuple[str, str], Any] = {}
        self._first, self._later, self.polls = first, later, 0

    def snapshot(self, timeout_s: float = 5.0) -> int:
        self.values[KEY] = self._first
        return 1

    def poll(self, timeout_s: float = 0.0) -> list[Any]:
        self.polls += 1
        if self.polls == 2:
            self.values[KEY] = self._later
        return []


def test_watch_starts_from_the_snapshot_and_follows_updates() -> None:
    """Frame 1 shows the snapshot; a later update replaces it; frames without news keep it."""
    later = snapshot() | {"version": 9}
    subscriber = ScriptedSubscriber(snapshot(), later)
    viewer = Viewer(FLOOR, "image", read_only=True)
    assert watch(subscriber, viewer, timeout_s=1.0, frames=2, frame_s=0.0) == 2  # type: ignore[arg-type]
    assert viewer.view.version == 7
    assert watch(subscriber, viewer, timeout_s=1.0, frames=3, frame_s=0.0) == 3  # type: ignore[arg-type]
    assert viewer.view.version == 9
