"""True floor distances between cells, as numpy matrices, for assignment and sequencing.

Assignment needs "how far is every offered robot from every queued task's
first stop" once per cycle, and "how far is each task's last stop from the
nearest charger". Both are lookups into `wms.layout.DistanceTables` (compiled
scipy search over the CSR grid graph, LRU-cached per source), so a warm cycle
is numpy indexing only. The grid graph is undirected, so a matrix is computed
from whichever side has fewer distinct cells (or the side whose tables are all
cached already) and transposed when needed.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

import numpy as np

from wms.layout import UNREACHABLE, Cell, DistanceTables
from wms.layout.distances import DEFAULT_CACHE_BYTES


class FloorDistances:
    """Shortest 4-neighbour move counts on a navigable grid minus optional blocked cells.

    Guarantees: every entry is the exact number of moves of a shortest path,
    or `UNREACHABLE` when there is none (a blocked or off-grid cell on either
    end included). Matrices are ``int32`` and freshly allocated (callers may
    write into them); the shared tables behind them stay read-only.
    """

    def __init__(
        self,
        navigable: np.ndarray,
        blocked: Iterable[Cell] = (),
        cache_bytes: int = DEFAULT_CACHE_BYTES,
    ) -> None:
        self._base = np.array(navigable, dtype=bool)
        grid = self._base.copy()
        self.blocked: frozenset[Cell] = frozenset((int(r), int(c)) for r, c in blocked)
        for r, c in self.blocked:
            if 0 <= r < grid.shape[0] and 0 <= c < grid.shape[1]:
                grid[r, c] = False
        self.tables = DistanceTables(grid, cache_bytes)
        self.shape = self.tables.shape

    @property
    def navigable(self) -> np.ndarray:
        """The grid the distances are computed on (blocked cells already removed)."""
        return self.tables.navigable

    def with_blocked(self, blocked: Iterable[Cell]) -> FloorDistances:
        """Distances with ``blocked`` cells removed too (a fresh cache: the tables change)."""
        return FloorDistances(self._base, self.blocked | {(int(r), int(c)) for r, c in blocked})

    def matrix(self, from_cells: Sequence[Cell], to_cells: Sequence[Cell]) -> np.ndarray:
        """``int32 [len(from_cells), len(to_cells)]`` distances, `UNREACHABLE` where no path."""
        sources = _as_cells(from_cells)
        targets = _as_cells(to_cells)
        if len(sources) == 0 or len(targets) == 0:
            return np.empty((len(sources), len(targets)), dtype=np.int32)
        unique_sources, source_of = np.unique(sources, axis=0, return_inverse=True)
        unique_targets, target_of = np.unique(targets, axis=0, return_inverse=True)
        if len(unique_sources) <= len(unique_targets) and not self._cached(unique_targets):
            core = self._lookup(unique_sources, targets)
            return core[source_of.ravel()]
        core = self._lookup(unique_targets, sources)
        return np.ascontiguousarray(core[target_of.ravel()].T)

    def table_to_nearest(self, targets: Sequence[Cell]) -> np.ndarray:
        """``int32 [H, W]``: moves from each cell to the nearest of ``targets``.

        `UNREACHABLE` everywhere when ``targets`` is empty or none is reachable.
        """
        cells = _as_cells(targets)
        if len(cells) == 0:
            return np.full(self.shape, UNREACHABLE, dtype=np.int32)
        tables = self.tables.from_cells([(int(r), int(c)) for r, c in np.unique(cells, axis=0)])
        return tables.min(axis=0)

    def to_nearest(self, cells: Sequence[Cell], targets: Sequence[Cell]) -> np.ndarray:
        """``int32 [len(cells)]``: moves from each cell to its nearest target (e.g. charger)."""
        return self.at(self.table_to_nearest(targets), cells)

    def at(self, table: np.ndarray, cells: Sequence[Cell]) -> np.ndarray:
        """``table[cells]`` as ``int32``, `UNREACHABLE` for cells off the grid."""
        points = _as_cells(cells)
        out = np.full(len(points), UNREACHABLE, dtype=np.int32)
        if len(points) == 0:
            return out
        inside = self._inside(points)
        out[inside] = table[points[inside, 0], points[inside, 1]]
        return out

    def route_lengths(self, routes: Sequence[Sequence[Cell]]) -> np.ndarray:
        """``int64 [len(routes)]``: moves along each route's stops in order (a task's work).

        `UNREACHABLE` for a route with a leg that has no path; 0 for fewer than two stops.
        """
        out = np.zeros(len(routes), dtype=np.int64)
        legs = [(i, a, b) for i, r in enumerate(routes) for a, b in itertools.pairwise(r)]
        if not legs:
            return out
        cells = sorted({(int(r), int(c)) for _, a, b in legs for r, c in (a, b)})
        index = {cell: k for k, cell in enumerate(cells)}
        table = self.matrix(cells, cells)
        owner = np.array([i for i, _, _ in legs], dtype=np.int64)
        tails = np.array([index[(int(a[0]), int(a[1]))] for _, a, _ in legs], dtype=np.int64)
        heads = np.array([index[(int(b[0]), int(b[1]))] for _, _, b in legs], dtype=np.int64)
        step = table[tails, heads].astype(np.int64)
        np.add.at(out, owner, step)
        broken = np.zeros(len(routes), dtype=bool)
        broken[owner[step >= UNREACHABLE]] = True
        out[broken] = int(UNREACHABLE)
        return out

    def distance(self, a: Cell, b: Cell) -> int:
        """One distance; `UNREACHABLE` when there is no path."""
        return int(self.matrix([a], [b])[0, 0])

    def _inside(self, points: np.ndarray) -> np.ndarray:
        height, width = self.shape
        return (
            (points[:, 0] >= 0)
            & (points[:, 0] < height)
            & (points[:, 1] >= 0)
            & (points[:, 1] < width)
        )

    def _cached(self, cells: np.ndarray) -> bool:
        """Every cell's table is in the cache (then that side costs no search)."""
        return all((int(r), int(c)) in self.tables for r, c in cells)

    def _lookup(self, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Distances from distinct ``sources`` to every target, through the cached tables."""
        cells = [(int(r), int(c)) for r, c in sources]
        missing = [cell for cell in cells if cell not in self.tables]
        if missing:
            self.tables.from_cells(missing)  # one compiled call for the missing ones
        out = np.full((len(sources), len(targets)), UNREACHABLE, dtype=np.int32)
        inside = self._inside(targets)
        rows, cols = targets[inside, 0], targets[inside, 1]
        for k, cell in enumerate(cells):  # gather per table: no [K, H, W] stack
            out[k, inside] = self.tables.from_cell(cell)[rows, cols]
        return out


def _as_cells(cells: Sequence[Cell] | np.ndarray) -> np.ndarray:
    points = np.asarray(cells, dtype=np.int64)
    return points.reshape(-1, 2) if points.size else np.empty((0, 2), dtype=np.int64)
