"""Issue 8, finding 5: key folders, reloads and revocation."""

from __future__ import annotations

import os
import signal
import stat
import threading
from pathlib import Path

import pytest
from bus_helpers import FAST, LOOPBACK, Recorder, make_state, wait_until

from fleet.bus.keys import generate_keys
from fleet.bus.robot_client import ClientKeys, RobotClient
from fleet.bus.server import BusServer
from fleet.protocol import BusError, ConnectionState, State
from warehouse.serve_process import ServeProcess


def _states(recorder: Recorder, robot: str) -> list[State]:
    return [m for r, m in recorder.of("message") if r == robot and isinstance(m, State)]


def test_malformed_key_file_and_sighup_keep_the_server_serving(tmp_path: Path, context) -> None:
    """A file that is not a certificate in authorized/robots is skipped with a logged error."""
    generate_keys(tmp_path, ["acme/r1"], [])
    served = ServeProcess("--keys", str(tmp_path))
    try:
        (tmp_path / "authorized" / "robots" / "broken.key").write_text("not a certificate\n")
        (tmp_path / "authorized" / "robots" / "binary.key").write_bytes(b"\xff\xfe\x00curve")
        served.process.send_signal(signal.SIGHUP)
        wait_until(lambda: served.log().count(b"skipping key file") >= 2, timeout_s=20)
        client = RobotClient(
            served.endpoint,
            "acme",
            "r1",
            keys=ClientKeys.from_folder(tmp_path, "acme/r1"),
            context=context,
        ).connect()
        wait_until(lambda: client.send(make_state(client)) and b"is ONLINE" in served.log(), 20)
        client.close()
        wait_until(lambda: b"is OFFLINE" in served.log(), 20)
        assert served.stop()["robots"] == {"acme/r1": "OFFLINE"}
    finally:
        served.kill()


@pytest.fixture
def keys_dir(tmp_path: Path) -> Path:
    generate_keys(tmp_path, ["acme/r1", "acme/r2"], [])
    return tmp_path


def test_revoked_key_loses_its_session_at_once(keys_dir: Path, recorder: Recorder, clients) -> None:
    """Removing a connected robot's key and reloading breaks its session; its frames are refused."""
    with BusServer(LOOPBACK, keys_dir=keys_dir, config=FAST, listener=recorder) as server:
        keep = clients(server.endpoint, "r2", keys=ClientKeys.from_folder(keys_dir, "acme/r2"))
        robot = clients(server.endpoint, keys=ClientKeys.from_folder(keys_dir, "acme/r1"))
        robot.send(make_state(robot))
        keep.send(make_state(keep))
        recorder.wait_for(lambda r: _states(r, "acme/r1") and _states(r, "acme/r2"))
        (keys_dir / "authorized" / "robots" / "acme__r1.key").unlink()
        server.reload_keys()
        recorder.wait_for(
            lambda r: ("acme/r1", ConnectionState.CONNECTIONBROKEN) in r.of("connection")
        )
        accepted = len(_states(recorder, "acme/r1"))

        def refused() -> bool:
            robot.send(make_state(robot))
            answer = robot.receive(0.05)
            return isinstance(answer, BusError) and answer.reason == "revoked"

        wait_until(refused)
        assert len(_states(recorder, "acme/r1")) == accepted
        keep.send(make_state(keep))  # the other robot is untouched
        recorder.wait_for(lambda r: len(_states(r, "acme/r2")) == 2)


def test_robot_refused_before_registration_gets_in_after_reload(
    keys_dir: Path, recorder: Recorder, clients
) -> None:
    """libzmq stops retrying after a refused handshake; RobotClient re-creates its socket."""
    with BusServer(LOOPBACK, keys_dir=keys_dir, config=FAST, listener=recorder) as server:
        spare = keys_dir.parent / f"{keys_dir.name}-spare"
        generate_keys(spare, ["acme/r9"], [])
        pair = ClientKeys.from_folder(spare, "acme/r9")
        keys = ClientKeys(
            pair.public, pair.secret, ClientKeys.from_folder(keys_dir, "acme/r1").server_public
        )
        client = clients(server.endpoint, "r9", keys=keys, reauth_after_s=0.1)
        assert client.wait_event(lambda c: c.auth_failures > 0, timeout_s=60)
        registered = keys_dir / "authorized" / "robots" / "acme__r9.key"
        registered.write_bytes((spare / "authorized" / "robots" / "acme__r9.key").read_bytes())
        server.reload_keys()

        def accepted() -> bool:
            client.send(make_state(client))
            return bool(_states(recorder, "acme/r9"))

        wait_until(accepted, timeout_s=20)
        assert client.sockets_opened >= 2


def test_keys_generate_modes_hold_under_a_permissive_umask(tmp_path: Path) -> None:
    """Secret keys are 0600 from their first byte, folders 0700/0755, whatever the umask.

    A watcher thread looks at every secret file while 60 keypairs are written, as
    another user would; it must never see one that is readable by group or others.
    """
    seen_open: list[str] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            for folder in (tmp_path / "robots", tmp_path):
                try:
                    entries = list(os.scandir(folder))
                except FileNotFoundError:
                    continue
                for entry in entries:
                    try:
                        mode = entry.stat().st_mode
                    except FileNotFoundError:
                        continue
                    if "secret" in entry.name and mode & 0o077:
                        seen_open.append(entry.name)

    old = os.umask(0o002)
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        generate_keys(tmp_path, [f"acme/r{i}" for i in range(60)], ["wall"])
    finally:
        done.set()
        watcher.join(10)
        os.umask(old)
    assert seen_open == []

    def mode(path: Path) -> int:
        return stat.S_IMODE(path.stat().st_mode)

    assert mode(tmp_path / "server.key_secret") == 0o600
    assert mode(tmp_path / "robots" / "acme__r0.key_secret") == 0o600
    assert mode(tmp_path / "robots") == 0o700 and mode(tmp_path / "viewers") == 0o700
    assert mode(tmp_path / "authorized" / "robots") == 0o755
    assert mode(tmp_path / "authorized" / "robots" / "acme__r0.key") == 0o644
    assert not list(tmp_path.rglob("*.tmp"))
