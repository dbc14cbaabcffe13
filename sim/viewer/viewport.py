"""Where cells are on the screen: the one mapping the renderer draws with and clicks are read by.

Kept apart from the renderer so the controller turns a click into a cell
without pygame, and a click always lands on the cell that was drawn there.
"""

from __future__ import annotations

from dataclasses import dataclass

from wms.layout import Cell

PANEL_WIDTH = 300
"""Pixels of the side panel (KPIs, legend, the selected robot)."""
LEGEND_HEIGHT = 28
"""Pixels of the floor legend under the floor (`sim.viewer.floor_render`)."""
PANEL_MIN_HEIGHT = 640
"""The panel's rows need this much height even under a small floor."""
MAX_SCALE = 32
MIN_SCALE = 2


@dataclass(frozen=True, slots=True)
class Viewport:
    """A floor of ``shape`` cells drawn at ``scale`` pixels a cell, the panel to its right."""

    shape: tuple[int, int]
    scale: int

    @property
    def floor_size(self) -> tuple[int, int]:
        """Pixels of the floor picture, ``(width, height)``."""
        return (self.shape[1] * self.scale, self.shape[0] * self.scale)

    @property
    def size(self) -> tuple[int, int]:
        """Pixels of the whole frame (floor, legend and panel), ``(width, height)``."""
        width, height = self.floor_size
        return (width + PANEL_WIDTH, max(height + LEGEND_HEIGHT, PANEL_MIN_HEIGHT))

    @property
    def panel_left(self) -> int:
        return self.floor_size[0]

    def centre(self, cell: Cell) -> tuple[int, int]:
        """The pixel at the centre of ``cell``."""
        half = self.scale // 2
        return (cell[1] * self.scale + half, cell[0] * self.scale + half)

    def cell_at(self, x: int, y: int) -> Cell | None:
        """The cell under pixel ``(x, y)``; None over the legend, the panel or outside."""
        if x < 0 or y < 0:
            return None
        row, col = y // self.scale, x // self.scale
        if row >= self.shape[0] or col >= self.shape[1]:
            return None
        return (int(row), int(col))

    def zoomed(self, factor: float) -> Viewport:
        """The same floor at ``scale * factor`` (kept within MIN_SCALE..MAX_SCALE)."""
        scale = max(MIN_SCALE, min(MAX_SCALE, round(self.scale * factor)))
        if scale == self.scale:
            scale = max(MIN_SCALE, min(MAX_SCALE, self.scale + (1 if factor > 1 else -1)))
        return Viewport(self.shape, scale)


def fit_scale(shape: tuple[int, int], max_size: tuple[int, int] = (1600, 960)) -> int:
    """The largest scale at which floor, legend and panel fit in ``max_size`` pixels."""
    width = (max_size[0] - PANEL_WIDTH) // max(1, shape[1])
    height = (max_size[1] - LEGEND_HEIGHT) // max(1, shape[0])
    return max(MIN_SCALE, min(MAX_SCALE, width, height))
