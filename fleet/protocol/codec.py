"""msgpack encoding of protocol messages: a topic frame plus a body frame.

A message travels as two ZeroMQ frames, ``[topic, body]``: the topic is the
VDA 5050 MQTT topic name in ASCII (``state``, ``order``, ...) and the body a
msgpack map with the standard's field names. Decoding never trusts its input:
size, msgpack syntax, topic, every field's type and range and the protocol's
major version are checked, and anything wrong raises a `ProtocolError` subclass
whose ``reason`` the server counts.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import msgpack

from fleet.protocol.errors import (
    NotMsgpackError,
    OversizedError,
    UnknownTopicError,
    ValidationError,
    VersionError,
)
from fleet.protocol.messages import PROTOCOL_VERSION, TOPIC_OF, TOPICS, Header, Message
from fleet.protocol.schema import wire_codec

MAX_MESSAGE_BYTES = 256 * 1024
"""Bodies above this are rejected before parsing (the transport also caps frames)."""

_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")
_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
_MAJOR = PROTOCOL_VERSION.split(".", 1)[0]


def timestamp(seconds: float) -> str:
    """ISO 8601 UTC with milliseconds, as VDA 5050 examples write it."""
    whole, millis = divmod(round(seconds * 1000), 1000)
    return f"{_second(whole)}.{millis:03d}Z"


@lru_cache(maxsize=4)
def _second(whole: int) -> str:
    """The date-time part, formatted once per second (every message carries a timestamp)."""
    return datetime.fromtimestamp(whole, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")


def to_wire(message: Message) -> dict[str, Any]:
    """The msgpack-ready map of a message."""
    return wire_codec(type(message)).encode(message)


def encode(message: Message) -> tuple[bytes, bytes]:
    """``(topic, body)`` frames of a message."""
    topic = TOPIC_OF[type(message)]
    return topic.encode("ascii"), msgpack.packb(to_wire(message), use_bin_type=True)


def topic_name(topic: bytes) -> str:
    try:
        name = topic.decode("ascii")
    except UnicodeDecodeError:
        raise UnknownTopicError("topic", f"not ASCII: {topic[:40]!r}") from None
    if name not in TOPICS:
        raise UnknownTopicError("topic", f"unknown message type {name[:40]!r}")
    return name


def unpack(body: bytes, max_bytes: int = MAX_MESSAGE_BYTES) -> Any:
    """msgpack -> Python value, refusing oversized or malformed bodies."""
    if len(body) > max_bytes:
        raise OversizedError("body", f"{len(body)} bytes, more than {max_bytes}")
    try:
        return msgpack.unpackb(body, raw=False, strict_map_key=True)
    except (msgpack.ExtraData, msgpack.FormatError, msgpack.StackError, ValueError) as error:
        raise NotMsgpackError("body", f"not a msgpack value ({type(error).__name__})") from None
    except Exception as error:  # msgpack raises assorted types on hostile input
        raise NotMsgpackError("body", f"not a msgpack value ({type(error).__name__})") from None


def from_wire(name: str, value: Any) -> Message:
    """A typed message from an already unpacked map (validates everything)."""
    message = wire_codec(TOPICS[name]).decode(value, name)
    check_header(message.header, name)
    return message


def decode(topic: bytes, body: bytes, max_bytes: int = MAX_MESSAGE_BYTES) -> Message:
    """Validate and decode two frames; raises a `ProtocolError` subclass on bad input."""
    name = topic_name(topic)
    return from_wire(name, unpack(body, max_bytes))


def check_header(header: Header, where: str) -> None:
    match = _VERSION.match(header.version)
    if match is None:
        raise ValidationError(
            f"{where}.version", f"must be MAJOR.MINOR.PATCH, got {header.version!r}"
        )
    if match.group(1) != _MAJOR:
        raise VersionError(
            f"{where}.version",
            f"major version {match.group(1)} is not supported (speak {_MAJOR}.x)",
        )
    if not _TIMESTAMP.match(header.timestamp):
        raise ValidationError(
            f"{where}.timestamp", f"must be ISO 8601 date-time, got {header.timestamp[:40]!r}"
        )
    if not header.manufacturer or not header.serial_number:
        raise ValidationError(f"{where}.serialNumber", "manufacturer and serialNumber are required")
    if "/" in header.manufacturer:
        raise ValidationError(f"{where}.manufacturer", "must not contain '/'")
