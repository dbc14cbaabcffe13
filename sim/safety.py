"""Physical safety, judged on where robots are, never on what the planner intended.

Fed samples ``(time_s, {robot: cell})`` in time order, `SafetyMonitor` flags:

* ``SHARED_CELL``: two or more robots in one cell (once when it starts, not at
  every sample while it lasts);
* ``SWAP``: two robots that exchanged cells between consecutive samples;
* ``JUMP``: a robot that moved further than one 4-neighbour step between
  samples (a teleport, or samples too far apart to judge swaps);
* ``BLOCKED_CELL``: a robot in a cell that is not navigable (when a mask is given).

It shares no code with the fleet's planner or checker (`fleet.traffic.check`).
Samples must come from one consistent view of the world: reported states arrive
asynchronously, so two robots that swapped may never show it in their reports;
`sim.runner` therefore feeds the true cells of every robot at every sim step.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from wms.layout import Cell


class ViolationKind(enum.Enum):
    SHARED_CELL = "shared_cell"
    SWAP = "swap"
    JUMP = "jump"
    BLOCKED_CELL = "blocked_cell"


@dataclass(frozen=True)
class Violation:
    """What happened, when, to whom; ``cells`` line up with ``robots`` (for a swap: from-cells)."""

    kind: ViolationKind
    time_s: float
    robots: tuple[str, ...]
    cells: tuple[Cell, ...]


class SafetyMonitor:
    """Checks each new sample against the previous one; keeps every violation found."""

    def __init__(self, navigable: np.ndarray | None = None) -> None:
        self.navigable = navigable
        self.violations: list[Violation] = []
        self._previous: dict[str, Cell] = {}
        self._shared: set[tuple[Cell, tuple[str, ...]]] = set()
        self.blocked: set[Cell] = set()
        """Cells blocked at run time (a spilled pallet): entering one is a violation."""

    def observe(self, time_s: float, cells: Mapping[str, Cell]) -> list[Violation]:
        """Check one sample; returns the violations it revealed (also kept in `violations`)."""
        found = [
            *self._shared_cells(time_s, cells),
            *self._moves(time_s, cells),
            *self._blocked(time_s, cells),
        ]
        self._previous = dict(cells)
        self.violations.extend(found)
        return found

    def _shared_cells(self, time_s: float, cells: Mapping[str, Cell]) -> list[Violation]:
        by_cell: defaultdict[Cell, list[str]] = defaultdict(list)
        for robot, cell in cells.items():
            by_cell[cell].append(robot)
        shared = {
            (cell, tuple(sorted(robots))) for cell, robots in by_cell.items() if len(robots) > 1
        }
        new = sorted(shared - self._shared)
        self._shared = shared
        return [
            Violation(ViolationKind.SHARED_CELL, time_s, robots, (cell,) * len(robots))
            for cell, robots in new
        ]

    def _moves(self, time_s: float, cells: Mapping[str, Cell]) -> list[Violation]:
        found = []
        was_at = {cell: robot for robot, cell in self._previous.items()}
        for robot, cell in sorted(cells.items()):
            before = self._previous.get(robot)
            if before is None or before == cell:
                continue
            if abs(before[0] - cell[0]) + abs(before[1] - cell[1]) > 1:
                found.append(Violation(ViolationKind.JUMP, time_s, (robot,), (before,)))
            other = was_at.get(cell)
            if (
                other is not None
                and other != robot
                and cells.get(other) == before
                and robot < other
            ):
                found.append(Violation(ViolationKind.SWAP, time_s, (robot, other), (before, cell)))
        return found

    def _blocked(self, time_s: float, cells: Mapping[str, Cell]) -> list[Violation]:
        if self.navigable is None:
            return []
        height, width = self.navigable.shape
        return [
            Violation(ViolationKind.BLOCKED_CELL, time_s, (robot,), (cell,))
            for robot, cell in sorted(cells.items())
            if self._previous.get(robot) != cell
            and (
                not (0 <= cell[0] < height and 0 <= cell[1] < width and self.navigable[cell])
                or cell in self.blocked
            )
        ]


def check_samples(
    samples: Iterable[tuple[float, Mapping[str, Cell]]], navigable: np.ndarray | None = None
) -> list[Violation]:
    """Every violation in a whole trace (e.g. cells read back from robots' states)."""
    monitor = SafetyMonitor(navigable)
    for time_s, cells in samples:
        monitor.observe(time_s, cells)
    return monitor.violations
