"""Grid geometry: cells, terrain codes and the metre frame.

A cell is ``(row, col)``; row 0 is the top (north) row of a ``.map`` file. The
metre frame used by zones and by VDA 5050 node positions is right-handed with
its origin at the south-west corner of the floor: ``x`` grows with the column,
``y`` grows towards row 0. Cell ``(r, c)`` covers
``[c*s, (c+1)*s] x [(H-r-1)*s, (H-r)*s]`` for cell size ``s``.
"""

from __future__ import annotations

from typing import Final

import numpy as np

Cell = tuple[int, int]

# MovingAI terrain: these characters are passable; everything else in
# BLOCKED_TERRAIN is an obstacle. `E` and `S` are the Robot Runners markers
# (emitter / service cells), which the competition treats as free.
FREE_TERRAIN: Final = frozenset(".GES")
BLOCKED_TERRAIN: Final = frozenset("@OTW")
KNOWN_TERRAIN: Final = FREE_TERRAIN | BLOCKED_TERRAIN

# The four moves of the 4-connected grid, in (drow, dcol).
NEIGHBOUR_OFFSETS: Final = ((-1, 0), (0, 1), (1, 0), (0, -1))


def passable_mask(terrain: np.ndarray) -> np.ndarray:
    """Boolean mask of free cells for a terrain array of ASCII codes."""
    free_codes = np.frombuffer("".join(sorted(FREE_TERRAIN)).encode(), dtype=np.uint8)
    return np.isin(terrain, free_codes)


def in_bounds(shape: tuple[int, int], cell: Cell) -> bool:
    return 0 <= cell[0] < shape[0] and 0 <= cell[1] < shape[1]


def neighbours(shape: tuple[int, int], cell: Cell) -> list[Cell]:
    """In-bounds 4-neighbours of a cell (passability not checked)."""
    r, c = cell
    return [(r + dr, c + dc) for dr, dc in NEIGHBOUR_OFFSETS if in_bounds(shape, (r + dr, c + dc))]


def cell_centre_xy(shape: tuple[int, int], cell: Cell, cell_size_m: float) -> tuple[float, float]:
    """Centre of a cell in the metre frame."""
    height = shape[0]
    r, c = cell
    return ((c + 0.5) * cell_size_m, (height - r - 0.5) * cell_size_m)


def xy_to_cell(shape: tuple[int, int], xy: tuple[float, float], cell_size_m: float) -> Cell:
    """Cell containing a point of the metre frame (not bounds-checked)."""
    height = shape[0]
    x, y = xy
    return (int(height - np.floor(y / cell_size_m) - 1), int(np.floor(x / cell_size_m)))


def cell_centres_xy(shape: tuple[int, int], cell_size_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Arrays ``(x, y)`` of shape ``shape`` with every cell's centre in metres."""
    height = shape[0]
    rows, cols = np.indices(shape, dtype=np.float64)
    return (cols + 0.5) * cell_size_m, (height - rows - 0.5) * cell_size_m
