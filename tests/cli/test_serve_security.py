"""`warehouse serve` is CURVE by default, and everyone without the right key is refused.

One `warehouse serve` subprocess started with neither ``--keys`` nor ``--insecure``
(so on the default ``keys`` folder of its working directory) and a control
socket; each test attacks it one way and checks, through the fleet's own answers
and its exit summary, that nothing the attacker sent took effect.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import zmq

from fleet.bus.keys import DEFAULT_KEYS_DIR, generate_keys, robot_pair, viewer_pair
from fleet.bus.robot_client import ClientKeys, RobotClient
from fleet.control import ControlClient, ListRobots, Pause
from fleet.control.client import ControlUnavailable, operator_keys
from fleet.protocol import BatteryState, BusError, OrderProgress
from fleet.protocol.orders import state_message
from warehouse.cli import main
from warehouse.cli.commands.serve import INSECURE_WARNING
from warehouse.serve_process import ServeProcess

DEADLINE_S = 60.0


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working folder with the default keys folder and a stranger's keys beside it."""
    root = tmp_path_factory.mktemp("site")
    keys = root / DEFAULT_KEYS_DIR
    generate_keys(keys, ["acme/r1", "acme/r2"], ["wall"], operators=["alice"])
    stranger = root / "stranger"
    generate_keys(stranger, ["acme/r9"], [], operators=["mallory"])
    shutil.copy(keys / "server.key", stranger / "server.key")  # knows the server, not known
    return root


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[tuple[ServeProcess, str]]:
    served = ServeProcess("--ctl", "tcp://127.0.0.1:0", "--status-every", "0", cwd=site)
    try:
        found = served.wait_log(r"control socket on (tcp://[0-9.:]+)")
        assert found is not None, served.log()
        yield served, found.group(1)
    finally:
        served.kill()


@pytest.fixture
def context() -> Iterator[zmq.Context]:
    ctx = zmq.Context()
    yield ctx
    ctx.destroy(linger=0)


def _robot(served: ServeProcess, serial: str, keys: ClientKeys, context: zmq.Context):
    robot = RobotClient(served.endpoint, "acme", serial, keys=keys, context=context)
    robot.connect()
    return robot


def _say_state(robot: RobotClient) -> None:
    robot.send(
        state_message(robot.header("state"), OrderProgress(), battery=BatteryState(80, False))
    )


def _fleet_robots(site: Path, ctl: str) -> dict[str, dict]:
    """What the fleet manager says about its robots, asked as the real operator."""
    keys = operator_keys(site / DEFAULT_KEYS_DIR, "alice")
    with ControlClient(ctl, keys=keys, timeout_s=DEADLINE_S) as client:
        return {row["robot"]: row for row in client.call(ListRobots())}


def _wait(predicate, timeout_s: float = DEADLINE_S) -> bool:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_serve_without_keys_says_how_to_make_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No --keys, no --insecure and no keys folder: one line naming `warehouse keys generate`,
    exit 2, and no socket opened."""
    monkeypatch.chdir(tmp_path)
    assert main(["serve", "--bind", "tcp://127.0.0.1:0"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert "warehouse keys generate --dir keys" in lines[0] and "--insecure" in lines[0]
    (tmp_path / "empty").mkdir()
    assert main(["serve", "--keys", str(tmp_path / "empty")]) == 2
    assert "server.key_secret" in capsys.readouterr().err


def test_insecure_is_explicit_and_warned_about() -> None:
    """--insecure serves plain TCP and says so on stderr."""
    served = ServeProcess("--insecure", "--no-pub", "--status-every", "0")
    try:
        assert served.wait_log(r"warning: --insecure") is not None
    finally:
        summary = served.stop()
    assert INSECURE_WARNING.encode() in served.log()
    assert summary["robots"] == {}


def test_registered_robot_is_served_by_default(
    served: tuple[ServeProcess, str], site: Path, context: zmq.Context
) -> None:
    """The baseline the refusals are measured against: a keyed robot gets in."""
    server, ctl = served
    robot = _robot(
        server, "r1", ClientKeys.from_folder(site / DEFAULT_KEYS_DIR, "acme/r1"), context
    )
    assert _wait(lambda: _say_state(robot) or "acme/r1" in _fleet_robots(site, ctl))
    robot.close()


def test_robot_with_an_unknown_key_is_refused(
    served: tuple[ServeProcess, str], site: Path, context: zmq.Context
) -> None:
    """A keypair not in authorized/robots fails the handshake: the fleet never hears of it."""
    server, ctl = served
    robot = _robot(server, "r9", ClientKeys.from_folder(site / "stranger", "acme/r9"), context)
    _say_state(robot)
    assert robot.wait_event(lambda c: c.auth_failures > 0, timeout_s=DEADLINE_S)
    assert "acme/r9" not in _fleet_robots(site, ctl)
    robot.close(clean=False)


def test_forged_identity_is_refused(
    served: tuple[ServeProcess, str], site: Path, context: zmq.Context
) -> None:
    """r2's valid key claiming to be r1 (manufacturer/serialNumber) gets an identity error and
    changes nothing about r1."""
    server, ctl = served
    before = _fleet_robots(site, ctl).get("acme/r1")
    forger = _robot(
        server, "r1", ClientKeys.from_folder(site / DEFAULT_KEYS_DIR, "acme/r2"), context
    )
    _say_state(forger)
    answer = forger.receive(DEADLINE_S)
    assert isinstance(answer, BusError) and answer.reason == "identity"
    after = _fleet_robots(site, ctl)
    assert "acme/r2" not in after
    assert after.get("acme/r1", {}).get("battery") == (before or {}).get("battery")
    forger.close(clean=False)


def test_viewer_key_cannot_send_robot_messages(
    served: tuple[ServeProcess, str], site: Path, context: zmq.Context
) -> None:
    """A viewer's key is read-only: on the robot socket its handshake fails."""
    server, ctl = served
    keys_dir = site / DEFAULT_KEYS_DIR
    pair = ClientKeys.from_folder(keys_dir, "acme/r1")
    wall = viewer_pair(keys_dir, "wall")
    as_viewer = ClientKeys(wall.public, wall.secret, pair.server_public)
    intruder = _robot(server, "wall", as_viewer, context)
    _say_state(intruder)
    assert intruder.wait_event(lambda c: c.auth_failures > 0, timeout_s=DEADLINE_S)
    assert "acme/wall" not in _fleet_robots(site, ctl)
    intruder.close(clean=False)


def _ctl(site: Path, ctl: str, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "warehouse.cli", "ctl", "--connect", ctl, *argv],
        capture_output=True,
        text=True,
        cwd=site,
        timeout=120,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


@pytest.mark.parametrize(
    "credentials",
    [
        (),  # plain: the mechanisms differ
        ("--keys", "stranger", "--operator", "mallory"),  # knows the server, is not known
    ],
    ids=["no key", "unknown operator key"],
)
def test_operator_command_without_the_operator_key_is_refused(
    served: tuple[ServeProcess, str], site: Path, credentials: tuple[str, ...]
) -> None:
    """`warehouse ctl pause` without an authorised operator key gets no answer (exit 2, one
    line) and the fleet is not paused."""
    _, ctl = served
    refused = _ctl(site, ctl, *credentials, "--timeout", "2", "pause")
    assert refused.returncode == 2, refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert all(row["status"] != "paused" for row in _fleet_robots(site, ctl).values())


def test_viewer_and_robot_keys_are_not_operator_keys(
    served: tuple[ServeProcess, str], site: Path
) -> None:
    """A robot's or a viewer's authorised key is refused on the control socket too."""
    _, ctl = served
    keys_dir = site / DEFAULT_KEYS_DIR
    server_public = ClientKeys.from_folder(keys_dir, "acme/r1").server_public
    for pair in (robot_pair(keys_dir, "acme/r2"), viewer_pair(keys_dir, "wall")):
        keys = ClientKeys(pair.public, pair.secret, server_public)
        with (
            ControlClient(ctl, keys=keys, timeout_s=1.0) as client,
            pytest.raises(ControlUnavailable),
        ):
            client.call(Pause(None))
    assert all(row["status"] != "paused" for row in _fleet_robots(site, ctl).values())
