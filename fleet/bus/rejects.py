"""Rejected frames: counted per reason, logged at most once per peer per interval, answered
within a per-connection budget.

A flood of garbage from one peer must not flood the log, nor fill the send queue
towards a peer that never reads its ``error`` answers (unread output towards a
peer that then closes is what reaches libzmq's ``!_io_error`` assertion,
zeromq/libzmq#4364), but every rejection is counted so an operator sees it in
the server's stats. Peer names are attacker-chosen: they are escaped before
they reach a log line and the per-peer tables stay bounded.
"""

from __future__ import annotations

import logging
from collections import Counter

from fleet.bus.logsafe import printable

log = logging.getLogger("fleet.bus")
MAX_PEERS = 10_000


class RejectLog:
    def __init__(self, interval_s: float, logger: logging.Logger = log) -> None:
        self.interval_s = interval_s
        self.counts: Counter[str] = Counter()
        self.suppressed: Counter[str] = Counter()
        self._logger = logger
        self._last_logged: dict[str, float] = {}

    def reject(self, peer: str, reason: str, detail: str, now: float) -> bool:
        """Count a rejection; returns True when it was logged (not rate-limited)."""
        self.counts[reason] += 1
        last = self._last_logged.get(peer)
        if last is not None and now - last < self.interval_s:
            self.suppressed[peer] += 1
            return False
        self._last_logged[peer] = now
        if len(self._last_logged) > MAX_PEERS:  # peers are attacker-chosen: stay bounded
            cutoff = now - self.interval_s
            self._last_logged = {p: t for p, t in self._last_logged.items() if t >= cutoff}
            self.suppressed = Counter(
                {p: n for p, n in self.suppressed.items() if p in self._last_logged}
            )
        skipped = self.suppressed.pop(peer, 0)
        more = f" ({skipped} more suppressed)" if skipped else ""
        self._logger.warning(
            "rejected from %s: %s: %s%s", printable(peer), reason, printable(detail), more
        )
        return True

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class AnswerBudget:
    """A token bucket per connection: at most ``burst`` answers at once, ``rate_per_s`` after.

    ``mute`` silences a connection for ``mute_s`` when its send queue is full (it is
    not reading), so the server never keeps writing to a peer that does not read.
    Pure: the time is passed in.
    """

    def __init__(self, rate_per_s: float, burst: int, mute_s: float = 10.0) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self.mute_s = mute_s
        self._tokens: dict[bytes, tuple[float, float]] = {}
        self._muted: dict[bytes, float] = {}

    def allow(self, peer: bytes, now: float) -> bool:
        """Whether one more answer may go to ``peer`` now (spends a token if so)."""
        until = self._muted.get(peer)
        if until is not None:
            if now < until:
                return False
            del self._muted[peer]
        tokens, since = self._tokens.get(peer, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - since) * self.rate_per_s)
        if tokens < 1.0:
            self._tokens[peer] = (tokens, now)
            return False
        self._tokens[peer] = (tokens - 1.0, now)
        if len(self._tokens) > MAX_PEERS:
            self._forget_idle(now)
        return True

    def mute(self, peer: bytes, now: float) -> None:
        self._muted[peer] = now + self.mute_s
        if len(self._muted) > MAX_PEERS:
            self._muted = {p: t for p, t in self._muted.items() if t > now}

    def _forget_idle(self, now: float) -> None:
        """Drop buckets that have refilled: forgetting them changes no decision."""
        refill_s = self.burst / self.rate_per_s
        self._tokens = {p: v for p, v in self._tokens.items() if now - v[1] < refill_s}
