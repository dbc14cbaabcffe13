"""Pick trips as a task stream."""

from __future__ import annotations

from fleet.traffic.lifelong import NO_TASK
from fleet.trips import TripTasks


def test_robot_finishes_its_own_trip_before_taking_the_next() -> None:
    """Each robot gets the stops of one trip in order; trips go first come, first served."""
    tasks = TripTasks([[1, 2, 3], [7, 8], [9]])
    assert tasks.next_task(0) == (0, 1)
    assert tasks.next_task(1) == (1, 7)
    assert tasks.next_task(0) == (2, 2)
    assert tasks.next_task(1) == (3, 8)
    assert tasks.next_task(1) == (4, 9)
    assert tasks.next_task(0) == (5, 3)
    assert tasks.next_task(0) == (NO_TASK, -1)
    assert tasks.trip_of_task == [0, 1, 0, 1, 2, 0]
    assert tasks.goal_cells().tolist() == [1, 7, 2, 8, 9, 3]


def test_empty_trips_are_dropped() -> None:
    """An empty trip never reaches a robot."""
    tasks = TripTasks([[], [5]])
    assert tasks.trip_count == 1
    assert tasks.next_task(3) == (0, 5)
    assert tasks.next_task(3) == (NO_TASK, -1)
