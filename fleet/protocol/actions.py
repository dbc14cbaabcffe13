"""Action status lifecycle and the instant actions the bus knows.

VDA 5050: WAITING -> INITIALIZING -> RUNNING <-> PAUSED -> FINISHED | FAILED.
A state message samples the status, so a report may skip forward (an instant
``startPause`` goes WAITING -> FINISHED between two states), but it may never go
back, except RUNNING <-> PAUSED, and FINISHED / FAILED are final.
"""

from __future__ import annotations

from typing import Final

from fleet.protocol.messages import ActionStatus

_RANK: Final = {
    ActionStatus.WAITING: 0,
    ActionStatus.INITIALIZING: 1,
    ActionStatus.RUNNING: 2,
    ActionStatus.PAUSED: 2,
    ActionStatus.FINISHED: 3,
    ActionStatus.FAILED: 3,
}

TERMINAL: Final = frozenset({ActionStatus.FINISHED, ActionStatus.FAILED})

INSTANT_ACTIONS: Final = frozenset(
    {
        "startPause",
        "stopPause",
        "cancelOrder",
        "startCharging",
        "stopCharging",
        "stateRequest",
        "factsheetRequest",
        "pick",
        "drop",
    }
)
"""Instant action types every controller on this bus understands."""

IMMEDIATE_ACTIONS: Final = frozenset(
    {"startPause", "stopPause", "cancelOrder", "stateRequest", "factsheetRequest"}
)
"""Instant actions the order state machine completes itself; the rest the controller runs."""


def can_transition(old: ActionStatus, new: ActionStatus) -> bool:
    """Whether a reported status may follow ``old`` (equal status is allowed: no change)."""
    if old == new:
        return True
    if old in TERMINAL:
        return False
    if new is ActionStatus.PAUSED:
        return old is ActionStatus.RUNNING
    if old is ActionStatus.PAUSED:
        return new in (ActionStatus.RUNNING, *TERMINAL)
    return _RANK[new] > _RANK[old]
