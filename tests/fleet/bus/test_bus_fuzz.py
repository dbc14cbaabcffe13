"""Fuzzing a live server: arbitrary frames never crash it or change its state.

Besides random bytes and random msgpack values, every field of every message
type (nested ones included) is replaced by hostile shapes - arrays and maps
nested up to 1,500 deep, arrays of up to 70,000 items, maps of up to 12,000 keys -
the inputs of issue 8's finding 1. `bench/fuzz_bus.py` runs a longer campaign
against a `warehouse serve` subprocess.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Iterator

import msgpack
import pytest
import zmq
from bus_helpers import LOOPBACK, make_state, wait_until
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleet.bus.config import BusConfig
from fleet.bus.fuzz import FIELDS, hostile_value, with_field
from fleet.bus.robot_client import RobotClient
from fleet.bus.server import BusServer
from fleet.protocol import BusError, timestamp, to_wire
from fleet.protocol.examples import state as example_state
from fleet.protocol.messages import TOPICS

PROBE = b"probe"
HEADER_IDS = itertools.count(10**6)


@pytest.fixture(scope="module")
def live() -> Iterator[tuple[BusServer, RobotClient]]:
    patient = BusConfig(  # liveness must not interfere, every rejection is answered
        heartbeat_interval_s=60.0, error_answer_burst=1_000_000, error_answers_per_s=1e6
    )
    server = BusServer(LOOPBACK, pub=LOOPBACK, insecure=True, config=patient).start()
    context = zmq.Context()
    client = RobotClient(server.endpoint, "acme", "fuzz", context=context).connect()
    client.send(make_state(client))
    # Sending returns before the server has read the state; on a loaded machine the
    # first example could otherwise run before the robot is in the registry.
    wait_until(lambda: (r := server.robots().get("acme/fuzz")) and r.last_state, timeout_s=60)
    yield server, client
    client.close(clean=False)
    context.destroy(linger=0)
    server.stop()


def _sync(client: RobotClient) -> list[BusError]:
    """Send a probe that is always rejected and collect answers up to its own."""
    client.socket.send_multipart([PROBE, b""])
    answers = []
    while True:
        answer = client.receive(30.0)
        assert answer is not None, "server stopped answering"
        if isinstance(answer, BusError) and answer.ref_topic == PROBE.decode():
            return answers
        answers.append(answer)


values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats()
    | st.text(max_size=10)
    | st.binary(max_size=10),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=25,
)
topics = st.sampled_from(sorted(TOPICS)).map(str.encode) | st.binary(max_size=12)
bodies = st.binary(max_size=300) | values.map(lambda v: msgpack.packb(v, use_bin_type=True))
frame_lists = st.one_of(
    st.tuples(topics, bodies).map(list),
    st.lists(st.binary(max_size=20), min_size=1, max_size=4),
)

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(frame_lists)
def test_garbage_is_rejected_and_changes_nothing(live, frames: list[bytes]) -> None:
    """Arbitrary bytes and msgpack values are all rejected and answered; the registry stays put."""
    server, client = live
    before = server.robots()["acme/fuzz"]
    accepted = server.stats["accepted"]
    client.socket.send_multipart(frames)
    answers = _sync(client)
    assert len(answers) == 1 and isinstance(answers[0], BusError)
    assert server.stats["accepted"] == accepted
    after = server.robots()["acme/fuzz"]
    assert (after.last_state, after.messages) == (before.last_state, before.messages)
    assert after.last_seen == before.last_seen  # rejected frames are not heartbeats


@FUZZ
@given(st.dictionaries(st.sampled_from(sorted(to_wire(example_state()))), values, max_size=4))
def test_mutated_states_keep_the_server_consistent(live, patch: dict) -> None:
    """A real state with arbitrary field values is accepted whole or rejected whole."""
    server, client = live
    wire = to_wire(example_state())
    wire.update(headerId=next(HEADER_IDS), timestamp=timestamp(time.time()))  # fresh unless patched
    wire.update(patch)
    wire["serialNumber"], wire["manufacturer"] = "fuzz", "acme"
    before = server.robots()["acme/fuzz"].last_state
    client.socket.send_multipart([b"state", msgpack.packb(wire, use_bin_type=True)])
    answers = _sync(client)
    after = server.robots()["acme/fuzz"].last_state
    if answers:
        assert after == before
    else:
        assert after is not None and after.header.header_id == wire["headerId"]


shapes = st.one_of(
    st.tuples(st.sampled_from(["deep array", "deep map"]), st.integers(20, 1500)),
    st.tuples(st.just("wide array"), st.integers(9_000, 70_000)),
    st.tuples(st.just("wide map"), st.integers(9_000, 12_000)),
    st.tuples(st.just("empty arrays"), st.integers(1, 30)),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(FIELDS), shapes)
def test_deep_and_wide_values_in_every_field_are_refused_whole(live, field, shape) -> None:
    """Any field of any message type holding a hostile shape is rejected whole, or is valid."""
    server, client = live
    topic, path = field
    body = with_field(topic, path, hostile_value(*shape), "fuzz", next(HEADER_IDS))
    before = server.robots()["acme/fuzz"]
    accepted = server.stats["accepted"]
    client.socket.send_multipart([topic.encode(), body])
    answers = _sync(client)
    after = server.robots()["acme/fuzz"]
    if answers:
        assert len(answers) == 1 and isinstance(answers[0], BusError)
        assert answers[0].reason != "internal"
        assert server.stats["accepted"] == accepted
        assert (after.last_state, after.factsheet) == (before.last_state, before.factsheet)
    else:
        assert server.stats["accepted"] == accepted + 1
    assert server.counters()["rejected_by_reason"].get("internal", 0) == 0


def test_server_still_serves_after_fuzzing(live) -> None:
    """After the fuzzing a valid state is still accepted."""
    server, client = live
    state = make_state(client)
    accepted = server.stats["accepted"]
    state = dataclasses.replace(state, header=dataclasses.replace(state.header, header_id=2**62))
    client.send(state)
    _sync(client)
    assert server.stats["accepted"] == accepted + 1
    assert server.robots()["acme/fuzz"].last_state == state
