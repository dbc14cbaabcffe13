"""A clock that only moves when told: tests and the demo write history at chosen times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class ManualClock:
    """Callable like `utc_now`; ``advance`` moves it forward, never back."""

    def __init__(self, start: datetime) -> None:
        self._now = start if start.tzinfo else start.replace(tzinfo=UTC)

    def __call__(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("a clock does not run backwards")
        self._now += delta
        return self._now
