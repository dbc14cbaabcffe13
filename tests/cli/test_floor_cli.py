"""``warehouse floor`` and ``warehouse demo`` as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO, run_cli

GOOD_MAP = "type octile\nheight 3\nwidth 4\nmap\n....\n.TT.\n....\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_info_json_on_default_config() -> None:
    """floor info --json reports the contract keys for the embedded default floor."""
    result = run_cli("floor", "info", "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    for key in ("width", "height", "free_cells", "locations", "stations", "chargers", "zones"):
        assert key in info
    assert info["stations"] >= 1 and info["locations"] > 0
    assert info["mean_distance"] > 0


def test_info_on_a_map(tmp_path: Path) -> None:
    """floor info --map reads a plain .map file."""
    result = run_cli("floor", "info", "--map", str(write(tmp_path / "m.map", GOOD_MAP)), "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["free_cells"] == 10 and info["locations"] == 6


def test_generate_writes_map_and_config(tmp_path: Path) -> None:
    """floor generate writes a .map plus a config that loads back with the same points."""
    out, cfg = tmp_path / "g.map", tmp_path / "g.toml"
    result = run_cli(
        "floor",
        "generate",
        "--blocks-x",
        "2",
        "--out",
        str(out),
        "--config-out",
        str(cfg),
        "--json",
    )
    assert result.returncode == 0, result.stderr
    generated = json.loads(result.stdout)
    info = json.loads(run_cli("floor", "info", "--config", str(cfg), "--json").stdout)
    assert info["locations"] == generated["locations"]
    assert info["stations"] == 4


def test_render_writes_png_headless(tmp_path: Path) -> None:
    """floor render draws a PNG with no display."""
    out = tmp_path / "floor.png"
    result = run_cli("floor", "render", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_info_does_not_import_pygame() -> None:
    """Commands that do not draw never import pygame (its start-up is slow)."""
    code = (
        "import sys, io, contextlib\n"
        "from warehouse.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['floor', 'info', '--json'])\n"
        "assert 'pygame' not in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("config", "fragments"),
    [
        ("[floor]\n[floor.layout]\nrack_lenght = 3\n", ("floor.layout.rack_lenght", "unknown key")),
        ("[flor]\n", ("flor", "unknown section")),
        (
            "[floor]\n[floor.layout]\n[[floor.zones]]\nname='z'\nkind='pick'\n"
            "polygon=[[0,0],[500,0],[500,2],[0,2]]\n",
            ("floor.zones[0]", "outside the floor"),
        ),
        (
            "[floor]\n[floor.map]\nfile='m.map'\nstations=[[1,1]]\n",
            ("floor.map.stations[0]", "blocked cell"),
        ),
        (
            "[floor]\n[floor.map]\nfile='m.map'\nchargers=[[9,9]]\n",
            ("floor.map.chargers[0]", "outside the map"),
        ),
        ("[floor]\n[floor.map]\nfile='missing.map'\n", ("missing.map", "file not found")),
        ("[floor\n", ("not valid TOML",)),
        ("[floor]\n[floor.layout]\nblocks_x = 'two'\n", ("blocks_x", "integer")),
    ],
)
def test_bad_config_is_one_line_exit_2(tmp_path: Path, config: str, fragments: tuple[str]) -> None:
    """Bad configs give one line naming the file and the problem, exit 2, no traceback."""
    write(tmp_path / "m.map", GOOD_MAP)
    path = write(tmp_path / "bad.toml", config)
    result = run_cli("floor", "info", "--config", str(path))
    assert_one_line_error(result, "bad.toml", *fragments)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("type octile\nheight 2\nwidth 4\nmap\n....\n...\n", "width 4"),
        ("type octile\nheight 1\nwidth 4\nmap\n..?.\n", "unknown terrain"),
        ("version 1\nheight 1\nwidth 1\nmap\n.\n", "bad header"),
    ],
)
def test_bad_map_is_one_line_exit_2(tmp_path: Path, text: str, fragment: str) -> None:
    """Malformed .map files give one line naming the file and the problem, exit 2."""
    path = write(tmp_path / "bad.map", text)
    assert_one_line_error(run_cli("floor", "info", "--map", str(path)), "bad.map", fragment)


def test_missing_map_file(tmp_path: Path) -> None:
    """A missing .map is one line and exit 2."""
    result = run_cli("floor", "render", "--map", str(tmp_path / "gone.map"), "--out", "x.png")
    assert_one_line_error(result, "gone.map", "file not found")
