"""Grid cells <-> VDA 5050 nodes: one node per cell, positioned in metres.

The fleet plans on the grid; the protocol speaks metres. A node's position is
its cell's centre (`Floor.cell_xy`) and its ``mapId`` the floor's name, so a
controller that knows nothing of our grid can still drive to it.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from functools import lru_cache

from fleet.protocol.messages import Action, Edge, Node, NodePosition
from wms.layout import Cell, Floor
from wms.layout.grid import cell_centre_xy, xy_to_cell

CELL_DEVIATION = 0.5
"""Allowed deviation as a fraction of the cell size: anywhere inside the cell is on the node."""


def cell_node_id(cell: Cell) -> str:
    """``(12, 5)`` -> ``"c12_5"`` (row, column)."""
    return f"c{cell[0]}_{cell[1]}"


def node_position(floor: Floor, cell: Cell, theta: float | None = None) -> NodePosition:
    if theta is None:  # the usual case: one shared (immutable) position per cell
        return _cell_position(floor.name, floor.shape, floor.cell_size_m, cell)
    x, y = floor.cell_xy(cell)
    return NodePosition(
        x=x,
        y=y,
        map_id=floor.name,
        theta=theta,
        allowed_deviation_xy=CELL_DEVIATION * floor.cell_size_m,
    )


@lru_cache(maxsize=1 << 16)
def _cell_position(
    map_id: str, shape: tuple[int, int], cell_size_m: float, cell: Cell
) -> NodePosition:
    """A cell's node position, from everything it depends on (the manager builds one per
    node of every order it sends). Plain ints and floats whatever the cell's int type,
    so a cached value always packs."""
    x, y = cell_centre_xy(shape, (int(cell[0]), int(cell[1])), cell_size_m)
    deviation = CELL_DEVIATION * cell_size_m
    return NodePosition(x=float(x), y=float(y), map_id=map_id, allowed_deviation_xy=deviation)


def cell_of(floor: Floor, x: float, y: float) -> Cell:
    """The cell under a reported position (e.g. ``agvPosition``)."""
    return xy_to_cell(floor.terrain.shape, (x, y), floor.cell_size_m)


def path_nodes_edges(
    floor: Floor,
    cells: Sequence[Cell],
    released: int,
    first_sequence_id: int = 0,
    node_actions: dict[int, tuple[Action, ...]] | None = None,
) -> tuple[tuple[Node, ...], tuple[Edge, ...]]:
    """Nodes and edges for a path of cells, the first ``released`` nodes forming the base.

    ``first_sequence_id`` must be even: 0 for a new order, the last base node's
    ``sequenceId`` for an update (whose first cell is then that node's cell).
    ``node_actions`` maps a path index to the actions on that node.
    """
    if not cells:
        raise ValueError("a path needs at least one cell")
    if first_sequence_id % 2:
        raise ValueError(f"node sequenceIds are even, got {first_sequence_id}")
    if not 1 <= released <= len(cells):
        raise ValueError(f"released must be in 1..{len(cells)}, got {released}")
    actions = node_actions or {}
    nodes = tuple(
        Node(
            node_id=cell_node_id(cell),
            sequence_id=first_sequence_id + 2 * i,
            released=i < released,
            actions=actions.get(i, ()),
            node_position=node_position(floor, cell),
        )
        for i, cell in enumerate(cells)
    )
    edges = tuple(
        Edge(
            edge_id=f"{a.node_id}-{b.node_id}",
            sequence_id=a.sequence_id + 1,
            released=b.released,
            start_node_id=a.node_id,
            end_node_id=b.node_id,
            length=floor.cell_size_m,
        )
        for a, b in itertools.pairwise(nodes)
    )
    return nodes, edges
