"""Pick trips as a lifelong task stream: robots take whole trips from one queue.

A trip is a route — stops in visiting order, ending back at the station —
planned by the WMS. A robot that finishes its trip takes the next one from
the queue; each stop is one task, so the traffic harness's completions count
stops. When the queue is empty a robot gets no goal and parks where it is.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import numpy as np

from fleet.traffic.lifelong import NO_TASK


class TripTasks:
    """A `TaskStream` over trips of flat goal cells, handed out first come, first served."""

    def __init__(self, trips: Sequence[Sequence[int]]) -> None:
        self._queue: deque[tuple[int, ...]] = deque(tuple(t) for t in trips if len(t))
        self.trip_count = len(self._queue)
        self._current: dict[int, tuple[tuple[int, ...], int, int]] = {}
        self._goals: list[int] = []
        self.trip_of_task: list[int] = []
        self._trips_started = 0

    def next_task(self, robot: int) -> tuple[int, int]:
        trip, index, number = self._current.get(robot, ((), 0, -1))
        if index >= len(trip):
            if not self._queue:
                self._current.pop(robot, None)
                return NO_TASK, -1
            trip, index, number = self._queue.popleft(), 0, self._trips_started
            self._trips_started += 1
        self._current[robot] = (trip, index + 1, number)
        self._goals.append(int(trip[index]))
        self.trip_of_task.append(number)
        return len(self._goals) - 1, int(trip[index])

    def goal_cells(self) -> np.ndarray:
        return np.asarray(self._goals, dtype=np.int64)

    @property
    def trips_started(self) -> int:
        return self._trips_started
