"""CURVE: registered robots and viewers get in, everyone else is refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import zmq
from bus_helpers import FAST, LOOPBACK, Recorder, make_state, wait_until

from fleet.bus.keys import generate_keys
from fleet.bus.robot_client import ClientKeys
from fleet.bus.server import BusServer
from fleet.bus.subscriber import FleetSubscriber, ViewerKeys
from fleet.protocol import BusError, State


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("keys")
    generate_keys(root, ["acme/r1", "acme/r2"], ["wall"])
    stranger = tmp_path_factory.mktemp("stranger")
    generate_keys(stranger, ["acme/r3"], ["spy"])
    return root


@pytest.fixture
def secure_server(keys_dir: Path, recorder: Recorder) -> Iterator[BusServer]:
    bus = BusServer(LOOPBACK, pub=LOOPBACK, keys_dir=keys_dir, config=FAST, listener=recorder)
    bus.start()
    yield bus
    bus.stop()


def _states(recorder: Recorder) -> list[State]:
    return [m for _, m in recorder.of("message") if isinstance(m, State)]


def test_registered_robot_is_accepted(
    secure_server: BusServer, recorder: Recorder, keys_dir, clients
) -> None:
    """A robot whose public key is in authorized/robots connects, and its messages are accepted."""
    client = clients(secure_server.endpoint, keys=ClientKeys.from_folder(keys_dir, "acme/r1"))
    client.send(make_state(client))
    (state,) = recorder.wait_for(_states)
    assert state.header.robot_id == "acme/r1"


def test_unregistered_key_cannot_connect(
    secure_server: BusServer, recorder: Recorder, keys_dir: Path, clients
) -> None:
    """A keypair missing from the authorised folder fails the handshake; nothing gets through."""
    stranger = next(p for p in keys_dir.parent.iterdir() if p.name.startswith("stranger"))
    pair = ClientKeys.from_folder(stranger, "acme/r3")
    server_public = ClientKeys.from_folder(keys_dir, "acme/r1").server_public
    keys = ClientKeys(pair.public, pair.secret, server_public)
    client = clients(secure_server.endpoint, "r3", keys=keys)
    client.send(make_state(client))
    assert client.wait_event(lambda c: c.auth_failures > 0, timeout_s=30.0)
    assert secure_server.stats["received"] == 0
    assert "acme/r3" not in secure_server.robots()


def test_plain_client_cannot_talk_to_a_curve_server(secure_server: BusServer, clients) -> None:
    """Without CURVE keys the handshake cannot even start: the mechanisms differ."""
    # no handshake can succeed: do not wait for one (nothing must get through anyway)
    client = clients(secure_server.endpoint, "r1", connect_timeout_s=0.5)
    client.send(make_state(client))
    assert client.receive(0.3) is None
    assert secure_server.stats["received"] == 0


def test_registered_key_cannot_speak_for_another_robot(
    secure_server: BusServer, recorder: Recorder, keys_dir, clients
) -> None:
    """r2's key on a DEALER claiming to be r1 is refused: the key's identity must match."""
    pair = ClientKeys.from_folder(keys_dir, "acme/r2")
    client = clients(secure_server.endpoint, "r1", keys=pair)
    client.send(make_state(client))
    answer = client.receive(30.0)
    assert isinstance(answer, BusError) and answer.reason == "identity"
    assert secure_server.robots() == {}


def test_viewer_needs_a_registered_key(
    secure_server: BusServer, keys_dir: Path, context: zmq.Context, clients
) -> None:
    """A registered viewer gets the snapshot; a robot key is not a viewer key."""
    robot = clients(secure_server.endpoint, keys=ClientKeys.from_folder(keys_dir, "acme/r1"))
    robot.send(make_state(robot))
    # The server registers and publishes a state in one step of its loop, and serves a
    # snapshot request only between steps: once the registry has the state, so does the
    # snapshot. (Asking again and again instead runs out of the server's snapshot budget.)
    wait_until(lambda: (r := secure_server.robots().get("acme/r1")) and r.last_state)
    viewer = FleetSubscriber(
        secure_server.pub_endpoint,
        secure_server.snapshot_endpoint,
        keys=ViewerKeys.from_folder(keys_dir, "wall"),
        context=context,
    )
    try:
        viewer.snapshot(timeout_s=60.0)
        assert ("state", "acme/r1") in viewer.values
    finally:
        viewer.close()
    robot_keys = ClientKeys.from_folder(keys_dir, "acme/r2")
    intruder = FleetSubscriber(
        secure_server.pub_endpoint,
        secure_server.snapshot_endpoint,
        keys=ViewerKeys(robot_keys.public, robot_keys.secret, robot_keys.server_public),
        context=context,
    )
    try:
        with pytest.raises(TimeoutError):
            intruder.snapshot(timeout_s=0.5)
    finally:
        intruder.close()


def test_registering_a_robot_takes_effect_on_reload(
    secure_server: BusServer, recorder: Recorder, keys_dir: Path, clients
) -> None:
    """Copying a public key into authorized/robots and reloading lets the robot in."""
    generate_keys(keys_dir, ["acme/r4"], [])
    secure_server.reload_keys()
    client = clients(secure_server.endpoint, "r4", keys=ClientKeys.from_folder(keys_dir, "acme/r4"))
    client.send(make_state(client))
    accepted = recorder.wait_for(_states)
    assert accepted, "the newly registered robot's state must be accepted"
