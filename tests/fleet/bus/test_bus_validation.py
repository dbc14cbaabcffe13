"""Issue 8, findings 7 and 8: what the live server refuses and accepts, as docs/protocol.md says."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import msgpack
import pytest
from bus_helpers import FAST, LOOPBACK, Recorder, make_state, wait_until, wire_state

from fleet.bus.keys import generate_keys
from fleet.bus.robot_client import ClientKeys, RobotClient
from fleet.bus.server import BusServer
from fleet.protocol import BusError, State, timestamp, to_wire
from fleet.protocol.codec import MAX_MESSAGE_BYTES
from fleet.protocol.examples import factsheet


def _deep(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


def _with_duplicate_key(wire: dict[str, Any]) -> bytes:
    """A msgpack map naming ``driving`` twice (msgpack-python cannot build one from a dict)."""
    packer = msgpack.Packer(use_bin_type=True)
    out = packer.pack_map_header(len(wire) + 1)
    for key, value in [*wire.items(), ("driving", True)]:
        out += packer.pack(key) + packer.pack(value)
    return out


def _state(**fields: Any) -> dict[str, Any]:
    return wire_state("acme", "r1", 100, **fields)


def _node_states_theta(theta: float) -> list[dict[str, Any]]:
    position = {"x": 1.0, "y": 1.0, "mapId": "default", "theta": theta}
    return [{"nodeId": "n1", "sequenceId": 2, "released": True, "nodePosition": position}]


def _factsheet(section: str, **fields: Any) -> dict[str, Any]:
    wire = to_wire(factsheet())
    wire.update(manufacturer="acme", serialNumber="r1", headerId=100)
    if section == "agvActions":
        wire["protocolFeatures"]["agvActions"][0].update(fields)
    else:
        wire[section].update(fields)
    return wire


NOW = time.time()
REFUSED: dict[str, tuple[bytes, bytes | dict[str, Any], str]] = {
    "impossible date": (b"state", _state(timestamp="2026-13-45T25:61:61Z"), "validation"),
    "February 30": (b"state", _state(timestamp="2026-02-30T10:00:00.000Z"), "validation"),
    "trailing newline": (b"state", _state(timestamp=timestamp(NOW) + "\n"), "validation"),
    "version newline": (b"state", _state(version="2.0.0\n"), "validation"),
    "nodeState theta 4": (b"state", _state(nodeStates=_node_states_theta(4.0)), "validation"),
    "agvPosition theta": (
        b"state",
        _state(
            agvPosition={"x": 0, "y": 0, "theta": -4.0, "mapId": "m", "positionInitialized": True}
        ),
        "validation",
    ),
    "serial with slash": (b"state", wire_state("acme", "r1/x", 100), "validation"),
    "60,000 items under an unknown key": (
        b"state",
        _state(vendorList=list(range(60_000))),
        "oversized",
    ),
    "1,000 deep under an unknown key": (b"state", _state(vendorTree=_deep(1000)), "validation"),
    "duplicated key": (b"state", _with_duplicate_key(_state()), "duplicate_key"),
    "lower-case kinematic": (
        b"factsheet",
        _factsheet("typeSpecification", agvKinematic="diff"),
        "validation",
    ),
    "unknown class": (
        b"factsheet",
        _factsheet("typeSpecification", agvClass="ROBOT"),
        "validation",
    ),
    "lower-case localization": (
        b"factsheet",
        _factsheet("typeSpecification", localizationTypes=["natural"]),
        "validation",
    ),
    "unknown action scope": (
        b"factsheet",
        _factsheet("agvActions", actionScopes=["INSTANT", "ANYWHERE"]),
        "validation",
    ),
    "negative maxLoadMass": (
        b"factsheet",
        _factsheet("typeSpecification", maxLoadMass=-1.0),
        "validation",
    ),
    "state 30 s old": (b"state", _state(timestamp=timestamp(NOW - 30)), "stale_state"),
}


def _bound(server: BusServer, clients) -> RobotClient:
    """acme/r1, connected and registered (so every rejection is answered to it)."""
    client = clients(server.endpoint)
    client.send(make_state(client))
    wait_until(lambda: server.robots().get("acme/r1") and server.robots()["acme/r1"].last_state)
    return client


def _frames(topic: bytes, body: bytes | dict[str, Any]) -> list[bytes]:
    if isinstance(body, dict):
        body = msgpack.packb(body, use_bin_type=True)
    return [topic, body]


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_documented_invalid_messages_are_refused(server: BusServer, clients, case: str) -> None:
    """Each input docs/protocol.md calls invalid is refused with its reason and changes nothing."""
    topic, body, reason = REFUSED[case]
    client = _bound(server, clients)
    before = server.robots()["acme/r1"]
    client.socket.send_multipart(_frames(topic, body))
    answer = client.receive(30.0)
    assert isinstance(answer, BusError) and answer.reason == reason, answer
    after = server.robots()["acme/r1"]
    assert (after.last_state, after.factsheet, after.messages) == (
        before.last_state,
        before.factsheet,
        before.messages,
    )


def _accepted(server: BusServer, client: RobotClient, frames: list[bytes]) -> None:
    messages = server.robots()["acme/r1"].messages
    client.socket.send_multipart(frames)
    wait_until(lambda: server.robots()["acme/r1"].messages == messages + 1)
    assert client.receive(0.1) is None


def test_negative_order_update_id_in_a_state_is_accepted(server: BusServer, clients) -> None:
    """The 2.1.0 state schema sets no minimum on orderUpdateId (the order schema does)."""
    client = _bound(server, clients)
    _accepted(server, client, _frames(b"state", _state(orderUpdateId=-1)))
    assert server.robots()["acme/r1"].last_state.order_update_id == -1


def _padded_to(limit: int, header_id: int) -> bytes:
    """A valid state whose body is exactly ``limit`` bytes (padded under an unknown key)."""
    wire = _state(headerId=header_id, vendorPad="")
    pad = 0
    for _ in range(3):  # the string's own header grows with it: converge in a few steps
        pad += limit - len(msgpack.packb(wire, use_bin_type=True))
        wire["vendorPad"] = "x" * pad
    body = msgpack.packb(wire, use_bin_type=True)
    assert len(body) == limit
    return body


def test_a_body_of_exactly_the_limit_arrives_plain_and_under_curve(
    server: BusServer, clients, tmp_path: Path
) -> None:
    """max_message_bytes is the body limit in both modes; the transport drops the connection
    above it + 64 bytes, + 31 under CURVE (whose 33-byte envelope libzmq counts), as documented."""
    client = _bound(server, clients)
    _accepted(server, client, [b"state", _padded_to(MAX_MESSAGE_BYTES, 101)])
    client.socket.send_multipart([b"state", _padded_to(MAX_MESSAGE_BYTES + 1, 102)])
    answer = client.receive(30.0)
    assert isinstance(answer, BusError) and answer.reason == "oversized"
    generate_keys(tmp_path, ["acme/r1"], [])
    with BusServer(LOOPBACK, keys_dir=tmp_path, config=FAST) as secure:
        robot = clients(secure.endpoint, keys=ClientKeys.from_folder(tmp_path, "acme/r1"))
        robot.send(make_state(robot))
        wait_until(lambda: secure.robots().get("acme/r1") and secure.robots()["acme/r1"].last_state)
        _accepted(secure, robot, [b"state", _padded_to(MAX_MESSAGE_BYTES, 101)])
        _transport_limit_is(secure.config.max_frame_bytes - 33, robot)
    _transport_limit_is(server.config.max_frame_bytes, client)


def _transport_limit_is(largest: int, client: RobotClient) -> None:
    """A body of ``largest`` bytes is answered ``oversized``; one byte more drops the connection."""
    client.socket.send_multipart([b"state", b"\x00" * largest])
    answer = client.receive(30.0)
    assert isinstance(answer, BusError) and answer.reason == "oversized"
    connections = client.connections
    client.socket.send_multipart([b"state", b"\x00" * (largest + 1)])
    assert client.wait_event(lambda c: c.connections > connections, timeout_s=60)


def test_an_older_state_cannot_overwrite_a_fresher_one(server: BusServer, clients) -> None:
    """Finding 8: a state stamped before the last accepted one (same session) is stale."""
    client = _bound(server, clients)
    now = time.time()
    _accepted(server, client, _frames(b"state", _state(headerId=200, timestamp=timestamp(now))))
    client.socket.send_multipart(
        _frames(b"state", _state(headerId=201, timestamp=timestamp(now - 1)))
    )
    answer = client.receive(30.0)
    assert isinstance(answer, BusError) and answer.reason == "stale_state"
    assert server.robots()["acme/r1"].last_state.header.header_id == 200


def test_a_restarted_server_gets_no_states_queued_during_the_outage(clients) -> None:
    """Finding 8: with ZMQ_IMMEDIATE the client drops states while the server is down."""
    first = Recorder()
    server = BusServer(LOOPBACK, insecure=True, config=FAST, listener=first).start()
    endpoint = server.endpoint
    client = clients(endpoint, reconnect_ivl_ms=20, reconnect_ivl_max_ms=100)
    client.send(make_state(client))
    first.wait_for(lambda r: r.of("message"))
    server.stop()
    outage = []
    wait_until(lambda: client.send(make_state(client)) is False)  # the connection is gone
    for _ in range(30):
        state = make_state(client)
        outage.append(state.header.header_id)
        client.send(state)
    second = Recorder()
    with BusServer(endpoint, insecure=True, config=FAST, listener=second):

        def fresh_state_arrives() -> bool:
            client.send(make_state(client))
            return any(isinstance(m, State) for _, m in second.of("message"))

        wait_until(fresh_state_arrives, timeout_s=20)
        states = [m for _, m in second.of("message") if isinstance(m, State)]
        assert not {s.header.header_id for s in states} & set(outage)
        assert client.dropped >= len(outage)


def test_allowed_deviation_theta_follows_the_schema() -> None:
    """allowedDeviationTheta is bounded by [-π, π] as the 2.1.0 order schema says."""
    from fleet.protocol import ProtocolError, decode, encode
    from fleet.protocol.examples import order

    good = order()
    node = good.nodes[0]
    for theta, ok in ((-1.0, True), (3.141592653589793, True), (4.0, False)):
        position = dataclasses.replace(node.node_position, allowed_deviation_theta=theta)
        message = dataclasses.replace(
            good, nodes=(dataclasses.replace(node, node_position=position), *good.nodes[1:])
        )
        topic, body = encode(message)
        if ok:
            assert decode(topic, body) == message
        else:
            with pytest.raises(ProtocolError):
                decode(topic, body)
