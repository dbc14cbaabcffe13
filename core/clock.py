"""The clock every timed component takes instead of calling `time` itself.

A clock is anything called with no arguments that returns monotonic seconds as
a float: ``time.monotonic`` in production, the simulated time in lockstep runs
and tests, so the same adapter code runs in real time or as fast as the machine
allows, and a test can move time without sleeping. Only differences between
two readings mean anything (the origin is arbitrary). Wall-clock time (seconds
since the Unix epoch, for message timestamps) is a separate `WallClock`, because
it may jump and must never be used to measure a duration.
"""

from __future__ import annotations

from typing import Protocol


class Clock(Protocol):
    """Monotonic seconds: never decreases between two calls."""

    def __call__(self) -> float: ...


class WallClock(Protocol):
    """Seconds since the Unix epoch (``time.time``): for timestamps, not for durations."""

    def __call__(self) -> float: ...
