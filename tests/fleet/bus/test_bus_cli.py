"""`warehouse keys generate` and `warehouse serve` as a user runs them."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import zmq
from bus_helpers import make_state

from fleet.bus.robot_client import ClientKeys, RobotClient
from warehouse.cli import main
from warehouse.serve_process import ServeProcess


def test_keys_generate_writes_a_usable_folder(tmp_path: Path, capsys) -> None:
    """The folder holds the server pair and a registered pair per robot and viewer."""
    code = main(
        [
            "keys",
            "generate",
            "--dir",
            str(tmp_path),
            "--robot",
            "acme/r1",
            "--robots",
            "2",
            "--viewer",
            "wall",
            "--json",
        ]
    )
    assert code == 0
    created = json.loads(capsys.readouterr().out)["created"]
    assert len(created) == 5
    for name in ("acme__r1", "sim__r000", "sim__r001"):
        assert (tmp_path / "robots" / f"{name}.key_secret").exists()
        assert (tmp_path / "authorized" / "robots" / f"{name}.key").exists()
        assert not (tmp_path / "authorized" / "robots" / f"{name}.key_secret").exists()
    assert ClientKeys.from_folder(tmp_path, "acme/r1").server_public


def test_keys_generate_rejects_a_bad_identity(tmp_path: Path, capsys) -> None:
    """A robot id without manufacturer/serialNumber is a one-line error, exit 2."""
    assert main(["keys", "generate", "--dir", str(tmp_path), "--robot", "r1"]) == 2
    assert "manufacturer/serialNumber" in capsys.readouterr().err


def test_serve_rejects_a_bad_bind(capsys) -> None:
    """An endpoint that cannot be bound is a one-line error."""
    assert main(["serve", "--bind", "tcp://256.0.0.1:1", "--insecure"]) == 2
    assert "cannot bind" in capsys.readouterr().err


def test_serve_runs_until_sigterm(tmp_path: Path) -> None:
    """`warehouse serve` accepts a CURVE robot and exits cleanly on SIGTERM with a summary."""
    assert main(["keys", "generate", "--dir", str(tmp_path), "--robot", "acme/r1"]) == 0
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "warehouse.cli",
            "serve",
            "--bind",
            "tcp://127.0.0.1:0",
            "--keys",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        line = process.stderr.readline()
        endpoint = re.search(r"on (tcp://[0-9.:]+)", line).group(1)
        context = zmq.Context()
        client = RobotClient(
            endpoint,
            "acme",
            "r1",
            keys=ClientKeys.from_folder(tmp_path, "acme/r1"),
            context=context,
        )
        client.connect()
        deadline = time.monotonic() + 60
        while "is ONLINE" not in line and time.monotonic() < deadline:
            client.send(make_state(client))
            line = process.stderr.readline()
        client.close()
        context.destroy(linger=0)
        while "is OFFLINE" not in line and time.monotonic() < deadline + 60:
            line = process.stderr.readline()  # the goodbye is in before SIGTERM
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    summary = json.loads(out)
    assert summary["robots"] == {"acme/r1": "OFFLINE"}
    assert summary["counters"]["accepted"] >= 2


def test_bench_bus_reports_the_contract_fields(capsys) -> None:
    """`warehouse bench bus --json` prints msgs_per_s, rtt_ms_p50, rtt_ms_p99 and lost."""
    code = main(["bench", "bus", "--robots", "3", "--rate", "5", "--seconds", "1", "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["lost"] == 0 and result["sent"] == result["received"] > 0
    assert result["msgs_per_s"] > 0
    assert result["acks"] > 0 and 0 < result["rtt_ms_p50"] <= result["rtt_ms_p99"]


def test_serve_rejects_an_unknown_bus_key(tmp_path: Path, capsys) -> None:
    """A typo in the config's [bus] section is a one-line error naming the key, exit 2."""
    from warehouse.config import DEFAULT_CONFIG

    config = tmp_path / "bus.toml"
    text = DEFAULT_CONFIG.read_text()
    assert "[bus]\n" in text  # the default config has a [bus] section: add the typo to it
    config.write_text(text.replace("[bus]\n", "[bus]\nheartbeat_intervall_s = 1.0\n", 1))
    assert main(["serve", "--config", str(config), "--insecure"]) == 2
    err = capsys.readouterr().err
    assert "bus.heartbeat_intervall_s" in err and err.count("\n") == 1


def test_serve_publishes_for_viewers_by_default() -> None:
    """Without --pub the PUB and snapshot sockets sit beside --bind; --no-pub turns them off."""
    from fleet.bus.server import next_endpoint, snapshot_default

    served = ServeProcess("--insecure")
    try:
        assert served.pub and served.snapshot
    finally:
        served.kill()
    quiet = ServeProcess("--insecure", "--no-pub")
    try:
        assert quiet.pub is None
    finally:
        quiet.kill()
    assert next_endpoint("tcp://127.0.0.1:5555", ".pub") == "tcp://127.0.0.1:5556"
    assert next_endpoint("ipc:///run/fleet", ".pub") == "ipc:///run/fleet.pub"
    assert snapshot_default("ipc:///run/fleet.pub") == "ipc:///run/fleet.pub.snapshot"
