"""Route release: cells are reserved for one robot at a time, granted ahead, freed behind.

Each robot has a *drive*: the cells of its current VDA 5050 order, ``path[i]``
being the node with ``sequenceId`` ``2 i``. ``path[reached]`` is the last node
the robot reported passing (``lastNodeSequenceId``) and ``path[base_end]`` the
last released node, its *frontier*. Every cell in ``path[reached..base_end]``
is reserved for that robot, and a cell is granted to a robot only while no
other robot holds it. So however fast or slow robots drive, and whatever the
planner proposes, no two robots are ever granted the same cell at the same
time, and no two can swap (each would need the cell the other holds). A cell
is freed only when the robot reports a node beyond it; a silent robot keeps
everything it was granted, because a VDA 5050 vehicle keeps driving its base
without a connection.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wms.layout import Cell


@dataclass
class Drive:
    """One robot's order as the fleet granted it."""

    path: list[Cell]
    order_id: str | None = None
    """``None`` until the first order is sent (the robot stands on ``path[0]``)."""
    update_id: int = 0
    reached: int = 0
    base_end: int = 0
    sent_end: int = 0
    """Nodes up to here have been sent to the robot."""
    actions_at: dict[int, str] = field(default_factory=dict)
    """Path index → action id attached to that node."""
    offset: int = 0
    """Nodes dropped from the front of ``path`` once passed: ``path[i]`` has sequenceId
    ``2 (i + offset)``, so a long-lived order keeps only the cells still ahead."""
    horizon_sent: bool = False
    """The last update carried unreleased nodes: the robot's order is not finished until an
    update without them arrives, so a new orderId would be refused."""

    @property
    def frontier(self) -> Cell:
        return self.path[self.base_end]

    @property
    def position(self) -> Cell:
        return self.path[self.reached]

    @property
    def lag(self) -> int:
        return self.base_end - self.reached

    @property
    def trail(self) -> list[Cell]:
        return self.path[self.reached : self.base_end + 1]


TRIM_AFTER = 32
"""Passed nodes kept before the front of a drive's path is dropped."""


def _trim(drive: Drive) -> None:
    shift = drive.reached
    drive.path = drive.path[shift:]
    drive.reached -= shift
    drive.base_end -= shift
    drive.sent_end -= shift
    drive.actions_at = {i - shift: a for i, a in drive.actions_at.items() if i >= shift}
    drive.offset += shift


class ReservationError(ValueError):
    """A report that does not fit the granted drive (a node not in its order)."""


class Reservations:
    """Who holds which cell; the only place cells are granted and freed."""

    def __init__(self) -> None:
        self._holder: dict[Cell, str] = {}
        self.drives: dict[str, Drive] = {}

    def holder(self, cell: Cell) -> str | None:
        return self._holder.get(cell)

    def held_by(self, robot: str) -> list[Cell]:
        drive = self.drives.get(robot)
        return drive.trail if drive else []

    def all_held(self) -> dict[Cell, str]:
        return dict(self._holder)

    def place(self, robot: str, cell: Cell) -> bool:
        """Start a robot's drive where it stands; False when another robot holds that cell."""
        other = self._holder.get(cell)
        if other is not None and other != robot:
            return False
        self.clear(robot)
        self.drives[robot] = Drive(path=[cell])
        self._holder[cell] = robot
        return True

    def adopt(self, robot: str, drive: Drive) -> bool:
        """Take over a drive rebuilt after a restart: all of its trail is reserved for the
        robot, or nothing is (False) when another robot holds one of those cells."""
        trail = drive.trail
        if any(self._holder.get(c) not in (None, robot) for c in trail):
            return False
        self.clear(robot)
        self.drives[robot] = drive
        for cell in trail:
            self._holder[cell] = robot
        return True

    def restart(self, robot: str, order_id: str) -> Drive:
        """A new order from where the robot stands: the trail behind is freed."""
        drive = self.drives[robot]
        here = drive.position
        for cell in drive.trail:
            if cell != here and self._holder.get(cell) == robot:
                del self._holder[cell]
        fresh = Drive(path=[here], order_id=order_id)
        self.drives[robot] = fresh
        return fresh

    def grant(self, robot: str, cell: Cell) -> bool:
        """Extend the robot's base by one cell if nobody else holds it."""
        other = self._holder.get(cell)
        if other is not None and other != robot:
            return False
        drive = self.drives[robot]
        drive.path.append(cell)
        drive.base_end += 1
        self._holder[cell] = robot
        return True

    def report(self, robot: str, sequence_id: int) -> list[Cell]:
        """The robot passed the node with this ``sequenceId``; returns the cells freed."""
        drive = self.drives[robot]
        index = sequence_id // 2 - drive.offset
        if sequence_id % 2 or not index <= drive.base_end:
            raise ReservationError(
                f"node sequenceId {sequence_id} is not a released node of order "
                f"{drive.order_id!r} (released up to {2 * (drive.base_end + drive.offset)})"
            )
        if index <= drive.reached:
            return []
        behind = drive.path[drive.reached : index]
        drive.reached = index
        ahead = set(drive.trail)
        freed = []
        for cell in behind:
            if cell not in ahead and self._holder.get(cell) == robot:
                del self._holder[cell]
                freed.append(cell)
        if drive.reached > TRIM_AFTER:
            _trim(drive)
        return freed

    def clear(self, robot: str) -> None:
        drive = self.drives.pop(robot, None)
        if drive is None:
            return
        for cell in drive.trail:
            if self._holder.get(cell) == robot:
                del self._holder[cell]

    def check(self) -> None:
        """Invariant: the holder map is exactly the union of disjoint trails."""
        seen: dict[Cell, str] = {}
        for robot, drive in self.drives.items():
            for cell in drive.trail:
                owner = seen.setdefault(cell, robot)
                if owner != robot:
                    raise AssertionError(f"cell {cell} held by {owner} and {robot}")
        if seen != self._holder:
            raise AssertionError("holder map out of step with the drives")
