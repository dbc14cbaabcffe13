"""Action status transitions."""

from __future__ import annotations

from fleet.protocol import ActionStatus
from fleet.protocol.actions import can_transition

W, INIT, R, P, F, X = (
    ActionStatus.WAITING,
    ActionStatus.INITIALIZING,
    ActionStatus.RUNNING,
    ActionStatus.PAUSED,
    ActionStatus.FINISHED,
    ActionStatus.FAILED,
)


def test_allowed_transitions() -> None:
    """The lifecycle WAITING -> INITIALIZING -> RUNNING <-> PAUSED -> FINISHED | FAILED holds."""
    allowed = {
        (W, INIT),
        (INIT, R),
        (R, P),
        (P, R),
        (R, F),
        (R, X),
        (P, F),
        (P, X),
        (W, F),
        (W, X),
        (W, R),
    }
    for old, new in allowed:
        assert can_transition(old, new), (old, new)


def test_forbidden_transitions() -> None:
    """No way back, no pause before running, and terminal states are final."""
    forbidden = {(R, INIT), (INIT, W), (W, P), (INIT, P), (F, R), (X, R), (F, X), (X, F), (P, INIT)}
    for old, new in forbidden:
        assert not can_transition(old, new), (old, new)
