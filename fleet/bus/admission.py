"""Admission rules for upstream frames, as pure verdicts.

`admit` takes what arrived on the robot ROUTER (the frames after the routing id
frame was split off, at most a few of them), what the server knows about the
connection (`Peer`) and about the robots (`RobotView`), and the wall-clock time;
it returns `Accept` or `Reject` with a stable reason. It opens no socket, reads
no clock and changes nothing, so every rule is tested without a network, and
the server applies a verdict in one place.

The rules, in order (the first that fails decides the reason):

1. ``framing``: exactly two frames, topic and body.
2. ``revoked`` (CURVE): the key that opened the connection is still authorised.
3. ``oversized``: a body the server did not even copy (`Oversized`) is refused unread.
4. the body decodes (`fleet.protocol.codec.decode`: size, shape, fields).
5. ``unknown_topic``: a topic robots may send.
6. ``identity``: the header's ``manufacturer/serialNumber`` is the key's identity
   (CURVE) and the robot this connection already speaks for, if any.
7. ``validation``: a robot does not declare itself CONNECTIONBROKEN.
8. ``session``: no other connection holds the robot while it is ONLINE - a
   connection takes a robot over only while that robot is OFFLINE,
   CONNECTIONBROKEN or unknown, so nobody can push a connected robot off the bus.
9. ``stale_header``: ``headerId`` above the last accepted on that topic in this
   session (a new session - a new connection - or ``connection ONLINE`` starts over).
10. ``stale_state``: a state no older than ``max_state_age_s`` by the server's
   clock and not older than the last state accepted in this session.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from fleet.protocol.codec import decode, parse_timestamp
from fleet.protocol.errors import ProtocolError
from fleet.protocol.messages import (
    UPSTREAM_TOPICS,
    Connection,
    ConnectionState,
    Message,
    State,
)

FRAMING = "framing"
REVOKED = "revoked"
OVERSIZED = "oversized"
UNKNOWN_TOPIC = "unknown_topic"
IDENTITY = "identity"
VALIDATION = "validation"
SESSION = "session"
STALE_HEADER = "stale_header"
STALE_STATE = "stale_state"
INTERNAL = "internal"
"""Not a rule: a frame whose handling raised; counted like a rejection, never fatal."""


@dataclass(frozen=True)
class Oversized:
    """Stands in for a frame above the message limit: the server keeps only its size."""

    size: int


@dataclass(frozen=True)
class Peer:
    """What the server knows about the connection a frame came on."""

    connection: bytes
    """The ROUTER routing id of the connection (libzmq's, or the one the peer chose)."""
    curve: bool
    key_identity: str | None = None
    """CURVE: the identity registered for the connection's key now; None once revoked."""
    bound_robot: str | None = None
    """The robot this connection already speaks for (its first accepted message named it)."""


class RobotView(Protocol):
    """The registry facts admission reads about one robot."""

    connection: ConnectionState
    peer: bytes | None
    header_ids: dict[str, int]
    last_stamp: float | None


@dataclass(frozen=True)
class Limits:
    max_message_bytes: int
    max_state_age_s: float


@dataclass(frozen=True)
class Accept:
    robot_id: str
    topic: str
    message: Message
    stamp: float
    """The header timestamp, seconds since the epoch."""
    new_session: bool
    """This connection takes the robot (first contact, a reconnect or a restart)."""


@dataclass(frozen=True)
class Reject:
    reason: str
    detail: str
    topic: bytes | None = None
    header_id: int | None = None
    claimed: str | None = None
    """The robot the message named, when its header could be read."""


Verdict = Accept | Reject


def admit(
    frames: Sequence[bytes | Oversized],
    peer: Peer,
    robots: Mapping[str, RobotView],
    limits: Limits,
    now_wall: float,
) -> Verdict:
    """The verdict on one upstream message (``frames`` without the routing id)."""
    if len(frames) != 2:
        return Reject(FRAMING, f"{len(frames)} frames, expected 2")
    if peer.curve and peer.key_identity is None:
        return Reject(REVOKED, "the key of this connection is no longer authorised")
    topic, body = frames
    if isinstance(topic, Oversized) or isinstance(body, Oversized):
        big = topic if isinstance(topic, Oversized) else body
        assert isinstance(big, Oversized)
        return Reject(
            OVERSIZED,
            f"body: {big.size} bytes, more than {limits.max_message_bytes}",
            None if isinstance(topic, Oversized) else topic,
        )
    try:
        message = decode(topic, body, limits.max_message_bytes)
    except ProtocolError as error:
        return Reject(error.reason, str(error), topic)
    header = message.header
    name = topic.decode("ascii")
    claimed = header.robot_id

    def reject(reason: str, detail: str) -> Reject:
        return Reject(reason, detail, topic, header.header_id, claimed)

    if name not in UPSTREAM_TOPICS:
        return reject(UNKNOWN_TOPIC, f"robots may not send {name!r}")
    if peer.curve and peer.key_identity != claimed:
        return reject(IDENTITY, f"key belongs to {peer.key_identity!r}, not {claimed!r}")
    if peer.bound_robot is not None and peer.bound_robot != claimed:
        return reject(IDENTITY, f"message claims {claimed!r} on {peer.bound_robot!r}'s connection")
    online = isinstance(message, Connection)
    if online and message.connection_state is ConnectionState.CONNECTIONBROKEN:
        return reject(
            VALIDATION,
            "connection.connectionState: CONNECTIONBROKEN is declared by the fleet, not sent",
        )
    robot = robots.get(claimed)
    new_session = robot is None or robot.peer != peer.connection
    if (
        robot is not None
        and new_session
        and robot.peer is not None
        and robot.connection is ConnectionState.ONLINE
    ):
        return reject(SESSION, f"{claimed!r} is connected on another connection")
    restart = online and message.connection_state is ConnectionState.ONLINE
    counters = {} if new_session or restart or robot is None else robot.header_ids
    last = counters.get(name)
    if last is not None and header.header_id <= last:
        return reject(STALE_HEADER, f"{name} headerId {header.header_id} is not above {last}")
    stamp = parse_timestamp(header.timestamp)
    if isinstance(message, State):
        age = now_wall - stamp
        if age > limits.max_state_age_s:
            return reject(
                STALE_STATE,
                f"state is {age:.1f} s old by the server's clock "
                f"(limit {limits.max_state_age_s:g} s)",
            )
        previous = None if new_session or robot is None else robot.last_stamp
        if previous is not None and stamp < previous:
            return reject(
                STALE_STATE, f"state is {previous - stamp:.3f} s older than the last accepted"
            )
    return Accept(claimed, name, message, stamp, new_session)
