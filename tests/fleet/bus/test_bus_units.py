"""Pure parts of the bus: liveness with an injected clock, rate-limited reject log, ack tracking."""

from __future__ import annotations

import logging
import re

import pytest

from core.config import load
from fleet.bus.acks import AckResult, AckTracker
from fleet.bus.config import BusConfig
from fleet.bus.liveness import Liveness
from fleet.bus.rejects import RejectLog
from fleet.protocol import (
    Action,
    ActionState,
    ActionStatus,
    BlockingType,
    Error,
    ErrorLevel,
    ErrorReference,
    InstantActions,
    Order,
)
from fleet.protocol.examples import header, order, state
from wms.errors import InputError


def test_liveness_breaks_after_the_timeout_only() -> None:
    """A robot expires strictly after timeout seconds of silence; any message renews it."""
    live = Liveness(3.0)
    assert live.heard("a", 10.0) is True
    assert live.heard("a", 11.0) is False
    assert live.expired(14.0) == []
    assert live.next_deadline() == 14.0
    assert live.expired(14.01) == ["a"]
    assert live.expired(100.0) == []  # reported once
    assert live.heard("a", 100.0) is True


def test_liveness_forget_stops_tracking() -> None:
    """An OFFLINE robot is not expected to heartbeat."""
    live = Liveness(1.0)
    live.heard("a", 0.0)
    live.forget("a")
    assert live.expired(50.0) == [] and live.next_deadline() is None


def test_reject_log_counts_everything_but_logs_once_per_interval(caplog) -> None:
    """Rejections are all counted; one peer is logged at most once per interval."""
    log = RejectLog(60.0, logging.getLogger("test.rejects"))
    with caplog.at_level(logging.WARNING, logger="test.rejects"):
        logged = [log.reject("acme/r1", "validation", "bad", t) for t in (0.0, 1.0, 59.0)]
        logged.append(log.reject("acme/r2", "not_msgpack", "bad", 2.0))
        logged.append(log.reject("acme/r1", "validation", "bad", 60.5))
    assert logged == [True, False, False, True, True]
    assert log.counts == {"validation": 4, "not_msgpack": 1}
    assert "2 more suppressed" in caplog.records[-1].getMessage()
    assert len(caplog.records) == 3


def _order(update_id: int = 0) -> Order:
    o = order()
    return Order(header(), o.order_id, update_id, o.nodes, o.edges)


def test_order_ack_needs_matching_ids() -> None:
    """A state acknowledges an order when it shows its orderId and an update at least as new."""
    acks = AckTracker(0.5, 3)
    acks.track("acme/r1", _order(2), b"body", 0.0)
    s = state()
    older = s.__class__(**{**s.__dict__, "errors": (), "order_update_id": 1})
    assert acks.on_state("acme/r1", older, 0.1) == []
    newer = s.__class__(**{**s.__dict__, "errors": (), "order_update_id": 2})
    (ack,) = acks.on_state("acme/r1", newer, 0.2)
    assert ack.result is AckResult.ACCEPTED and ack.rtt_s == pytest.approx(0.2)
    assert acks.pending() == 0


def test_order_rejection_is_an_answer() -> None:
    """An error referencing the order's ids acknowledges it as REJECTED."""
    acks = AckTracker(0.5, 3)
    acks.track("acme/r1", _order(7), b"body", 0.0)
    error = Error(
        "orderUpdateError",
        ErrorLevel.WARNING,
        (ErrorReference("orderId", "order-42"), ErrorReference("orderUpdateId", "7")),
    )
    s = state()
    (ack,) = acks.on_state("acme/r1", s.__class__(**{**s.__dict__, "errors": (error,)}), 1.0)
    assert ack.result is AckResult.REJECTED


def test_instant_actions_ack_needs_every_action_id() -> None:
    """Instant actions are acknowledged only when all their actionIds are reported."""
    acks = AckTracker(0.5, 3)
    message = InstantActions(
        header(),
        (Action("startPause", "x", BlockingType.HARD), Action("stopPause", "y", BlockingType.HARD)),
    )
    acks.track("acme/r1", message, b"body", 0.0)
    s = state()
    one = s.__class__(**{**s.__dict__, "action_states": (ActionState("x", ActionStatus.FINISHED),)})
    assert acks.on_state("acme/r1", one, 0.1) == []
    both = s.__class__(
        **{
            **s.__dict__,
            "action_states": (
                ActionState("x", ActionStatus.FINISHED),
                ActionState("y", ActionStatus.RUNNING),
            ),
        }
    )
    assert acks.on_state("acme/r1", both, 0.2)[0].action_ids == {"x", "y"}


def test_resends_until_the_budget_is_spent() -> None:
    """Unacknowledged commands are resent every resend_after_s, then given up as UNACKNOWLEDGED."""
    acks = AckTracker(0.5, 2)
    acks.track("acme/r1", _order(), b"same-bytes", 0.0)
    assert acks.due(0.4) == ([], [])
    resend, _ = acks.due(0.5)
    assert [p.body for p in resend] == [b"same-bytes"] and resend[0].attempts == 2
    resend, _ = acks.due(1.0)
    assert resend[0].attempts == 3
    resend, given_up = acks.due(1.5)
    assert resend == [] and given_up[0].result is AckResult.UNACKNOWLEDGED
    assert acks.pending() == 0 and acks.next_due() is None


def test_bus_config_is_strict() -> None:
    """Unknown keys, wrong types and non-positive values in [bus] are input errors."""
    assert load(BusConfig, {}, "bus").liveness_timeout_s == 3.0
    assert load(BusConfig, {"missed_heartbeats": 5}, "bus").liveness_timeout_s == 5.0
    for bad, key in (
        ({"heartbeat": 1}, "bus.heartbeat: unknown key"),
        ({"missed_heartbeats": "3"}, "bus.missed_heartbeats: must be an integer"),
        ({"resend_after_s": 0}, "bus.resend_after_s: must be positive"),
        ({"max_message_bytes": 10}, "bus.max_message_bytes: 10 is outside"),
    ):
        with pytest.raises(InputError, match=re.escape(key)):
            load(BusConfig, bad, "bus")


def test_reject_log_memory_is_bounded() -> None:
    """Garbage from ever-new peer ids cannot grow the rate-limit table without bound."""
    from fleet.bus import rejects

    log = RejectLog(1.0, logging.getLogger("test.rejects.bounded"))
    for i in range(rejects.MAX_PEERS + 50):
        log.reject(f"peer-{i}", "framing", "x", now=i * 0.01)
    assert len(log._last_logged) <= rejects.MAX_PEERS
    assert log.counts["framing"] == rejects.MAX_PEERS + 50
