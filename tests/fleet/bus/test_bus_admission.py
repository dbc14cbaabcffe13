"""The pure admission rules, the answer budget and log escaping: no sockets, no clock."""

from __future__ import annotations

import dataclasses
import time

import msgpack
from bus_helpers import wire_state

from fleet.bus.admission import Accept, Limits, Oversized, Peer, Reject, admit
from fleet.bus.clone import Applied, CloneStore
from fleet.bus.logsafe import printable
from fleet.bus.rejects import AnswerBudget
from fleet.protocol import ConnectionState, encode, timestamp
from fleet.protocol.examples import connection

LIMITS = Limits(max_message_bytes=256 * 1024, max_state_age_s=10.0)
A, B = b"\x00conn-a", b"\x00conn-b"


@dataclasses.dataclass
class Robot:
    connection: ConnectionState = ConnectionState.ONLINE
    peer: bytes | None = A
    header_ids: dict[str, int] = dataclasses.field(default_factory=dict)
    last_stamp: float | None = None


def _state(header_id: int, stamp: float, serial: str = "r1") -> list[bytes]:
    wire = wire_state("acme", serial, header_id, timestamp=timestamp(stamp))
    return [b"state", msgpack.packb(wire, use_bin_type=True)]


def test_a_connected_robot_cannot_be_taken_over() -> None:
    """Another connection claiming an ONLINE robot is refused; once it is not, it takes over."""
    now = time.time()
    robots = {"acme/r1": Robot()}
    verdict = admit(_state(5, now), Peer(B, False), robots, LIMITS, now)
    assert isinstance(verdict, Reject) and verdict.reason == "session"
    for state in (ConnectionState.CONNECTIONBROKEN, ConnectionState.OFFLINE):
        robots["acme/r1"].connection = state
        verdict = admit(_state(5, now), Peer(B, False), robots, LIMITS, now)
        assert isinstance(verdict, Accept) and verdict.new_session


def test_a_new_session_restarts_header_and_time_order() -> None:
    """Counters are per session: the holder must count up, a new connection may start over."""
    now = time.time()
    robots = {"acme/r1": Robot(header_ids={"state": 9}, last_stamp=now)}
    holder = Peer(A, False, bound_robot="acme/r1")
    stale = admit(_state(9, now), holder, robots, LIMITS, now)
    assert isinstance(stale, Reject) and stale.reason == "stale_header"
    older = admit(_state(10, now - 1), holder, robots, LIMITS, now)
    assert isinstance(older, Reject) and older.reason == "stale_state"
    robots["acme/r1"].connection = ConnectionState.CONNECTIONBROKEN
    fresh = admit(_state(0, now - 1), Peer(B, False), robots, LIMITS, now)
    assert isinstance(fresh, Accept) and fresh.new_session


def test_identity_rules_for_bound_connections_and_keys() -> None:
    """A bound connection speaks for one robot; under CURVE only for its key's identity."""
    now = time.time()
    bound = admit(_state(1, now, "r2"), Peer(A, False, bound_robot="acme/r1"), {}, LIMITS, now)
    assert isinstance(bound, Reject) and bound.reason == "identity"
    keyed = admit(_state(1, now, "r2"), Peer(A, True, key_identity="acme/r1"), {}, LIMITS, now)
    assert isinstance(keyed, Reject) and keyed.reason == "identity"
    revoked = admit(_state(1, now), Peer(A, True, key_identity=None), {}, LIMITS, now)
    assert isinstance(revoked, Reject) and revoked.reason == "revoked"


def test_old_states_and_bad_framing_are_refused() -> None:
    """A state older than max_state_age_s is stale; three frames are a framing error."""
    now = time.time()
    old = admit(_state(1, now - 11), Peer(A, False), {}, LIMITS, now)
    assert isinstance(old, Reject) and old.reason == "stale_state"
    assert admit([*_state(1, now), b""], Peer(A, False), {}, LIMITS, now).reason == "framing"
    online = admit(list(encode(connection())), Peer(A, False), {}, LIMITS, now)
    assert isinstance(online, Accept)  # connection messages carry no freshness rule


def test_answer_budget_bursts_then_refills_and_mutes() -> None:
    """Burst answers at once, then the rate; a muted peer gets nothing until the mute ends."""
    budget = AnswerBudget(rate_per_s=2.0, burst=3, mute_s=10.0)
    assert [budget.allow(A, 0.0) for _ in range(4)] == [True, True, True, False]
    assert budget.allow(A, 0.5) and not budget.allow(A, 0.5)
    budget.mute(B, 0.0)
    assert not budget.allow(B, 9.9) and budget.allow(B, 10.0)


def test_printable_escapes_control_characters_only() -> None:
    """Peer strings stay readable but can hold no newline, NUL or escape sequence."""
    assert printable("acme/r1") == "acme/r1"
    assert printable("a\nb\x00c\x1b[31m") == "a\\nb\\x00c\\x1b[31m"
    assert printable(b"\xff\n") == "\\\\xff\\n"
    assert printable("x" * 300).endswith("...") and len(printable("x" * 300)) == 203


def test_clone_store_numbers_applies_and_detects_gaps() -> None:
    """The server numbers updates; a follower applies the next, skips known, reports gaps."""
    server: CloneStore[str, int] = CloneStore()
    assert [server.put("a", 1), server.put("b", 2), server.put("a", 3)] == [1, 2, 3]
    assert list(server.in_order()) == [("b", 2, 2), ("a", 3, 3)]
    viewer: CloneStore[str, int] = CloneStore()
    viewer.load({k: (seq, v) for k, seq, v in server.in_order()}, server.seq)
    assert viewer.apply(3, "a", 3) is Applied.KNOWN
    assert viewer.apply(5, "a", 5) is Applied.GAP
    assert viewer.apply(4, "b", 4) is Applied.APPLIED and viewer.values() == {"a": 3, "b": 4}


def test_a_body_the_server_did_not_copy_is_refused_unread() -> None:
    """A frame above the message limit reaches admission as its size only: `oversized`."""
    now = time.time()
    verdict = admit([b"state", Oversized(300_000)], Peer(A, False), {}, LIMITS, now)
    assert isinstance(verdict, Reject) and verdict.reason == "oversized"
    assert verdict.topic == b"state" and "300000 bytes" in verdict.detail
