"""The ``[bus]`` config section: liveness, resend, answer and size limits."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fleet.protocol.codec import MAX_MESSAGE_BYTES
from wms.config_tables import check_keys, get_float, get_int
from wms.errors import InputError

MESSAGE_BYTES_RANGE = (1024, 1 << 30)
FRAME_SLACK_BYTES = 64
"""The transport limit (ZMQ_MAXMSGSIZE) is the body limit plus this: a body up to
the limit always arrives, also under CURVE (whose 33-byte envelope libzmq counts)."""


@dataclass(frozen=True)
class BusConfig:
    heartbeat_interval_s: float = 1.0
    """Robots send at least one message (state or visualization) per interval."""
    missed_heartbeats: int = 3
    """A robot silent for this many intervals is CONNECTIONBROKEN."""
    resend_after_s: float = 0.5
    """An order or instant action not acknowledged by a state within this is resent."""
    max_resends: int = 10
    max_message_bytes: int = MAX_MESSAGE_BYTES
    reject_log_interval_s: float = 60.0
    """Rejections are logged at most once per robot per interval (always counted)."""
    max_state_age_s: float = 10.0
    """A state older than this by the server's clock is rejected (queued during an outage).
    It is also the clock skew a robot may have: keep robot clocks synchronised (NTP)."""
    error_answer_burst: int = 20
    """``error`` answers one connection may get at once before the rate limit applies."""
    error_answers_per_s: float = 2.0
    """Sustained ``error`` answers per connection; further rejections are counted only."""

    @property
    def liveness_timeout_s(self) -> float:
        return self.heartbeat_interval_s * self.missed_heartbeats

    @property
    def max_frame_bytes(self) -> int:
        """ZMQ_MAXMSGSIZE: a larger frame makes libzmq drop the sender's connection."""
        return self.max_message_bytes + FRAME_SLACK_BYTES

    @classmethod
    def from_section(cls, section: Mapping[str, Any], where: str = "bus") -> BusConfig:
        defaults = cls()
        fields = dataclasses.fields(cls)
        check_keys(section, [f.name for f in fields], where)
        values = {}
        for f in fields:
            default = getattr(defaults, f.name)
            if isinstance(default, int):
                values[f.name] = get_int(section, f.name, where, default)
            else:
                values[f.name] = float(get_float(section, f.name, where, default))
        config = cls(**values)
        for f in fields:
            if getattr(config, f.name) <= 0:
                raise InputError(f"{where}.{f.name}", "must be positive")
        low, high = MESSAGE_BYTES_RANGE
        if not low <= config.max_message_bytes <= high:
            raise InputError(
                f"{where}.max_message_bytes",
                f"{config.max_message_bytes} is outside {low}..{high} (a state message "
                f"needs about a kilobyte; the socket limit is {FRAME_SLACK_BYTES} bytes more)",
            )
        return config
