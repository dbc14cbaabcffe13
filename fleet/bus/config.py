"""The ``[bus]`` config section: liveness, resend, answer and size limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from core.config import Positive, Where
from fleet.protocol.codec import MAX_MESSAGE_BYTES

MESSAGE_BYTES_RANGE = (1024, 1 << 30)
FRAME_SLACK_BYTES = 64
"""The transport limit (ZMQ_MAXMSGSIZE) is the body limit plus this: a body up to
the limit always arrives, also under CURVE (whose 33-byte envelope libzmq counts)."""


@dataclass(frozen=True)
class BusConfig:
    heartbeat_interval_s: Annotated[float, Positive] = 1.0
    """Robots send at least one message (state or visualization) per interval."""
    missed_heartbeats: Annotated[int, Positive] = 3
    """A robot silent for this many intervals is CONNECTIONBROKEN."""
    resend_after_s: Annotated[float, Positive] = 0.5
    """An order or instant action not acknowledged by a state within this is resent."""
    max_resends: Annotated[int, Positive] = 10
    max_message_bytes: Annotated[int, Positive] = MAX_MESSAGE_BYTES
    reject_log_interval_s: Annotated[float, Positive] = 60.0
    """Rejections are logged at most once per robot per interval (always counted)."""
    max_state_age_s: Annotated[float, Positive] = 10.0
    """A state older than this by the server's clock is rejected (queued during an outage).
    It is also the clock skew a robot may have: keep robot clocks synchronised (NTP)."""
    error_answer_burst: Annotated[int, Positive] = 20
    """``error`` answers one connection may get at once before the rate limit applies."""
    error_answers_per_s: Annotated[float, Positive] = 2.0
    """Sustained ``error`` answers per connection; further rejections are counted only."""

    @property
    def liveness_timeout_s(self) -> float:
        return self.heartbeat_interval_s * self.missed_heartbeats

    @property
    def max_frame_bytes(self) -> int:
        """ZMQ_MAXMSGSIZE: a larger frame makes libzmq drop the sender's connection."""
        return self.max_message_bytes + FRAME_SLACK_BYTES

    def validate(self, where: Where) -> None:
        """Called by `core.config.load`: the message limit is one a state fits in."""
        low, high = MESSAGE_BYTES_RANGE
        if not low <= self.max_message_bytes <= high:
            raise (where / "max_message_bytes").error(
                f"{self.max_message_bytes} is outside {low}..{high} (a state message "
                f"needs about a kilobyte; the socket limit is {FRAME_SLACK_BYTES} bytes more)",
            )
