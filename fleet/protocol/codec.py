"""msgpack encoding of protocol messages: a topic frame plus a body frame.

A message travels as two ZeroMQ frames, ``[topic, body]``: the topic is the
VDA 5050 MQTT topic name in ASCII (``state``, ``order``, ...) and the body a
msgpack map with the standard's field names. Decoding never trusts its input:
size, msgpack syntax, topic, every field's type and range and the protocol's
major version are checked, and anything wrong raises a `ProtocolError` subclass
whose ``reason`` the server counts.

The shape of the whole value is bounded *before* anything walks or formats it:
the unpacker refuses arrays and maps above `MAX_ITEMS` entries and duplicated
map keys, and an iterative pass refuses nesting deeper than `MAX_DEPTH` and any
type but nil, bool, int, float, str, bin, array and string-keyed map. So no
later step (validation, an error's text, a viewer re-decoding the bytes) can
recurse without bound, and unknown keys, which are re-published byte for byte,
are bounded by the same rules as known ones.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import msgpack

from fleet.protocol.errors import (
    DuplicateKeyError,
    NotMsgpackError,
    OversizedError,
    UnknownTopicError,
    ValidationError,
    VersionError,
)
from fleet.protocol.messages import PROTOCOL_VERSION, TOPIC_OF, TOPICS, Header, Message
from fleet.protocol.schema import MAX_ITEMS, brief, wire_codec

MAX_MESSAGE_BYTES = 256 * 1024
"""Bodies above this are rejected before parsing (the transport also caps frames)."""
MAX_DEPTH = 32
"""Deepest nesting of arrays and maps in a body (the top-level map is depth 1).

The deepest known field is an action parameter's value inside an order
(depth 8) that may itself nest 16 levels; 32 leaves room for extensions."""

_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:Z|([+-])(\d{2}):(\d{2}))"
)
_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")
_MAJOR = PROTOCOL_VERSION.split(".", 1)[0]
_SCALARS = frozenset({str, int, float, bool, bytes, type(None)})


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


class _Duplicate(Exception):
    """A map that names one key twice (its later value would silently win)."""


def _unique_map(pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        raise _Duplicate
    return value


def unpack(body: bytes, max_bytes: int = MAX_MESSAGE_BYTES) -> Any:
    """msgpack -> Python value, refusing oversized, malformed, duplicated or too deep bodies.

    Fast path: unpack without the per-map duplicate hook and pack the value again; if
    that gives back ``body`` byte for byte, no map named a key twice (a dropped
    duplicate would shorten the map). Anything else - a peer that packs differently, a
    body that does not unpack - is judged by the hooked unpack, so errors and verdicts
    are exactly those of the strict path.
    """
    if len(body) > max_bytes:
        raise OversizedError("body", f"{len(body)} bytes, more than {max_bytes}")
    try:
        value = msgpack.unpackb(
            body,
            raw=False,
            strict_map_key=True,
            max_array_len=MAX_ITEMS,
            max_map_len=MAX_ITEMS,
            max_ext_len=0,
        )
        same = msgpack.packb(value, use_bin_type=True) == body
    except Exception:  # judged below, with the reason the strict path gives
        same = False
    if not same:
        value = _unpack_strict(body)
    check_shape(value)
    return value


def _unpack_strict(body: bytes) -> Any:
    try:
        return msgpack.unpackb(
            body,
            raw=False,
            strict_map_key=True,
            object_pairs_hook=_unique_map,
            max_array_len=MAX_ITEMS,
            max_map_len=MAX_ITEMS,
            max_ext_len=0,
        )
    except _Duplicate:
        raise DuplicateKeyError("body", "a map names the same key twice") from None
    except ValueError as error:
        if "exceeds max_" in str(error):
            raise OversizedError(
                "body", f"an array or map holds more than {MAX_ITEMS} items"
            ) from None
        raise NotMsgpackError("body", f"not a msgpack value ({type(error).__name__})") from None
    except Exception as error:  # msgpack raises assorted types on hostile input
        raise NotMsgpackError("body", f"not a msgpack value ({type(error).__name__})") from None


def check_shape(value: Any) -> None:
    """Refuse nesting deeper than `MAX_DEPTH` or a value msgpack maps to an unexpected type.

    Level by level (a list of the containers at each depth), so a hostile depth costs
    a loop, never the C stack, and each container is looked at once.
    """
    if value.__class__ in _SCALARS:
        return
    level = [value]
    depth = 0
    while level:
        depth += 1
        below: list[Any] = []
        for item in level:
            kind = item.__class__
            if kind is dict:
                for key in item:
                    if key.__class__ is not str:
                        raise ValidationError("body", "map keys must be strings")
                below += [c for c in item.values() if c.__class__ not in _SCALARS]
            elif kind is list:
                below += [c for c in item if c.__class__ not in _SCALARS]
            else:
                raise ValidationError("body", f"unsupported msgpack type {kind.__name__}")
        if depth > MAX_DEPTH:
            raise ValidationError("body", f"nested more than {MAX_DEPTH} levels deep")
        level = below


def from_wire(name: str, value: Any) -> Message:
    """A typed message from an already unpacked map (validates everything)."""
    message = wire_codec(TOPICS[name]).decode(value, name)
    check_header(message.header, name)
    return message


def decode(topic: bytes, body: bytes, max_bytes: int = MAX_MESSAGE_BYTES) -> Message:
    """Validate and decode two frames; raises a `ProtocolError` subclass on bad input."""
    name = topic_name(topic)
    return from_wire(name, unpack(body, max_bytes))


@lru_cache(maxsize=1024)
def parse_timestamp(text: str) -> float:
    """Seconds since the epoch of an ISO 8601 / RFC 3339 date-time; ValueError if impossible.

    The whole string must match (no trailing newline) and name a real instant:
    month 01-12, a day that month has, hours 00-23, minutes and seconds 00-59
    (no leap second), offset hours 00-23. Cached (bounded): every robot on a floor
    stamps its messages with nearly the same few instants.
    """
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        raise ValueError("not YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM)")
    year, month, day, hour, minute, second, fraction, sign, off_h, off_m = match.groups()
    offset = timedelta(0)
    if sign is not None:
        if int(off_h) > 23 or int(off_m) > 59:
            raise ValueError("offset out of range")
        offset = timedelta(hours=int(off_h), minutes=int(off_m)) * (1 if sign == "+" else -1)
    moment = datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=UTC
    )
    return (moment - offset).timestamp() + (float("0." + fraction) if fraction else 0.0)


def check_header(header: Header, where: str) -> None:
    match = _VERSION.fullmatch(header.version)
    if match is None:
        raise ValidationError(
            f"{where}.version", f"must be MAJOR.MINOR.PATCH, got {brief(header.version)}"
        )
    if match.group(1) != _MAJOR:
        raise VersionError(
            f"{where}.version",
            f"major version {brief(match.group(1))} is not supported (speak {_MAJOR}.x)",
        )
    try:
        parse_timestamp(header.timestamp)
    except ValueError as error:
        raise ValidationError(
            f"{where}.timestamp",
            f"must be an ISO 8601 date-time ({error}), got {brief(header.timestamp)}",
        ) from None
    if not header.manufacturer or not header.serial_number:
        raise ValidationError(f"{where}.serialNumber", "manufacturer and serialNumber are required")
    if "/" in header.manufacturer:
        raise ValidationError(f"{where}.manufacturer", "must not contain '/'")
    if not (header.manufacturer.isprintable() and header.serial_number.isprintable()):
        raise ValidationError(
            f"{where}.serialNumber", "manufacturer and serialNumber must be printable text"
        )
    if "/" in header.serial_number:
        raise ValidationError(
            f"{where}.serialNumber", "must not contain '/' (robot ids are manufacturer/serial)"
        )
