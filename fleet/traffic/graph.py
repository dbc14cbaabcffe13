"""The floor as the planners see it: free cells as compact node ids.

Planners run inner loops over node ids ``0..n-1`` (free cells only) instead of
``(row, col)`` tuples, so every per-robot lookup is a list or array index.
Cells cross the API as flat cell ids ``row * width + col`` (the Robot Runners
convention); this module converts both ways.

The direction order is the grid's `NEIGHBOUR_OFFSETS`: 0 north, 1 east,
2 south, 3 west, so a turn to the right is ``+1 mod 4``.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from wms.errors import InputError
from wms.layout.grid import NEIGHBOUR_OFFSETS

NO_NODE: Final = -1
DIRECTIONS: Final = 4


class FloorGraph:
    """Static topology of one floor plus the set of cells blocked right now.

    ``neighbours[v, d]`` is the node one step from ``v`` in direction ``d`` or
    `NO_NODE`; it ignores run-time blocks, which live in ``blocked`` so a
    spilled pallet can come and go without rebuilding anything.
    """

    def __init__(self, navigable: np.ndarray) -> None:
        navigable = np.asarray(navigable, dtype=bool)
        if navigable.ndim != 2:
            raise InputError("floor", "navigable mask must be two-dimensional")
        self.shape: tuple[int, int] = (int(navigable.shape[0]), int(navigable.shape[1]))
        self.navigable = navigable.copy()
        self.navigable.flags.writeable = False
        height, width = self.shape
        self.cell_of = np.flatnonzero(self.navigable).astype(np.int64)
        self.size = int(self.cell_of.size)
        self.node_of = np.full(height * width, NO_NODE, dtype=np.int64)
        self.node_of[self.cell_of] = np.arange(self.size)
        rows, cols = np.divmod(self.cell_of, width)
        self.neighbours = np.full((self.size, DIRECTIONS), NO_NODE, dtype=np.int64)
        for d, (dr, dc) in enumerate(NEIGHBOUR_OFFSETS):
            nr, nc = rows + dr, cols + dc
            inside = (nr >= 0) & (nr < height) & (nc >= 0) & (nc < width)
            target = np.full(self.size, NO_NODE, dtype=np.int64)
            target[inside] = self.node_of[nr[inside] * width + nc[inside]]
            self.neighbours[:, d] = target
        self.degree = (self.neighbours >= 0).sum(axis=1)
        self.blocked = np.zeros(self.size, dtype=bool)

    def dead_ends(self) -> np.ndarray:
        """Nodes not on any cycle's core: repeatedly peel cells with one neighbour left.

        What remains is the part of the floor where robots can get round each
        other; the peeled cells are dead-end aisles and the trees hanging off
        the core.
        """
        degree = self.degree.copy()
        peeled = np.zeros(self.size, dtype=bool)
        leaves = np.flatnonzero(degree <= 1)
        while leaves.size:
            peeled[leaves] = True
            around = self.neighbours[leaves].ravel()
            around = around[around >= 0]
            np.subtract.at(degree, around, 1)
            degree[peeled] = 99
            leaves = np.flatnonzero((degree <= 1) & ~peeled)
        return peeled

    @property
    def width(self) -> int:
        return self.shape[1]

    def nodes(self, cells: np.ndarray, source: str = "cells") -> np.ndarray:
        """Node ids of flat cell ids; `InputError` names the first cell that is not free."""
        cells = np.asarray(cells, dtype=np.int64)
        height, width = self.shape
        outside = (cells < 0) | (cells >= height * width)
        nodes = np.full(cells.shape, NO_NODE, dtype=np.int64)
        nodes[~outside] = self.node_of[cells[~outside]]
        bad = np.flatnonzero(nodes < 0)
        if bad.size:
            cell = int(cells.ravel()[bad[0]])
            raise InputError(source, f"item {int(bad[0])}: cell {self.describe(cell)} is not free")
        return nodes

    def cells(self, nodes: np.ndarray) -> np.ndarray:
        return self.cell_of[np.asarray(nodes, dtype=np.int64)]

    def describe(self, cell: int) -> str:
        row, col = divmod(int(cell), self.shape[1])
        return f"{int(cell)} (row {row}, col {col})"

    def set_blocked(self, blocked_cells: np.ndarray | None) -> bool:
        """Replace the run-time blocked set; returns whether it changed."""
        mask = np.zeros(self.size, dtype=bool)
        if blocked_cells is not None and len(blocked_cells):
            nodes = self.node_of[np.asarray(blocked_cells, dtype=np.int64)]
            mask[nodes[nodes >= 0]] = True
        if np.array_equal(mask, self.blocked):
            return False
        self.blocked = mask
        return True


def flat_cells(cells_rc: np.ndarray, width: int) -> np.ndarray:
    """``[N, 2]`` (row, col) → flat cell ids."""
    cells_rc = np.asarray(cells_rc, dtype=np.int64).reshape(-1, 2)
    return cells_rc[:, 0] * width + cells_rc[:, 1]


def row_col(cells: np.ndarray, width: int) -> np.ndarray:
    """Flat cell ids → ``[N, 2]`` int32 (row, col)."""
    rows, cols = np.divmod(np.asarray(cells, dtype=np.int64), width)
    return np.stack([rows, cols], axis=-1).astype(np.int32)
