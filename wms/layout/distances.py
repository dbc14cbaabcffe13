"""Shortest-path distance tables over the navigable grid.

Every planner, router and slotting objective asks "how far is cell A from cell
B on the real floor?". A table answers that for one source and every cell at
once. Tables are computed on demand with scipy's compiled graph search over a
CSR adjacency built once per grid, and kept in an LRU cache bounded by memory,
so the fleet can ask for the same goal thousands of times for free.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Final

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path

from wms.layout.grid import Cell

UNREACHABLE: Final = np.int32(2**30)
"""Distance given to blocked cells and cells with no path; larger than any real distance."""

DEFAULT_CACHE_BYTES: Final = 512 * 2**20


def grid_graph(navigable: np.ndarray) -> tuple[csr_matrix, np.ndarray]:
    """Undirected unit-weight graph of 4-neighbour moves between navigable cells.

    Returns the CSR matrix over node ids and the ``[H, W]`` cell → node id
    array (``-1`` for cells that are not nodes).
    """
    node_of = np.full(navigable.shape, -1, dtype=np.int64)
    free = np.flatnonzero(navigable)
    node_of.ravel()[free] = np.arange(free.size)
    sources: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    horizontal = navigable[:, :-1] & navigable[:, 1:]
    vertical = navigable[:-1, :] & navigable[1:, :]
    rows, cols = np.nonzero(horizontal)
    sources.append(node_of[rows, cols])
    targets.append(node_of[rows, cols + 1])
    rows, cols = np.nonzero(vertical)
    sources.append(node_of[rows, cols])
    targets.append(node_of[rows + 1, cols])
    a = np.concatenate(sources)
    b = np.concatenate(targets)
    both_a = np.concatenate([a, b])
    both_b = np.concatenate([b, a])
    weights = np.ones(both_a.size, dtype=np.float64)
    graph = csr_matrix((weights, (both_a, both_b)), shape=(free.size, free.size))
    return graph, node_of


class DistanceTables:
    """Cached single-source shortest-path tables for one navigable grid.

    A table is an ``int32 [H, W]`` array: the number of moves from the source
    to each cell, `UNREACHABLE` where there is no path. Returned arrays are
    read-only because they are shared through the cache.
    """

    def __init__(self, navigable: np.ndarray, cache_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self.navigable = np.array(navigable, dtype=bool)
        self.navigable.flags.writeable = False
        self.shape: tuple[int, int] = (int(navigable.shape[0]), int(navigable.shape[1]))
        self._graph, self._node_of = grid_graph(self.navigable)
        self._free_flat = np.flatnonzero(self.navigable)
        table_bytes = max(1, self.navigable.size * 4)
        self._capacity = max(1, cache_bytes // table_bytes)
        self._cache: OrderedDict[Cell, np.ndarray] = OrderedDict()

    def __contains__(self, cell: Cell) -> bool:
        return cell in self._cache

    def from_cell(self, cell: Cell) -> np.ndarray:
        """Distances from ``cell`` to every cell; blocked source gives all UNREACHABLE."""
        cell = (int(cell[0]), int(cell[1]))
        cached = self._cache.get(cell)
        if cached is not None:
            self._cache.move_to_end(cell)
            return cached
        (table,) = self._compute([cell])
        self._store(cell, table)
        return table

    def from_cells(self, cells: Iterable[Cell]) -> np.ndarray:
        """``[K, H, W]`` tables for several sources; one compiled call for the missing ones."""
        wanted = [(int(r), int(c)) for r, c in cells]
        missing = [cell for cell in dict.fromkeys(wanted) if cell not in self._cache]
        for start in range(0, len(missing), 256):
            chunk = missing[start : start + 256]
            for cell, table in zip(chunk, self._compute(chunk), strict=True):
                self._store(cell, table)
        if not wanted:
            return np.empty((0, *self.shape), dtype=np.int32)
        return np.stack([self.from_cell(cell) for cell in wanted])

    def distance(self, a: Cell, b: Cell) -> int:
        return int(self.from_cell(a)[b[0], b[1]])

    def _store(self, cell: Cell, table: np.ndarray) -> None:
        self._cache[cell] = table
        self._cache.move_to_end(cell)
        while len(self._cache) > self._capacity:
            self._cache.popitem(last=False)

    def _compute(self, cells: list[Cell]) -> list[np.ndarray]:
        height, width = self.shape
        tables = [np.full(self.shape, UNREACHABLE, dtype=np.int32) for _ in cells]
        nodes = []
        for cell in cells:
            r, c = cell
            inside = 0 <= r < height and 0 <= c < width
            nodes.append(int(self._node_of[r, c]) if inside else -1)
        valid = [i for i, node in enumerate(nodes) if node >= 0]
        if valid:
            dist = shortest_path(
                self._graph, method="D", unweighted=True, indices=[nodes[i] for i in valid]
            )
            dist = np.atleast_2d(dist)
            finite = np.isfinite(dist)
            as_int = np.where(finite, dist, UNREACHABLE).astype(np.int32)
            for row, i in enumerate(valid):
                tables[i].ravel()[self._free_flat] = as_int[row]
        for table in tables:
            table.flags.writeable = False
        return tables


def mean_free_distance(tables: DistanceTables, samples: int = 256, seed: int = 0) -> float:
    """Mean shortest-path distance between random pairs of connected free cells.

    Uses every free cell as a source when there are at most ``samples`` of
    them (exact), otherwise ``samples`` seeded random sources against all
    targets. This is the denominator of the lifelong MAPF throughput bound.
    """
    free = np.argwhere(tables.navigable)
    if len(free) < 2:
        return 0.0
    rng = np.random.default_rng(seed)
    chosen = free if len(free) <= samples else free[rng.choice(len(free), samples, replace=False)]
    total = 0.0
    pairs = 0
    for start in range(0, len(chosen), 64):
        block = chosen[start : start + 64]
        dist = _uncached_tables(tables, block)
        values = dist[:, tables.navigable]
        ok = (values < UNREACHABLE) & (values > 0)
        total += float(values[ok].sum(dtype=np.float64))
        pairs += int(ok.sum())
    return total / pairs if pairs else 0.0


def _uncached_tables(tables: DistanceTables, cells: np.ndarray) -> np.ndarray:
    """Tables for statistics only, kept out of the cache so they don't evict hot goals."""
    return np.stack(tables._compute([(int(r), int(c)) for r, c in cells]))
