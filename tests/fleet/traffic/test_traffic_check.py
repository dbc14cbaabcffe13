"""The independent checker catches every kind of illegal step."""

from __future__ import annotations

import numpy as np

from fleet.traffic.check import check_step, validate_log
from fleet.traffic.planner import ActionModel

OPEN = np.ones((3, 4), dtype=bool)


def kinds(before, after, **kw) -> list[str]:
    return [
        v.kind for v in check_step(OPEN if "nav" not in kw else kw.pop("nav"), before, after, **kw)
    ]


def test_legal_step_passes() -> None:
    """Waits and single moves into free distinct cells are legal."""
    assert kinds([[0, 0], [1, 1]], [[0, 1], [1, 1]]) == []


def test_vertex_conflict() -> None:
    """Two robots ending in one cell is a vertex conflict."""
    assert kinds([[0, 0], [0, 2]], [[0, 1], [0, 1]]) == ["vertex"]


def test_swap_conflict() -> None:
    """Two robots trading cells is a swap."""
    assert kinds([[0, 0], [0, 1]], [[0, 1], [0, 0]]) == ["swap"]


def test_following_is_not_a_swap() -> None:
    """A robot moving into a cell its occupant leaves (a train) is legal."""
    assert kinds([[0, 0], [0, 1]], [[0, 1], [0, 2]]) == []


def test_jump_and_blocked() -> None:
    """Moving two cells, or into a blocked or off-floor cell, is caught."""
    nav = OPEN.copy()
    nav[2, 3] = False
    assert kinds([[0, 0]], [[0, 2]], nav=nav) == ["jump"]
    assert kinds([[2, 2]], [[2, 3]], nav=nav) == ["blocked"]
    assert kinds([[0, 0]], [[-1, 0]], nav=nav) == ["off-floor"]
    assert kinds([[1, 1]], [[1, 2]], blocked=np.array([[1, 2]])) == ["blocked"]


def test_rotation_rules() -> None:
    """Rotation model: forward only where facing, turns only by 90 degrees in place."""
    rot = {"model": ActionModel.ROTATION}
    # facing east (1): forward east ok, moving north is not
    assert kinds([[1, 1]], [[1, 2]], headings_before=[1], headings_after=[1], **rot) == []
    assert kinds([[1, 1]], [[0, 1]], headings_before=[1], headings_after=[1], **rot) == [
        "illegal-action"
    ]
    # moving and turning at once is illegal; a u-turn in one tick too
    assert kinds([[1, 1]], [[1, 2]], headings_before=[1], headings_after=[2], **rot) == [
        "illegal-action"
    ]
    assert kinds([[1, 1]], [[1, 1]], headings_before=[1], headings_after=[3], **rot) == [
        "illegal-action"
    ]
    assert kinds([[1, 1]], [[1, 1]], headings_before=[1], headings_after=[0], **rot) == []


def test_validate_log_checks_completions() -> None:
    """A completion away from its goal cell is reported."""
    positions = np.array([[[0, 0]], [[0, 1]]], dtype=np.int32)
    goals = np.array([[0, 1], [2, 2]], dtype=np.int32)
    assert validate_log(OPEN, positions, goals, np.array([[1, 0, 0]])) == []
    assert [v.kind for v in validate_log(OPEN, positions, goals, np.array([[1, 0, 1]]))] == [
        "completion"
    ]
