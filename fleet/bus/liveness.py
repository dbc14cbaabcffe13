"""Heartbeat bookkeeping: who was heard from when, and who has gone silent.

Pure (the time is passed in), so offline detection is tested without waiting.
Robots are kept in order of last contact (times passed in must not go backwards),
so finding the silent ones and the
next deadline costs O(1) per call however many robots are connected.
"""

from __future__ import annotations

from collections import OrderedDict


class Liveness:
    """Any message from a robot counts as a heartbeat; silence past ``timeout_s`` breaks it."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._last_seen: OrderedDict[str, float] = OrderedDict()

    def heard(self, robot: str, now: float) -> bool:
        """Record a message; True when the robot was not considered alive before."""
        fresh = robot not in self._last_seen
        self._last_seen[robot] = now
        self._last_seen.move_to_end(robot)
        return fresh

    def forget(self, robot: str) -> None:
        self._last_seen.pop(robot, None)

    def expired(self, now: float) -> list[str]:
        """Robots silent for longer than the timeout; they are forgotten until heard again."""
        gone = []
        while self._last_seen:
            robot, seen = next(iter(self._last_seen.items()))
            if now - seen <= self.timeout_s:
                break
            del self._last_seen[robot]
            gone.append(robot)
        return gone

    def last_seen(self, robot: str) -> float | None:
        return self._last_seen.get(robot)

    def next_deadline(self) -> float | None:
        """When the next robot would expire if it stays silent."""
        if not self._last_seen:
            return None
        return next(iter(self._last_seen.values())) + self.timeout_s
