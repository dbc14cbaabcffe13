"""The ``[bus]`` config section: liveness, resend and size limits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fleet.protocol.codec import MAX_MESSAGE_BYTES
from wms.config_tables import check_keys, get_float, get_int
from wms.errors import InputError

MESSAGE_BYTES_RANGE = (1024, 1 << 30)


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

    @property
    def liveness_timeout_s(self) -> float:
        return self.heartbeat_interval_s * self.missed_heartbeats

    @classmethod
    def from_section(cls, section: Mapping[str, Any], where: str = "bus") -> BusConfig:
        defaults = cls()
        check_keys(section, [f for f in cls.__dataclass_fields__], where)
        config = cls(
            heartbeat_interval_s=get_float(
                section, "heartbeat_interval_s", where, defaults.heartbeat_interval_s
            ),
            missed_heartbeats=get_int(
                section, "missed_heartbeats", where, defaults.missed_heartbeats
            ),
            resend_after_s=get_float(section, "resend_after_s", where, defaults.resend_after_s),
            max_resends=get_int(section, "max_resends", where, defaults.max_resends),
            max_message_bytes=get_int(
                section, "max_message_bytes", where, defaults.max_message_bytes
            ),
            reject_log_interval_s=get_float(
                section, "reject_log_interval_s", where, defaults.reject_log_interval_s
            ),
        )
        for name in cls.__dataclass_fields__:
            if getattr(config, name) <= 0:
                raise InputError(f"{where}.{name}", "must be positive")
        low, high = MESSAGE_BYTES_RANGE
        if not low <= config.max_message_bytes <= high:
            raise InputError(
                f"{where}.max_message_bytes",
                f"{config.max_message_bytes} is outside {low}..{high} (a state message "
                "needs about a kilobyte; the socket limit is four times this)",
            )
        return config
