"""The supervisor viewer: view model from a fleet snapshot, headless screenshots, lazy pygame."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from viewer_helpers import FLOOR, WAITING, snapshot

from sim.record import RobotActivity
from sim.viewer.floor_render import RACK_COLOUR
from sim.viewer.live import Viewer
from sim.viewer.view_model import ViewExtras, fleet_view

REPO = Path(__file__).resolve().parents[2]


def test_view_model_reads_every_part_of_the_snapshot() -> None:
    """Robots, their states, bases, goals, tasks, reservations and blocked cells come through."""
    view = fleet_view(snapshot(), FLOOR.shape)
    assert (view.version, view.time_s, view.skipped) == (7, 42.0, 0)
    states = {r.robot: r.state for r in view.robots}
    assert states == {
        "acme/r1": RobotActivity.MOVING,
        "acme/r2": RobotActivity.WAITING,
        "acme/r3": RobotActivity.CHARGING,
        "acme/r4": RobotActivity.ERROR,
    }
    r1 = view.robot("acme/r1")
    assert r1 is not None
    assert r1.base == ((1, 5), (1, 6), (1, 7))
    assert (r1.goal, r1.heading, r1.label) == ((1, 20), (0, 1), "r1")
    assert view.robot_at((11, 5)) == view.robot("acme/r2")
    assert view.robot_at((0, 0)) is None
    assert view.tasks["T1"].stops == ((1, 20), (5, 20))
    assert view.reservations == {(1, 6): "acme/r1", (1, 7): "acme/r1"}
    assert view.blocked == {(11, 6)}


def test_a_robot_on_an_active_task_counts_as_carrying() -> None:
    """Without the simulator's activity, an active task (first stop reached) means carrying."""
    data = snapshot()
    data["tasks"][0]["status"] = "active"
    robot = fleet_view(data, FLOOR.shape).robot("acme/r1")
    assert robot is not None and robot.state is RobotActivity.CARRYING


def test_malformed_and_off_floor_entries_are_skipped_not_fatal() -> None:
    """A bad robot, cell, reservation or blocked entry is left out and counted."""
    data = snapshot()
    data["robots"].append({"kind": "amr"})
    data["robots"][3]["cell"] = [9999, 1]
    data["reservations"]["x,y"] = "acme/r1"
    data["blocked"].append([1, "a"])
    view = fleet_view(data, FLOOR.shape)
    assert view.skipped == 3
    assert len(view.robots) == 4
    assert view.robot("acme/r4") is not None and view.robot("acme/r4").cell is None
    assert fleet_view({"robots": "nonsense"}, FLOOR.shape).robots == ()
    assert fleet_view(None, FLOOR.shape).robots == ()


def test_simulator_extras_override_states_and_scale_the_heatmap() -> None:
    """Activity replaces the guessed state; the heatmap is scaled to 0..1; unknown KPIs dropped."""
    heat = np.zeros(FLOOR.shape)
    heat[3, 4] = 8.0
    heat[3, 5] = 2.0
    extras = ViewExtras(
        activity={"acme/r1": RobotActivity.WORKING},
        heatmap=heat,
        kpis={"orders_per_hour": 12.5, "bogus": 1.0, "utilisation": float("nan")},
    )
    view = fleet_view(snapshot(), FLOOR.shape, extras)
    assert view.robot("acme/r1").state is RobotActivity.WORKING
    assert view.heatmap is not None
    assert (view.heatmap[3, 4], view.heatmap[3, 5], view.heatmap.max()) == (1.0, 0.25, 1.0)
    assert view.kpis == {"orders_per_hour": 12.5}
    wrong_shape = ViewExtras(heatmap=np.ones((2, 2)))
    assert fleet_view(snapshot(), FLOOR.shape, wrong_shape).heatmap is None


def test_inspection_shows_task_battery_and_why_it_waits() -> None:
    """The panel rows for a robot carry the fleet's waiting text and its task's progress."""
    view = fleet_view(snapshot(), FLOOR.shape)
    waiting = dict(view.inspect("acme/r2").rows)
    assert waiting["waiting"] == WAITING
    assert waiting["battery"] == "55 %"
    working = dict(view.inspect("acme/r1").rows)
    assert working["task"] == "T1"
    assert working["stop"] == "1 of 2"
    assert view.inspect("acme/nobody") is None
    no_stops = snapshot()
    no_stops["tasks"][0]["stops"] = []
    assert "stop" not in dict(fleet_view(no_stops, FLOOR.shape).inspect("acme/r1").rows)


def pixel(surface: object, cell: tuple[int, int], viewer: Viewer) -> tuple[int, int, int]:
    return tuple(surface.get_at(viewer.ui.viewport.centre(cell)))[:3]  # type: ignore[attr-defined]


def test_headless_screenshot_draws_the_floor_and_the_robots(tmp_path: Path) -> None:
    """The PNG is not blank: racks, robot colours at their cells, blocked cell, panel text."""
    from sim.viewer.renderer import BLOCKED_COLOUR, STATE_COLOURS

    viewer = Viewer(FLOOR, "image")
    viewer.update(snapshot())
    path = viewer.screenshot(tmp_path / "shots" / "floor.png")
    pygame = sys.modules["pygame"]
    image = pygame.image.load(str(path))
    assert image.get_size() == viewer.ui.viewport.size
    pixels = pygame.surfarray.array3d(image).reshape(-1, 3)
    assert len(np.unique(pixels, axis=0)) > 20
    assert (pixels == RACK_COLOUR).all(axis=1).any()
    assert pixel(image, (1, 5), viewer) == STATE_COLOURS[RobotActivity.MOVING]
    assert pixel(image, (11, 5), viewer) == STATE_COLOURS[RobotActivity.WAITING]
    assert pixel(image, (31, 1), viewer) == STATE_COLOURS[RobotActivity.CHARGING]
    assert pixel(image, (21, 30), viewer) == STATE_COLOURS[RobotActivity.ERROR]
    corner = viewer.ui.viewport.centre((11, 6))
    assert tuple(image.get_at((corner[0] - 3, corner[1] + 3)))[:3] == BLOCKED_COLOUR
    panel = pygame.surfarray.array3d(image)[viewer.ui.viewport.panel_left + 5 :]
    assert len(np.unique(panel.reshape(-1, 3), axis=0)) > 5, "the KPI panel has text"


def test_heatmap_overlay_is_drawn_only_when_toggled_on() -> None:
    """A hot cell changes colour with the heatmap on and is the plain floor with it off."""
    from sim.viewer.controls import Key

    heat = np.zeros(FLOOR.shape)
    heat[5, 1] = 1.0
    viewer = Viewer(FLOOR, "image")
    viewer.update(snapshot(), ViewExtras(heatmap=heat))
    off = pixel(viewer.frame(), (5, 1), viewer)
    viewer.handle(Key.HEATMAP)
    on = pixel(viewer.frame(), (5, 1), viewer)
    assert off != on
    assert on[0] > on[2], "hot cells are tinted red"


def test_a_screenshot_from_a_viewer_that_draws_nothing_is_refused() -> None:
    """Render mode none has no picture to save."""
    viewer = Viewer(FLOOR, "none")
    assert viewer.update(snapshot()) is True
    with pytest.raises(ValueError, match="none"):
        viewer.screenshot("never.png")


def test_pygame_is_never_imported_without_drawing() -> None:
    """Mode none, and image mode until a frame is asked for, never import pygame."""
    code = (
        "import sys\n"
        "sys.path.insert(0, 'tests/sim')\n"
        "from viewer_helpers import FLOOR, snapshot\n"
        "from sim.viewer.live import Viewer\n"
        "from sim.viewer.view_model import ViewExtras\n"
        "for mode in ('none', 'image'):\n"
        "    viewer = Viewer(FLOOR, mode, on_request=print)\n"
        "    viewer.update(snapshot(), ViewExtras())\n"
        "    viewer.close()\n"
        "assert 'pygame' not in sys.modules, 'pygame imported'\n"
        "viewer.frame()\n"
        "import pygame\n"
        "assert pygame.font.get_init(), 'drawing initialises fonts'\n"
        "assert not pygame.display.get_init(), 'no display for an image'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_bench_viewer_reports_frames_per_second(capsys: pytest.CaptureFixture[str]) -> None:
    """``warehouse bench viewer --json`` draws the synthetic fleet and prints ``fps``."""
    import json

    from warehouse.cli import main

    assert main(["bench", "viewer", "--robots", "30", "--frames", "2", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["robots"] == 30
    assert result["fps"] > 0 and result["fps_draw_only"] > 0
