"""Heartbeat bookkeeping: who was heard from when, and who has gone silent.

Pure (the time is passed in), so offline detection is tested without waiting.
"""

from __future__ import annotations


class Liveness:
    """Any message from a robot counts as a heartbeat; silence past ``timeout_s`` breaks it."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._last_seen: dict[str, float] = {}

    def heard(self, robot: str, now: float) -> bool:
        """Record a message; True when the robot was not considered alive before."""
        fresh = robot not in self._last_seen
        self._last_seen[robot] = now
        return fresh

    def forget(self, robot: str) -> None:
        self._last_seen.pop(robot, None)

    def expired(self, now: float) -> list[str]:
        """Robots silent for longer than the timeout; they are forgotten until heard again."""
        gone = [r for r, t in self._last_seen.items() if now - t > self.timeout_s]
        for robot in gone:
            del self._last_seen[robot]
        return gone

    def last_seen(self, robot: str) -> float | None:
        return self._last_seen.get(robot)

    def next_deadline(self) -> float | None:
        """When the next robot would expire if it stays silent."""
        if not self._last_seen:
            return None
        return min(self._last_seen.values()) + self.timeout_s
