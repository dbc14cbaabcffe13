"""Conformance: what we send and show validates against the official VDA 5050 2.1.0 schemas.

The schemas live in ``../shared/vda5050/2.1.0/`` (skipped when absent). Each
message is encoded with `fleet.protocol.codec` and the msgpack body decoded
back to a plain map, so the check sees exactly the bytes on the wire.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import msgpack
import pytest
import zmq

from fleet.bus.config import BusConfig
from fleet.bus.server import BusServer
from fleet.protocol import (
    PROTOCOL_VERSION,
    Connection,
    ConnectionState,
    Factsheet,
    Header,
    decode,
    encode,
    examples,
)
from fleet.protocol.codec import to_wire
from fleet.protocol.errors import VersionError

SCHEMA_TOPICS = ("order", "instantActions", "state", "connection", "factsheet", "visualization")
"""Every VDA 5050 topic; ``error`` is this bus's own extension and has no official schema."""
FAST = BusConfig(heartbeat_interval_s=0.1, missed_heartbeats=2, resend_after_s=5.0)


@pytest.fixture(scope="module")
def validators(vda5050_schemas_dir: Path) -> dict[str, jsonschema.protocols.Validator]:
    found = {}
    for topic in SCHEMA_TOPICS:
        schema = json.loads((vda5050_schemas_dir / f"{topic}.schema").read_text())
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        found[topic] = cls(schema, format_checker=cls.FORMAT_CHECKER)
    return found


def wire_map(body: bytes) -> dict[str, Any]:
    return msgpack.unpackb(body, raw=False)


def problems(validator: jsonschema.protocols.Validator, value: dict[str, Any]) -> list[str]:
    """Every schema violation, each with the path to the offending field."""
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in validator.iter_errors(value)
    ]


@pytest.mark.parametrize("topic", SCHEMA_TOPICS)
def test_every_example_validates(topic: str, validators: dict) -> None:
    """Each example in fleet.protocol.examples, as encoded on the wire, is schema-valid."""
    name, body = encode(examples.all_examples()[topic])
    assert name.decode() == topic
    assert problems(validators[topic], wire_map(body)) == []


def test_examples_cover_every_schema(vda5050_schemas_dir: Path) -> None:
    """There is no official schema we do not check an example against."""
    official = {p.name.removesuffix(".schema") for p in vda5050_schemas_dir.glob("*.schema")}
    assert official == set(SCHEMA_TOPICS)


def test_schema_check_can_fail(validators: dict) -> None:
    """A factsheet without the 2.1 sections is reported invalid (the check has teeth)."""
    factsheet = dataclasses.replace(
        examples.factsheet(), protocol_limits=None, agv_geometry=None, load_specification=None
    )
    found = problems(validators["factsheet"], to_wire(factsheet))
    assert any("protocolLimits" in p for p in found)


# --- what a live server sends ------------------------------------------------------------------


@pytest.fixture
def live() -> Iterator[tuple[BusServer, zmq.Socket, zmq.Socket]]:
    """A bus server, a raw robot DEALER ``acme/r1`` that said ONLINE, and a SUB on the PUB."""
    server = BusServer("tcp://127.0.0.1:0", pub="tcp://127.0.0.1:0", insecure=True, config=FAST)
    server.start()
    context = zmq.Context()
    sub = context.socket(zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, b"connection")
    sub.connect(server.pub_endpoint)
    robot = context.socket(zmq.DEALER)
    robot.setsockopt(zmq.ROUTING_ID, b"acme/r1")
    robot.connect(server.endpoint)
    # A SUB misses whatever is published before its subscription reaches the PUB (the
    # slow joiner), and the CONNECTIONBROKEN comes only 0.2 s after the robot's ONLINE:
    # say ONLINE (a new session each time) until the SUB has seen one published.
    deadline = time.monotonic() + 60.0
    for header_id in itertools.count():
        assert time.monotonic() < deadline, "the SUB never received the robot's ONLINE"
        header = Header(header_id, "2026-01-05T10:00:00.000Z", "2.0.0", "acme", "r1")
        robot.send_multipart(list(encode(Connection(header, ConnectionState.ONLINE))))
        if sub.poll(100) and _is_online(sub.recv_multipart()):
            break
    try:
        yield server, robot, sub
    finally:
        robot.close(linger=0)
        sub.close(linger=0)
        context.term()
        server.stop()


def _is_online(frames: list[bytes]) -> bool:
    return frames[0] == b"connection" and wire_map(frames[-1])["connectionState"] == "ONLINE"


def _receive(socket: zmq.Socket, topic: bytes, keep: Any = lambda body: True) -> bytes:
    """The body of the first frame set on ``topic`` that ``keep`` accepts (60 s deadline)."""
    deadline = time.monotonic() + 60.0
    while (remaining := deadline - time.monotonic()) > 0:
        if socket.poll(int(remaining * 1000) + 1):
            frames = socket.recv_multipart()
            if frames[0] == topic and keep(frames[-1]):
                return frames[-1]
    raise AssertionError(f"no {topic!r} message before the deadline")


def test_messages_the_server_sends_validate(live: tuple, validators: dict) -> None:
    """Orders, instant actions and the fleet's CONNECTIONBROKEN are schema-valid, version 2.1.0."""
    server, robot, sub = live
    sample = examples.order()
    deadline = time.monotonic() + 60.0
    while "acme/r1" not in server.robots() and time.monotonic() < deadline:
        time.sleep(0.01)
    server.send_order("acme/r1", "o1", 0, sample.nodes, sample.edges)
    server.send_instant_actions("acme/r1", examples.instant_actions().actions)
    sent = {
        "order": _receive(robot, b"order"),
        "instantActions": _receive(robot, b"instantActions"),
        "connection": _receive(
            sub, b"connection", lambda b: wire_map(b)["connectionState"] == "CONNECTIONBROKEN"
        ),
    }
    for topic, body in sent.items():
        message = wire_map(body)
        assert problems(validators[topic], message) == [], topic
        assert message["version"] == PROTOCOL_VERSION == "2.1.0"


# --- versions -----------------------------------------------------------------------------------


def _with_version(version: str) -> tuple[bytes, bytes]:
    state = examples.state()
    header = dataclasses.replace(state.header, version=version)
    return encode(dataclasses.replace(state, header=header))


@pytest.mark.parametrize("version", ["2.0.0", "2.1.0", "2.9.4"])
def test_any_2x_robot_is_accepted(version: str) -> None:
    """The bus announces 2.1.0 and still decodes a 2.0.0 (or any 2.x) robot's messages."""
    assert decode(*_with_version(version)).header.version == version


@pytest.mark.parametrize("version", ["1.1.0", "3.0.0"])
def test_other_major_versions_are_refused(version: str) -> None:
    """A robot speaking another major version is rejected with the version reason."""
    with pytest.raises(VersionError):
        decode(*_with_version(version))


def test_a_2_0_factsheet_without_the_2_1_sections_is_accepted() -> None:
    """protocolLimits, agvGeometry and loadSpecification stay optional for 2.0 controllers."""
    body = to_wire(examples.factsheet())
    for key in ("protocolLimits", "protocolFeatures", "agvGeometry", "loadSpecification"):
        del body[key]
    body["version"] = "2.0.0"
    factsheet = decode(b"factsheet", msgpack.packb(body, use_bin_type=True))
    assert isinstance(factsheet, Factsheet) and factsheet.protocol_limits is None
