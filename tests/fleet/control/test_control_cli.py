"""`warehouse ctl` as operators and outside tools run it: JSON shapes, tables, exit codes."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from control_helpers import FakeFleet, free_endpoint

from fleet.bus.keys import generate_keys
from fleet.control.protocol import (
    ROBOT_COLUMNS,
    TASK_COLUMNS,
    AddTask,
    CancelTask,
    Drain,
    EStop,
    EStopRelease,
    Pause,
    Resume,
    SetPriority,
    Undrain,
)
from fleet.control.server import ControlServer
from fleet.manager.model import TaskKind
from warehouse.cli import build_parser, main
from warehouse.cli.commands.serve import make_control_server

REPO = Path(__file__).resolve().parents[3]


def ctl(
    server: ControlServer, capsys: pytest.CaptureFixture[str], *argv: str
) -> tuple[int, str, list[str]]:
    """Exit code, stdout and non-empty stderr lines of one in-process ``warehouse ctl``."""
    capsys.readouterr()
    try:
        code = main(["ctl", "--connect", server.endpoint, "--timeout", "30", *argv])
    except SystemExit as stop:  # argparse usage errors
        code = int(stop.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, [line for line in captured.err.splitlines() if line.strip()]


def ctl_json(server: ControlServer, capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code, out, err = ctl(server, capsys, *argv, "--json")
    assert (code, err) == (0, [])
    return json.loads(out)


def test_tasks_add_prints_the_task_id(
    server: ControlServer, fleet: FakeFleet, capsys: pytest.CaptureFixture[str]
) -> None:
    """``tasks add --kind move --to R,C --priority P --json`` prints ``{"task_id": ...}``."""
    answer = ctl_json(
        server, capsys, "tasks", "add", "--kind", "move", "--to", "3,4", "--priority", "5"
    )
    assert answer == {"task_id": "T1"}
    assert fleet.requests == [AddTask(TaskKind.MOVE, ((3, 4),), priority=5)]


def test_pick_route_stops_arrive_in_order(
    server: ControlServer, fleet: FakeFleet, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--stops R,C;R,C;...`` becomes the task's stops, in the order given."""
    ctl_json(server, capsys, "tasks", "add", "--kind", "pick_route", "--stops", "1,2;3,4;5,6")
    assert fleet.requests == [AddTask(TaskKind.PICK_ROUTE, ((1, 2), (3, 4), (5, 6)))]


def test_lists_have_the_contract_columns(
    server: ControlServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """``tasks list --json`` and ``robots list --json`` print lists of objects with their keys."""
    ctl_json(server, capsys, "tasks", "add", "--kind", "move", "--to", "1,1")
    tasks = ctl_json(server, capsys, "tasks", "list")
    robots = ctl_json(server, capsys, "robots", "list")
    assert len(tasks) == 1 and set(TASK_COLUMNS) <= set(tasks[0])
    assert len(robots) == 2 and all(set(ROBOT_COLUMNS) <= set(r) for r in robots)
    assert robots[1]["cell"] == [1, 2]


@pytest.mark.parametrize(
    ("argv", "request_"),
    [
        (["tasks", "cancel", "T1"], CancelTask("T1")),
        (["tasks", "priority", "T1", "-4"], SetPriority("T1", -4)),
        (["pause", "acme/r1"], Pause("acme/r1")),
        (["pause", "--all"], Pause(None)),
        (["resume", "--all"], Resume(None)),
        (["resume", "acme/r2"], Resume("acme/r2")),
        (["estop"], EStop()),
        (["estop", "--release"], EStopRelease()),
        (["drain", "acme/r2"], Drain("acme/r2")),
        (["undrain", "acme/r2"], Undrain("acme/r2")),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else "",
)
def test_each_command_sends_its_typed_request(
    server: ControlServer,
    fleet: FakeFleet,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    request_: Any,
) -> None:
    """Every command line reaches the handler as exactly the request it names."""
    ctl_json(server, capsys, "tasks", "add", "--kind", "move", "--to", "1,1")
    answer = ctl_json(server, capsys, *argv)
    assert fleet.requests[-1] == request_
    assert isinstance(answer, dict)


def test_tables_without_json(server: ControlServer, capsys: pytest.CaptureFixture[str]) -> None:
    """Without --json the lists are aligned tables headed by the contract columns."""
    ctl(server, capsys, "tasks", "add", "--kind", "pick_route", "--stops", "1,2;3,4")
    code, out, _ = ctl(server, capsys, "tasks", "list")
    header, row = out.splitlines()
    assert code == 0 and header.split()[:4] == list(TASK_COLUMNS)
    assert row.split()[:4] == ["T1", "pick_route", "queued", "-"] and "1,2;3,4" in row
    code, out, _ = ctl(server, capsys, "robots", "list")
    assert out.splitlines()[0].split()[:5] == list(ROBOT_COLUMNS)
    assert re.search(r"acme/r2\s+agv\s+busy\s+40\s+1,2", out)


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["pause", "acme/r9"], "unknown robot 'acme/r9'"),
        (["drain", "acme/r9"], "unknown robot 'acme/r9'"),
        (["tasks", "cancel", "T404"], "unknown task 'T404'"),
        (["tasks", "priority", "T404", "3"], "unknown task 'T404'"),
    ],
)
def test_refused_command_is_one_line_and_exit_2(
    server: ControlServer, capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str
) -> None:
    """A command the fleet refuses prints the fleet's reason on one line and exits 2."""
    code, out, err = ctl(server, capsys, *argv)
    assert (code, out) == (2, "")
    assert len(err) == 1 and fragment in err[0]


def test_curve_operator_through_the_cli(
    tmp_path: Path, fleet: FakeFleet, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--keys DIR --operator NAME`` talks CURVE; an operator with no key file is one line."""
    assert main(["keys", "generate", "--dir", str(tmp_path), "--operator", "alice"]) == 0
    assert (tmp_path / "authorized" / "operators" / "alice.key").exists()
    with ControlServer("tcp://127.0.0.1:0", keys_dir=tmp_path).start(fleet) as secure:
        keys = ["--keys", str(tmp_path)]
        robots = ctl_json(secure, capsys, *keys, "--operator", "alice", "robots", "list")
        code, _, err = ctl(secure, capsys, *keys, "--operator", "bob", "robots", "list")
    assert len(robots) == 2
    assert code == 2 and len(err) == 1 and "bob.key_secret" in err[0]


def _run_cli(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "warehouse.cli", *argv],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )


def test_no_server_is_one_line_exit_2_in_a_subprocess() -> None:
    """Against nothing, ``warehouse ctl`` gives up after its timeout: one stderr line, exit 2."""
    with free_endpoint() as nobody:
        result = _run_cli("ctl", "--connect", nobody, "robots", "list", "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert "no answer within 2 s" in line


def test_serve_ctl_answers_and_refuses_with_the_fleet_manager(tmp_path: Path) -> None:
    """``warehouse serve --ctl`` answers operator commands from the fleet manager, and a
    command for an unknown task is one refused line, exit 2."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "warehouse.cli",
            "serve",
            "--insecure",
            "--bind",
            "tcp://127.0.0.1:0",
            "--ctl",
            "tcp://127.0.0.1:0",
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stderr is not None
        match = None
        for _ in range(50):
            line = process.stderr.readline()
            match = re.search(r"control socket on (tcp://[0-9.:]+)", line)
            if match or not line:
                break
        assert match is not None
        stopped = _run_cli("ctl", "--connect", match.group(1), "--timeout", "30", "estop")
        refused = _run_cli(
            "ctl", "--connect", match.group(1), "--timeout", "30", "tasks", "cancel", "nope"
        )
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert stopped.returncode == 0, stopped.stderr
    assert refused.returncode == 2
    assert "nope" in refused.stderr and len(refused.stderr.splitlines()) == 1
    assert process.returncode == 0


def test_make_control_server_is_none_without_ctl() -> None:
    """No ``--ctl``, no control socket (the lead wires the manager to a real one)."""
    args = build_parser().parse_args(["serve", "--insecure"])
    assert make_control_server(args) is None


def test_keys_generate_operator_is_validated_first(tmp_path: Path) -> None:
    """A bad operator name is refused before any file is written."""
    assert main(["keys", "generate", "--dir", str(tmp_path / "k"), "--operator", "a b"]) == 2
    assert not (tmp_path / "k").exists()


def test_keys_folder_can_hold_robots_viewers_and_operators(tmp_path: Path) -> None:
    """One folder serves all three domains; each key lands only in its own authorised list."""
    generate_keys(tmp_path, ["acme/r1"], ["wall"], operators=["alice"])
    listed = {p.parent.name: p.name for p in (tmp_path / "authorized").glob("*/*.key")}
    assert listed == {"robots": "acme__r1.key", "viewers": "wall.key", "operators": "alice.key"}
