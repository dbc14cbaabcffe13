"""Expanding a route into every cell walked, so it can be checked and driven."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from wms.errors import WarehouseError
from wms.layout import UNREACHABLE, Cell, DistanceTables
from wms.layout.grid import NEIGHBOUR_OFFSETS


def leg_path(tables: DistanceTables, start: Cell, goal: Cell) -> list[Cell]:
    """A shortest path ``start .. goal`` (both included) over navigable cells.

    Walks downhill on the goal's distance table, so its length is exactly the
    table's distance and the same legs always give the same cells.
    """
    table = tables.from_cell(goal)
    height, width = table.shape
    here = (int(start[0]), int(start[1]))
    remaining = int(table[here])
    if remaining >= UNREACHABLE:
        raise WarehouseError(f"no path from {list(start)} to {list(goal)}")
    path = [here]
    while remaining > 0:
        r, c = here
        for dr, dc in NEIGHBOUR_OFFSETS:
            nr, nc = r + dr, c + dc
            if 0 <= nr < height and 0 <= nc < width and int(table[nr, nc]) == remaining - 1:
                here = (nr, nc)
                break
        remaining -= 1
        path.append(here)
    return path


def route_path(tables: DistanceTables, waypoints: Sequence[Cell]) -> list[Cell]:
    """Concatenated legs through ``waypoints``; ``len(path) - 1`` is the travel."""
    if not waypoints:
        return []
    path = [(int(waypoints[0][0]), int(waypoints[0][1]))]
    for a, b in itertools.pairwise(waypoints):
        path += leg_path(tables, a, b)[1:]
    return path
