"""What the manager needs to resume after a crash, as plain data (no database here).

The adapter (`fleet.manager.durable`) stores every order update *before* it goes
on the bus (`SentOrder`), every robot's registration and the cell it was placed
on when it had no order (`RobotPlaced`), and hands a `FleetResume` to
`FleetCore.restore`. From it the core rebuilds each robot's drive — the cells of
its last VDA 5050 order from the last node it was known to have passed — and
reserves them before any robot has reported, so a robot that stays silent after
the restart keeps its cells as it did before. When the robot's first state
arrives, `drive_from` rebuilds the drive from the updates the robot says it has
(``orderUpdateId``), so an update stored but never delivered is dropped rather
than assumed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from fleet.manager.release import Drive
from fleet.manager.robots import parse_node_cell
from fleet.protocol.messages import Node
from wms.layout import Cell


@dataclass(frozen=True, slots=True)
class OrderNode:
    """A released node of a sent order: its sequenceId, cell and the node's action ids."""

    sequence_id: int
    cell: Cell
    action_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SentOrder:
    """One order or order update as it was sent (released nodes only)."""

    robot: str
    order_id: str
    update_id: int
    nodes: tuple[OrderNode, ...]
    horizon: bool
    """The update carried unreleased nodes too (a new orderId would be refused)."""
    reached_sequence_id: int
    """The last node the manager knew the robot had passed when it sent this update."""
    task_id: str | None = None

    @classmethod
    def of(
        cls,
        robot: str,
        order_id: str,
        update_id: int,
        nodes: Sequence[Node],
        reached_sequence_id: int,
        task_id: str | None,
    ) -> SentOrder:
        released = tuple(
            OrderNode(n.sequence_id, cell, tuple(a.action_id for a in n.actions))
            for n in nodes
            if n.released and (cell := parse_node_cell(n.node_id)) is not None
        )
        horizon = any(not n.released for n in nodes)
        return cls(robot, order_id, update_id, released, horizon, reached_sequence_id, task_id)


@dataclass(frozen=True, slots=True)
class FleetResume:
    """Everything durable about the robots, for `FleetCore.restore`."""

    robots: tuple[str, ...] = ()
    """The registry in registration order (robot numbers are kept)."""
    orders: dict[str, dict[str, tuple[SentOrder, ...]]] = field(default_factory=dict)
    """Per robot, its last orders (at most two: the newest may never have been delivered),
    each as its updates in ``update_id`` order."""
    latest: dict[str, str | Cell] = field(default_factory=dict)
    """Per robot, what it was last given: an orderId, or the cell it was placed on."""
    entry: dict[str, int] = field(default_factory=dict)
    """Per robot, when it was given ``latest`` (one sequence across robots): a cell in two
    robots' stored drives was granted to the later one after the earlier one passed it."""
    orders_started: dict[str, int] = field(default_factory=dict)
    blocked: frozenset[Cell] = frozenset()
    """Cells blocked at run time (a spilled pallet) and not unblocked since."""
    incarnation: int = 0
    """How many times the manager started on this database before (ids stay unique)."""


def drive_from(updates: Sequence[SentOrder], upto: int | None = None) -> Drive | None:
    """The drive of one order from its updates up to ``upto`` (all when None).

    The path starts at the last node the manager knew the robot had passed (so every
    cell the robot may still stand on or drive to is in it) and ends at the last
    released node; None when no update qualifies.
    """
    chosen = [u for u in updates if upto is None or u.update_id <= upto]
    if not chosen:
        return None
    last = chosen[-1]
    cells: dict[int, Cell] = {}
    actions: dict[int, str] = {}
    for update in chosen:
        for node in update.nodes:
            cells[node.sequence_id] = node.cell
            for action_id in node.action_ids:
                actions[node.sequence_id] = action_id
    start = max(min(cells), min(last.reached_sequence_id, max(cells)))
    start -= start % 2
    sequence = [s for s in range(start, max(cells) + 1, 2)]
    if any(s not in cells for s in sequence):
        return None  # a gap: not an order this manager sent
    path = [cells[s] for s in sequence]
    drive = Drive(
        path=path,
        order_id=last.order_id,
        update_id=last.update_id,
        base_end=len(path) - 1,
        sent_end=len(path) - 1,
        offset=start // 2,
        horizon_sent=last.horizon,
    )
    drive.actions_at = {(s - start) // 2: a for s, a in actions.items() if s >= start}
    return drive
