"""Cell reservations: never two holders, freed only behind the robot."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleet.manager.release import ReservationError, Reservations


def test_grant_refuses_a_held_cell_and_frees_behind() -> None:
    """A cell another robot holds is refused; passing a node frees the cells behind it."""
    res = Reservations()
    assert res.place("a", (0, 0)) and res.place("b", (0, 2))
    assert res.grant("a", (0, 1))
    assert not res.grant("b", (0, 1))
    assert res.report("a", 2) == [(0, 0)]
    assert res.holder((0, 0)) is None and res.holder((0, 1)) == "a"
    with pytest.raises(ReservationError):
        res.report("a", 4)  # not released
    with pytest.raises(ReservationError):
        res.report("a", 1)  # an edge, not a node
    res.check()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.sampled_from(["grant", "report"]), st.integers(0, 8)),
        max_size=60,
    )
)
def test_random_grants_never_share_a_cell(ops: list[tuple[int, str, int]]) -> None:
    """Whatever is granted and reported, in any order, no cell ever has two holders."""
    res = Reservations()
    robots = [f"r{i}" for i in range(4)]
    for i, robot in enumerate(robots):
        assert res.place(robot, (i, 0))
    for who, op, value in ops:
        robot = robots[who]
        drive = res.drives[robot]
        if op == "grant":
            here = drive.frontier
            cell = (here[0] + (value % 3) - 1, here[1] + (value // 3) % 2)
            res.grant(robot, cell)
        else:
            target = drive.reached + value % (drive.lag + 1)
            res.report(robot, 2 * target)
        res.check()
