"""Viewer controls: inspect on click, floor and clock requests to the owner, read-only silence."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from viewer_helpers import FLOOR, WAITING, snapshot

from sim.viewer.controls import (
    READ_ONLY_NOTE,
    SPEEDS,
    BlockCell,
    BreakRobot,
    Button,
    Click,
    Key,
    SetPaused,
    SetSpeed,
    ViewerRequest,
)
from sim.viewer.live import Viewer

REPO = Path(__file__).resolve().parents[2]


def viewer_with_sink(read_only: bool = False) -> tuple[Viewer, list[ViewerRequest]]:
    """An image-mode viewer showing the helper snapshot, recording what it requests."""
    requests: list[ViewerRequest] = []
    viewer = Viewer(FLOOR, "image", on_request=requests.append, read_only=read_only)
    viewer.update(snapshot())
    return viewer, requests


def click(viewer: Viewer, cell: tuple[int, int], **kwargs: object) -> None:
    x, y = viewer.ui.viewport.centre(cell)
    viewer.handle(Click(x, y, **kwargs))  # type: ignore[arg-type]


def test_clicking_a_robot_selects_it_and_the_panel_explains_its_wait() -> None:
    """A left click on a robot inspects it; a click on an empty cell clears the selection."""
    viewer, requests = viewer_with_sink()
    click(viewer, (11, 5))
    assert viewer.ui.selected == "acme/r2"
    assert dict(viewer.view.inspect(viewer.ui.selected).rows)["waiting"] == WAITING
    viewer.frame()  # the panel with the inspection draws
    click(viewer, (2, 2))
    assert viewer.ui.selected is None
    assert requests == []


def test_right_click_requests_blocking_or_unblocking_the_cell() -> None:
    """A free cell is requested blocked, an already blocked one unblocked."""
    viewer, requests = viewer_with_sink()
    click(viewer, (2, 2), button=Button.RIGHT)
    click(viewer, (11, 6), button=Button.RIGHT)
    assert requests == [BlockCell((2, 2), True), BlockCell((11, 6), False)]
    assert viewer.ui.message == "requested: unblock (11, 6)"


def test_shift_click_on_a_robot_requests_its_breakdown() -> None:
    """Shift + left click breaks the robot under it; on an empty cell it does nothing."""
    viewer, requests = viewer_with_sink()
    click(viewer, (21, 30), shift=True)
    click(viewer, (2, 2), shift=True)
    assert requests == [BreakRobot("acme/r4")]


def test_read_only_viewer_emits_no_request_at_all() -> None:
    """Attached read-only, block, break, pause and speed send nothing, and the panel says so."""
    viewer, requests = viewer_with_sink(read_only=True)
    click(viewer, (2, 2), button=Button.RIGHT)
    click(viewer, (21, 30), shift=True)
    for key in (Key.PAUSE, Key.FASTER, Key.SLOWER):
        viewer.handle(key)
    assert requests == []
    assert viewer.ui.read_only
    assert viewer.ui.message == READ_ONLY_NOTE


def test_a_paused_read_only_viewer_keeps_its_picture() -> None:
    """While paused, new snapshots are not shown; after resuming they are."""
    viewer, _ = viewer_with_sink(read_only=True)
    viewer.handle(Key.PAUSE)
    newer = snapshot() | {"version": 8}
    viewer.update(newer)
    assert viewer.view.version == 7
    viewer.handle(Key.PAUSE)
    viewer.update(newer)
    assert viewer.view.version == 8


def test_pause_and_speed_go_to_the_owner() -> None:
    """Space toggles pause, +/- step through the speeds and stop at the ends."""
    viewer, requests = viewer_with_sink()
    viewer.handle(Key.PAUSE)
    viewer.handle(Key.PAUSE)
    viewer.handle(Key.FASTER)
    viewer.handle(Key.SLOWER)
    assert requests == [SetPaused(True), SetPaused(False), SetSpeed(2.0), SetSpeed(1.0)]
    for _ in range(len(SPEEDS) + 2):
        viewer.handle(Key.SLOWER)
    assert viewer.speed == SPEEDS[0]
    assert not viewer.paused


def test_zoom_keeps_clicks_on_the_cell_drawn_there() -> None:
    """After zooming in the frame is larger and a click at the robot's new centre still hits it."""
    viewer, _ = viewer_with_sink()
    before = viewer.ui.viewport
    viewer.handle(Key.ZOOM_OUT)
    assert viewer.ui.viewport.scale < before.scale
    assert viewer.frame().get_size() == viewer.ui.viewport.size
    click(viewer, (21, 30))
    assert viewer.ui.selected == "acme/r4"


def test_clicks_on_the_panel_and_legend_are_ignored() -> None:
    """Nothing is selected or requested for a click outside the floor."""
    viewer, requests = viewer_with_sink()
    left = viewer.ui.viewport.panel_left
    viewer.handle(Click(left + 10, 10, Button.RIGHT))
    viewer.handle(Click(5, viewer.ui.viewport.floor_size[1] + 5, Button.RIGHT))
    assert requests == [] and viewer.ui.selected is None


def test_window_mode_turns_pygame_events_into_controls() -> None:
    """In a (dummy-driver) window, a posted click selects a robot and q stops the viewer."""
    code = (
        "import os, sys\n"
        "os.environ['SDL_VIDEODRIVER'] = 'dummy'\n"
        "sys.path.insert(0, 'tests/sim')\n"
        "from viewer_helpers import FLOOR, snapshot\n"
        "from sim.viewer.live import Viewer\n"
        "viewer = Viewer(FLOOR, 'window')\n"
        "assert viewer.update(snapshot())\n"
        "import pygame\n"
        "pos = viewer.ui.viewport.centre((11, 5))\n"
        "pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=pos))\n"
        "assert viewer.update()\n"
        "assert viewer.ui.selected == 'acme/r2', viewer.ui\n"
        "pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_q, mod=0))\n"
        "assert not viewer.update()\n"
        "assert viewer.frames == 3\n"
        "viewer.close()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert result.returncode == 0, result.stderr
