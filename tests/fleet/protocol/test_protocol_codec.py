"""msgpack codec: round trips, validation and forward compatibility."""

from __future__ import annotations

import contextlib
import dataclasses

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleet.protocol import ProtocolError, decode, encode, to_wire
from fleet.protocol.codec import MAX_MESSAGE_BYTES
from fleet.protocol.errors import (
    NotMsgpackError,
    OversizedError,
    UnknownTopicError,
    ValidationError,
    VersionError,
)
from fleet.protocol.examples import all_examples, state
from fleet.protocol.messages import TOPICS, State


def _packed(value: object) -> bytes:
    return msgpack.packb(value, use_bin_type=True)


@pytest.mark.parametrize("topic", sorted(TOPICS))
def test_every_message_round_trips(topic: str) -> None:
    """Encoding then decoding gives back an equal message, for every topic."""
    message = all_examples()[topic]
    frames = encode(message)
    assert frames[0] == topic.encode()
    assert decode(*frames) == message


@pytest.mark.parametrize("topic", sorted(TOPICS))
def test_minimal_messages_round_trip(topic: str) -> None:
    """A message with only its required fields round-trips and omits the optional ones."""
    full = to_wire(all_examples()[topic])
    cls = TOPICS[topic]
    from fleet.protocol.schema import wire_names

    required = {name for name, req in wire_names(cls) if req}
    minimal = {k: v for k, v in full.items() if k in required}
    message = decode(topic.encode(), _packed(minimal))
    assert set(to_wire(message)) == required


def test_unknown_optional_field_is_tolerated() -> None:
    """A newer peer's extra fields (top level and nested) do not break an old decoder."""
    wire = to_wire(state())
    wire["futureField"] = {"anything": [1, 2, 3]}
    wire["batteryState"]["cellTemperatures"] = [31.0, 32.5]
    wire["nodeStates"][0]["rfidTag"] = "04:a2"
    assert decode(b"state", _packed(wire)) == state()


def test_encoded_map_uses_standard_field_names() -> None:
    """Field names on the wire are VDA 5050's camelCase ones."""
    wire = to_wire(state())
    for key in ("headerId", "serialNumber", "orderUpdateId", "lastNodeSequenceId", "nodeStates"):
        assert key in wire
    assert "eStop" in wire["safetyState"]
    assert "allowedDeviationXY" in to_wire(all_examples()["order"])["nodes"][0]["nodePosition"]


def test_body_is_msgpack_with_str_and_bin_types() -> None:
    """Bodies decode with raw=False: strings come back as str, not bytes."""
    _, body = encode(state())
    value = msgpack.unpackb(body, raw=False)
    assert isinstance(value["orderId"], str)


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda w: w.pop("orderId"), "state.orderId"),
        (lambda w: w.update(headerId="7"), "state.headerId"),
        (lambda w: w.update(headerId=True), "state.headerId"),
        (lambda w: w.update(headerId=-1), "state.headerId"),
        (lambda w: w.update(driving=1), "state.driving"),
        (lambda w: w.update(operatingMode="TURBO"), "state.operatingMode"),
        (lambda w: w["batteryState"].update(batteryCharge=120.0), "state.batteryState"),
        (lambda w: w["batteryState"].update(batteryCharge=float("nan")), "state.batteryState"),
        (lambda w: w.update(nodeStates={"a": 1}), "state.nodeStates"),
        (lambda w: w["nodeStates"][1].pop("sequenceId"), "state.nodeStates[1].sequenceId"),
        (lambda w: w["actionStates"][0].update(actionStatus="DONE"), "state.actionStates[0]"),
        (lambda w: w.update(timestamp="yesterday"), "state.timestamp"),
        (lambda w: w.update(manufacturer=""), "state.serialNumber"),
    ],
)
def test_bad_fields_are_rejected_with_their_path(mutate, where: str) -> None:
    """Missing, wrongly typed and out-of-range fields raise ValidationError naming the field."""
    wire = to_wire(state())
    mutate(wire)
    with pytest.raises(ValidationError) as caught:
        decode(b"state", _packed(wire))
    assert where in str(caught.value)


def test_other_major_version_is_rejected() -> None:
    """A 3.x peer is refused instead of being half understood."""
    wire = to_wire(state())
    wire["version"] = "3.0.0"
    with pytest.raises(VersionError):
        decode(b"state", _packed(wire))


def test_unknown_topic_and_garbage_are_rejected() -> None:
    """Unknown message types, non-msgpack bodies, trailing bytes and huge bodies are refused."""
    _, body = encode(state())
    with pytest.raises(UnknownTopicError):
        decode(b"teleport", body)
    with pytest.raises(UnknownTopicError):
        decode(b"\xff\xfe", body)
    with pytest.raises(NotMsgpackError):
        decode(b"state", b"\xc1")
    with pytest.raises(NotMsgpackError):
        decode(b"state", body + b"\x00")
    with pytest.raises(OversizedError):
        decode(b"state", b"\x00" * (MAX_MESSAGE_BYTES + 1))
    with pytest.raises(ValidationError):
        decode(b"state", _packed([1, 2, 3]))


def test_header_fields_are_flat() -> None:
    """Header fields sit at the top level of the map, as in VDA 5050 JSON."""
    wire = to_wire(state())
    assert "header" not in wire
    assert wire["headerId"] == state().header.header_id
    bad = dataclasses.replace(state(), order_id=3)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        decode(b"state", _packed(to_wire(bad)))


msgpack_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats()
    | st.text(max_size=8)
    | st.binary(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.sampled_from(sorted(TOPICS)))
def test_arbitrary_bytes_only_raise_protocol_errors(body: bytes, topic: str) -> None:
    """Any byte string either decodes or raises a ProtocolError - nothing else escapes."""
    with contextlib.suppress(ProtocolError):
        decode(topic.encode(), body)


@settings(max_examples=300, deadline=None)
@given(msgpack_values, st.sampled_from(sorted(TOPICS)))
def test_arbitrary_msgpack_only_raises_protocol_errors(value: object, topic: str) -> None:
    """Any msgpack value either decodes or raises a ProtocolError."""
    with contextlib.suppress(ProtocolError):
        decode(topic.encode(), _packed(value))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(list(to_wire(state()))), msgpack_values, max_size=5))
def test_mutated_states_only_raise_protocol_errors(patch: dict) -> None:
    """A real state with fields replaced by arbitrary values decodes or raises ProtocolError."""
    wire = to_wire(state())
    wire.update(patch)
    try:
        result = decode(b"state", _packed(wire))
    except ProtocolError:
        return
    assert isinstance(result, State)


def test_timestamps_are_iso8601_utc_with_milliseconds() -> None:
    """Header timestamps format as VDA 5050 shows them and round to the millisecond."""
    from fleet.protocol.codec import timestamp

    assert timestamp(0) == "1970-01-01T00:00:00.000Z"
    assert timestamp(1767607200.123) == "2026-01-05T10:00:00.123Z"
    assert timestamp(1767607200.9996) == "2026-01-05T10:00:01.000Z"
