"""Watch a running fleet: a read-only `FleetSubscriber` feeding a `Viewer` (``warehouse view``).

The subscriber asks for the snapshot first and then applies the PUB updates
(the Clone pattern, docs/protocol.md), so a viewer that joins late still
starts from the whole fleet. The viewer is made read-only by the caller: a
supervisor watching the floor from outside never commands it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from core.clock import Clock
from fleet.bus.subscriber import FleetSubscriber
from sim.viewer.live import Viewer

SNAPSHOT_TOPIC = "fleet"
SNAPSHOT_KEY = "snapshot"
"""Where the fleet manager publishes its snapshot (docs/fleet.md)."""
FRAME_S = 1 / 30


class NoSnapshot(TimeoutError):
    """No fleet snapshot arrived in time: nothing listening, no manager, or our key refused."""


def first_snapshot(
    subscriber: FleetSubscriber,
    timeout_s: float,
    clock: Clock = time.monotonic,
) -> Mapping[str, Any]:
    """The fleet snapshot once one exists: the Clone snapshot's, else the first PUB update's."""
    deadline = clock() + timeout_s
    try:
        subscriber.snapshot(timeout_s)
    except TimeoutError:
        raise NoSnapshot(f"no answer within {timeout_s:g} s") from None
    while True:
        value = subscriber.values.get((SNAPSHOT_TOPIC, SNAPSHOT_KEY))
        if isinstance(value, Mapping):
            return value
        remaining = deadline - clock()
        if remaining <= 0:
            raise NoSnapshot(
                f"the server answered but published no fleet snapshot in {timeout_s:g} s"
            )
        subscriber.poll(min(remaining, 0.1))


def watch(
    subscriber: FleetSubscriber,
    viewer: Viewer,
    *,
    timeout_s: float,
    frames: int | None = None,
    frame_s: float = FRAME_S,
) -> int:
    """Show the fleet for ``frames`` frames (None: until the window closes); returns the count.

    Each frame after the first waits up to ``frame_s`` for updates and shows
    the newest snapshot; a frame without news redraws the last one, so the
    window keeps answering its input.
    """
    shown = first_snapshot(subscriber, timeout_s)
    viewer.update(shown)
    drawn = 1
    while viewer.running and (frames is None or drawn < frames):
        subscriber.poll(frame_s)
        value = subscriber.values.get((SNAPSHOT_TOPIC, SNAPSHOT_KEY))
        fresh = value if isinstance(value, Mapping) and value is not shown else None
        if fresh is not None:
            shown = fresh
        viewer.update(fresh)
        drawn += 1
    return drawn
