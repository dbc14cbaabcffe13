"""The manager's view of each robot, and where robots may stand on the floor.

`RobotTrack` is the mutable record the decision core keeps per robot (the bus
keeps connection sessions; this is the one robot registry). `parse_node_cell`
reads our node ids back into cells; `park_cells` are the cells idle robots go to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from fleet.manager.model import RobotInfo
from wms.layout import Cell, Floor

if TYPE_CHECKING:
    from fleet.manager.resume import SentOrder


@dataclass
class RobotTrack:
    """The core's mutable view of one robot (snapshots are plain dicts)."""

    robot_id: str
    info: RobotInfo
    number: int
    online: bool = False
    cell: Cell | None = None
    battery: float = 100.0
    charging: bool = False
    fault: str | None = None
    paused: bool = False
    drained: bool = False
    last_seen_s: float = 0.0
    task_id: str | None = None
    next_task_id: str | None = None
    """A task given to this robot before its current one ends (it was about to be free)."""
    action_id: str | None = None
    """The node action of the current stop, once it is attached to a released node."""
    awaiting_update: int | None = None
    """An order update sent and not yet shown in the robot's state."""
    resetting: bool = False
    """cancelOrder sent: wait for the robot to report no order before a new one."""
    new_order: bool = False
    """The next release must start a new orderId (after a reset or to act where it stands)."""
    reported_order: str = ""
    loads: tuple[str, ...] = ()
    waiting: str = ""
    orders_started: int = 0
    charger: Cell | None = None
    park: Cell | None = None
    empty_cells: int = 0
    loaded_cells: int = 0
    restored_s: float | None = None
    """Its drive came back from the database at this time and it has not reported since."""
    adopting: dict[str, tuple[SentOrder, ...]] | None = None
    """Its stored orders, until its first state after the restart says which one it runs."""

    @property
    def serial(self) -> str:
        return self.robot_id.partition("/")[2]


def parse_node_cell(node_id: str) -> Cell | None:
    """``"c12_5"`` → ``(12, 5)``; anything else → None."""
    if not node_id.startswith("c") or "_" not in node_id:
        return None
    row, _, col = node_id[1:].partition("_")
    if not (row.isdigit() and col.isdigit()):
        return None
    return int(row), int(col)


def park_cells(floor: Floor) -> tuple[Cell, ...]:
    """Free cells off the aisles: not in front of a rack face, not a station, charger or dock,
    and with at least three free neighbours so a parked robot never closes a corridor."""
    access = {loc.access_cell for loc in floor.locations}
    points = {p.cell for p in floor.stations} | {p.cell for p in floor.chargers}
    points |= {p.cell for p in floor.docks}
    nav = floor.navigable
    height, width = nav.shape
    cells = []
    for r, c in zip(*np.nonzero(nav), strict=True):
        cell = (int(r), int(c))
        if cell in access or cell in points:
            continue
        free = sum(
            1
            for dr, dc in ((-1, 0), (0, 1), (1, 0), (0, -1))
            if 0 <= r + dr < height and 0 <= c + dc < width and nav[r + dr, c + dc]
        )
        if free >= 3:
            cells.append(cell)
    return tuple(cells)
