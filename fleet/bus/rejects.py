"""Rejected frames: counted per reason, logged at most once per robot per interval.

A flood of garbage from one peer must not flood the log, but every rejection
is counted so an operator sees it in the server's stats.
"""

from __future__ import annotations

import logging
from collections import Counter

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
        skipped = self.suppressed.pop(peer, 0)
        more = f" ({skipped} more suppressed)" if skipped else ""
        self._logger.warning("rejected from %s: %s: %s%s", peer, reason, detail, more)
        return True

    @property
    def total(self) -> int:
        return sum(self.counts.values())
