"""`warehouse demo`: the whole system for a day over real ZeroMQ, as the issue's contract says."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO

CONTRACT = (
    "orders_total",
    "orders_completed",
    "lines_short",
    "safety_violations",
    "orders_per_hour",
    "cycle_time_s_p50",
    "cycle_time_s_p90",
    "utilisation",
    "energy_kwh",
)


def demo(out: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    done = subprocess.run(
        [sys.executable, "-m", "warehouse.cli", "demo", "--out", str(out), "--json", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
    )
    return done, json.loads(done.stdout) if done.stdout.strip() else {}


def test_thirty_robots_two_hundred_orders_complete_safely(tmp_path: Path) -> None:
    """30 robots, 200 orders: every order completed, no safety violation, a balanced ledger
    whose confirmed picks are exactly the lines the robots finished."""
    done, report = demo(tmp_path, "--robots", "30", "--orders", "200")
    assert done.returncode == 0, done.stderr
    assert set(CONTRACT) <= set(report)
    assert report["orders_completed"] == report["orders_total"] == 200
    assert report["safety_violations"] == 0
    ledger = report["ledger"]
    assert ledger["balanced"]
    assert ledger["lines_booked"] + ledger["lines_short"] == report["wms"]["lines"]
    with sqlite3.connect(tmp_path / "ledger.db") as conn:
        picks = conn.execute(
            "SELECT COUNT(*) FROM movements WHERE kind = 'pick' AND ref LIKE 'confirm:%'"
        ).fetchone()[0]
    assert picks == ledger["lines_booked"]
    with sqlite3.connect(tmp_path / "ledger.db") as conn:
        moves = conn.execute(
            "SELECT COUNT(*) FROM movements WHERE kind = 'move' AND ref LIKE 'confirm:%'"
        ).fetchone()[0]
    assert moves == ledger["replenishments_by_robot"] > 0  # top-ups driven by robots
    assert (tmp_path / "report.json").is_file() and (tmp_path / "throughput.png").is_file()


def test_one_seed_gives_identical_kpis(tmp_path: Path) -> None:
    """Two lockstep runs of one seed agree on everything but the wall-clock fields."""
    first, a = demo(tmp_path / "a", "--robots", "8", "--orders", "40", "--seed", "3")
    second, b = demo(tmp_path / "b", "--robots", "8", "--orders", "40", "--seed", "3")
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr

    def seeded(report: dict) -> dict:
        return {k: v for k, v in report.items() if not k.endswith("wall_s") and k != "speedup"}

    assert seeded(a) == seeded(b)


def test_breakdown_and_blocked_aisle_still_complete(tmp_path: Path) -> None:
    """A robot breaking down and an aisle blocked mid-run: every order still completes."""
    scenario = tmp_path / "faults.toml"
    scenario.write_text(
        f"""
[scenario]
config = "{REPO / "configs" / "default.toml"}"
seed = 2
max_sim_s = 7200
[robots]
amr = 8
[orders]
count = 60
[[faults]]
at_s = 20
kind = "breakdown"
robot = 1
duration_s = 60
[[faults]]
at_s = 30
kind = "block"
polygon = [[3, 25], [13, 25], [13, 26], [3, 26]]
duration_s = 120
[[faults]]
at_s = 40
kind = "comm_loss"
robot = 2
duration_s = 20
"""
    )
    done, report = demo(tmp_path / "run", "--scenario", str(scenario))
    assert done.returncode == 0, done.stderr
    assert report["orders_completed"] == report["orders_total"] == 60
    assert report["safety_violations"] == 0


def test_demo_without_a_view_never_imports_pygame(tmp_path: Path) -> None:
    """No --view, no --screenshot: pygame is never imported (its start-up is slow)."""
    code = (
        "import sys, io, contextlib\n"
        "from warehouse.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main(['demo', '--out', {str(tmp_path)!r}, '--robots', '3', '--orders', '10'])\n"
        "print('pygame' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=600
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--robots", "5000"], "do not fit"),
        (["--planner", "nope"], "unknown planner"),
        (["--scenario", "/nonexistent.toml"], "nonexistent.toml"),
    ],
)
def test_refused_before_any_work(tmp_path: Path, args: list[str], message: str) -> None:
    """A fleet larger than the floor, an unknown planner or a missing scenario: one line, 2."""
    done, _ = demo(tmp_path, *args)
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_headless_screenshot_has_the_floor_drawn(tmp_path: Path) -> None:
    """--screenshot works headless and the picture is a drawn floor, not a blank frame."""
    import os

    import pygame

    shot = tmp_path / "shot.png"
    done = subprocess.run(
        [sys.executable, "-m", "warehouse.cli", "demo", "--out", str(tmp_path / "run"),
         "--robots", "4", "--orders", "12", "--screenshot", str(shot)],
        capture_output=True, text=True, cwd=REPO, timeout=600,
        env={**os.environ, "SDL_VIDEODRIVER": "dummy"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    image = pygame.image.load(str(shot))
    width, height = image.get_size()
    colours = {
        tuple(image.get_at((x, y)))[:3] for x in range(0, width, 7) for y in range(0, height, 7)
    }
    assert len(colours) > 8  # racks, aisles, stations, chargers, robots, text
