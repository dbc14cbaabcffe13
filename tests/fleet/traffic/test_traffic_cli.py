"""``warehouse bench mapf``: the JSON contract, the plan log, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from fleet.traffic.check import validate_log
from warehouse.cli import main
from wms.layout.grid import passable_mask
from wms.layout.mapfile import read_map

MAP = "type octile\nheight 4\nwidth 6\nmap\n......\n.T..T.\n......\n......\n"
KEYS = {"agents", "steps", "completed", "throughput", "bound", "plan_ms_p50", "plan_ms_p95"}


@pytest.fixture
def small_map(tmp_path: Path) -> Path:
    path = tmp_path / "small.map"
    path.write_text(MAP)
    return path


def test_json_contract_and_log(small_map: Path, tmp_path: Path, capsys) -> None:
    """JSON has the contract keys for ours and the baseline, and the log validates."""
    log = tmp_path / "run.npz"
    argv = ["bench", "mapf", "--map", str(small_map), "--agents", "5", "--steps", "40"]
    code = main([*argv, "--baseline", "pibt", "--log", str(log), "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert KEYS | {"plan_ms_max", "conflicts", "baseline", "ratio"} <= set(out)
    assert set(out["baseline"]) >= KEYS and out["conflicts"] == 0
    data = np.load(log)
    assert data["positions"].shape == (41, 5, 2) and data["positions"].dtype == np.int32
    assert len(data["completions"]) == out["completed"]
    nav = passable_mask(read_map(small_map))
    assert validate_log(nav, data["positions"], data["goals"], data["completions"]) == []


def test_instance_round_robin(tmp_path: Path, capsys) -> None:
    """A Robot Runners instance runs in both action models with zero conflicts."""
    (tmp_path / "m.map").write_text(MAP)
    (tmp_path / "a.agents").write_text("3\n0\n5\n18\n")
    (tmp_path / "t.tasks").write_text("6\n23\n0\n12\n5\n2\n20\n")
    spec = {"mapFile": "m.map", "agentFile": "a.agents", "teamSize": 3, "taskFile": "t.tasks"}
    (tmp_path / "i.json").write_text(json.dumps(spec))
    for model in ("grid4", "rotation"):
        argv = ["bench", "mapf", "--instance", str(tmp_path / "i.json"), "--steps", "60"]
        assert main([*argv, "--model", model, "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["agents"] == 3 and out["conflicts"] == 0 and out["completed"] >= 3


@pytest.mark.parametrize(
    ("files", "extra", "message"),
    [
        ({"a.agents": "2\n0\n"}, [], "count line says 2"),
        ({"a.agents": "1\n7\n"}, [], "is blocked"),
        ({"t.tasks": "1\nx\n"}, [], "'x' is not an integer"),
        ({"t.tasks": "1\n999\n"}, [], "off the map"),
        ({}, ["--agents", "9"], "more than the instance's teamSize"),
    ],
)
def test_bad_instance_is_one_line_exit_2(tmp_path: Path, capsys, files, extra, message) -> None:
    """Malformed agent/task files and impossible requests: exit 2 with one clear line."""
    (tmp_path / "m.map").write_text(MAP)
    contents = {"a.agents": "1\n0\n", "t.tasks": "1\n3\n", **files}
    for name, text in contents.items():
        (tmp_path / name).write_text(text)
    spec = {"mapFile": "m.map", "agentFile": "a.agents", "teamSize": 1, "taskFile": "t.tasks"}
    (tmp_path / "i.json").write_text(json.dumps(spec))
    argv = ["bench", "mapf", "--instance", str(tmp_path / "i.json"), "--steps", "5", *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err


def test_bad_map_inputs_exit_2(small_map: Path, tmp_path: Path, capsys) -> None:
    """Too many robots, a malformed map, a bad instance JSON: exit 2, one line."""
    bad = tmp_path / "bad.map"
    bad.write_text("type octile\nheight 2\nwidth 2\nmap\n..\n")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    cases = [
        (["--map", str(small_map), "--agents", "99"], "only 22 free cells"),
        (["--map", str(bad), "--agents", "1"], "height 2"),
        (["--instance", str(broken)], "not a JSON instance"),
        (["--map", str(small_map), "--agents", "2", "--planner", "nope"], "unknown planner"),
    ]
    for args, message in cases:
        assert main(["bench", "mapf", "--steps", "3", *args]) == 2
        err = capsys.readouterr().err.strip()
        assert message in err and "\n" not in err, err


@pytest.mark.shared
def test_robot_runners_example_instance(shared_dir: Path) -> None:
    """The public Robot Runners example instance loads and runs conflict-free."""
    from fleet.traffic.evaluate import evaluate
    from fleet.traffic.instance import read_instance

    path = shared_dir / "benchmarks/robotrunners/2023-example-instances/warehouse.domain"
    problem = read_instance(path / "EI23-warehouse_small_50.json")
    import time

    result = evaluate(problem, "guided", 50, time.perf_counter)
    assert problem.agents == 50 and result.conflicts == 0 and result.completed > 0
