"""Hostile traffic for the bus: frame generators (bytes from a seeded RNG, stamped now).

Used by ``bench/fuzz_bus.py`` (the long campaign) and ``tests/fleet/bus/test_bus_fuzz.py``
against a server in another process (`warehouse.serve_process`: an attack whose failure
is a process exit, a Python exception nobody catches or a libzmq assertion, can only be
seen from outside). This module builds bytes only; it never starts or knows the app.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from typing import Any

import msgpack

from fleet.protocol import timestamp, to_wire
from fleet.protocol.codec import MAX_MESSAGE_BYTES
from fleet.protocol.examples import all_examples

SENTINEL = "\x00hostile value goes here\x00"
EXAMPLES = {topic: to_wire(message) for topic, message in sorted(all_examples().items())}


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key and index path inside a wire map, outermost first."""
    found = []
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in items:
        found.append((*prefix, key))
        if isinstance(child, dict | list) and child:
            found.extend(_paths(child, (*prefix, key)))
    return found


FIELDS = [(topic, path) for topic, wire in EXAMPLES.items() for path in _paths(wire)]


def hostile_value(kind: str, size: int) -> bytes:
    """msgpack bytes of a hostile shape; deep ones are written byte by byte (msgpack-python
    refuses to pack beyond 511 levels)."""
    if kind == "wide array":
        return msgpack.packb(list(range(size)))
    if kind == "wide map":
        return msgpack.packb({f"k{i}": i for i in range(size)})
    if kind == "empty arrays":
        return msgpack.packb([[]] * size)
    level = b"\x91" if kind == "deep array" else b"\x81" + msgpack.packb("k")
    return level * size + msgpack.packb("ONLINE")


def with_field(
    topic: str, path: tuple, value: bytes, serial: str, header_id: int, manufacturer: str = "acme"
) -> bytes:
    """The example ``topic`` message from ``manufacturer/serial``, fresh, ``path`` set to the
    msgpack bytes ``value``."""
    wire = json.loads(json.dumps(EXAMPLES[topic]))  # a deep copy of plain data
    wire.update(
        manufacturer=manufacturer,
        serialNumber=serial,
        headerId=header_id,
        timestamp=timestamp(time.time()),
    )
    target: Any = wire
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = SENTINEL
    body = msgpack.packb(wire, use_bin_type=True)
    return body.replace(msgpack.packb(SENTINEL, use_bin_type=True), value)


def _shape(rng: random.Random) -> bytes:
    kind = rng.choice(["deep array", "deep map", "wide array", "wide map", "empty arrays"])
    size = {
        "deep array": rng.randint(20, 1500),
        "deep map": rng.randint(20, 1500),
        "wide array": rng.randint(9_000, 70_000),
        "wide map": rng.randint(9_000, 12_000),
        "empty arrays": rng.randint(1, 30),
    }[kind]
    return hostile_value(kind, size)


def _scalar(rng: random.Random) -> bytes:
    return msgpack.packb(
        rng.choice([None, True, -1, 2**63, 1e308, float("nan"), "", "x" * 50, b"\x00", [], {}])
    )


Generator = Callable[[random.Random, str, int], list[bytes]]


def _field_shape(rng: random.Random, serial: str, header_id: int) -> list[bytes]:
    topic, path = rng.choice(FIELDS)
    return [topic.encode(), with_field(topic, path, _shape(rng), serial, header_id)]


def _field_scalar(rng: random.Random, serial: str, header_id: int) -> list[bytes]:
    topic, path = rng.choice(FIELDS)
    return [topic.encode(), with_field(topic, path, _scalar(rng), serial, header_id)]


def _random_bytes(rng: random.Random, serial: str, header_id: int) -> list[bytes]:
    topic = rng.choice([*EXAMPLES, "teleport", "\x00"]).encode()
    return [topic, rng.randbytes(rng.randint(0, 400))]


def _any_value(rng: random.Random, depth: int = 0) -> Any:
    """An arbitrary msgpack value: scalars of every type, lists and maps up to 5 deep."""
    kind = rng.randrange(10 if depth < 5 else 7)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.choice([-(2**63), -1, 0, 1, 2**32, 2**64 - 1, rng.randint(-1000, 1000)])
    if kind == 3:
        return rng.choice([0.0, -0.0, 1e308, float("inf"), float("nan"), rng.random()])
    if kind == 4:
        return rng.choice(["", "state", "\x00", "é" * rng.randint(1, 40), str(rng.random())])
    if kind == 5:
        return rng.randbytes(rng.randint(0, 40))
    if kind == 6:
        return rng.choice(list(EXAMPLES["state"]))  # a field name as a value
    if kind in (7, 8):
        return [_any_value(rng, depth + 1) for _ in range(rng.randint(0, 6))]
    keys = [*EXAMPLES["state"], "", "x", "\x00"]
    return {rng.choice(keys): _any_value(rng, depth + 1) for _ in range(rng.randint(0, 8))}


def _random_msgpack(rng: random.Random, serial: str, header_id: int) -> list[bytes]:
    topic = rng.choice([*EXAMPLES, "teleport"]).encode()
    return [topic, msgpack.packb(_any_value(rng), use_bin_type=True)]


def _framing(rng: random.Random, serial: str, header_id: int) -> list[bytes]:
    return [rng.randbytes(rng.randint(0, 20)) for _ in range(rng.choice([1, 3, 4, 6, 60]))]


def _oversized(rng: random.Random, serial: str, header_id: int) -> list[bytes]:
    return [b"state", b"\x00" * (MAX_MESSAGE_BYTES + rng.randint(1, 30))]


def _duplicate_key(rng: random.Random, serial: str, header_id: int) -> list[bytes]:
    wire = msgpack.unpackb(
        with_field("state", ("driving",), msgpack.packb(False), serial, header_id)
    )
    key = rng.choice(sorted(wire))
    packer = msgpack.Packer(use_bin_type=True)
    body = packer.pack_map_header(len(wire) + 1)
    for name, value in [*wire.items(), (key, wire[key])]:
        body += packer.pack(name) + packer.pack(value)
    return [b"state", body]


def _other_robot(rng: random.Random, serial: str, header_id: int) -> list[bytes]:
    victim = rng.choice(["honest", "a0", serial + "x"])
    return [b"state", with_field("state", ("driving",), msgpack.packb(True), victim, header_id)]


GENERATORS: tuple[Generator, ...] = (
    _field_shape,
    _field_scalar,
    _random_bytes,
    _random_msgpack,
    _framing,
    _oversized,
    _duplicate_key,
    _other_robot,
)


def hostile_frames(rng: random.Random, serial: str, header_id: int) -> list[bytes]:
    """One hostile multipart message claiming to come from ``acme/serial``."""
    return rng.choice(GENERATORS)(rng, serial, header_id)
