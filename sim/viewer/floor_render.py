"""Render a floor (terrain, racks, zones, named points, legend) to a Surface or PNG.

The grid is painted as a numpy RGB image and scaled once, so even the
500×140 Robot Runners map renders in milliseconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from sim.viewer.pygame_env import load_pygame
from sim.viewer.viewport import LEGEND_HEIGHT
from wms.layout import Floor, PointKind, ZoneKind

Colour = tuple[int, int, int]

FREE_COLOUR: Colour = (236, 236, 232)
WALL_COLOUR: Colour = (60, 60, 66)
RACK_COLOUR: Colour = (176, 132, 84)
ACCESS_COLOUR: Colour = (222, 214, 196)
POINT_COLOURS: dict[PointKind, Colour] = {
    PointKind.STATION: (46, 160, 67),
    PointKind.CHARGER: (230, 180, 20),
    PointKind.DOCK: (50, 110, 210),
}
ZONE_COLOURS: dict[ZoneKind, Colour] = {
    ZoneKind.PICK: (120, 180, 255),
    ZoneKind.NO_GO: (220, 50, 50),
    ZoneKind.CHARGING: (255, 220, 90),
    ZoneKind.SPEED_LIMIT: (170, 110, 220),
    ZoneKind.HUMAN_ONLY: (255, 140, 40),
    ZoneKind.FIRE_SAFE: (255, 90, 150),
    ZoneKind.COLD: (90, 220, 230),
}


def floor_image(floor: Floor) -> np.ndarray:
    """``[H, W, 3]`` uint8 picture of the floor, one pixel per cell."""
    image = np.empty((*floor.shape, 3), dtype=np.uint8)
    image[:] = WALL_COLOUR
    image[floor.passable] = FREE_COLOUR
    for loc in floor.locations:
        image[loc.rack_cell] = RACK_COLOUR
        image[loc.access_cell] = ACCESS_COLOUR
    for zone in floor.zones:
        tint = np.array(ZONE_COLOURS[zone.kind], dtype=np.float64)
        cells = zone.mask & floor.passable
        image[cells] = (0.6 * image[cells] + 0.4 * tint).astype(np.uint8)
    for point in floor.points:
        image[point.cell] = POINT_COLOURS[point.kind]
    return image


def cell_scale(floor: Floor, max_width_px: int = 1600) -> int:
    return max(2, min(24, max_width_px // max(1, floor.width)))


def render_floor(floor: Floor, scale: int | None = None) -> Any:
    """A pygame Surface with the floor and a one-line legend below it."""
    pygame = load_pygame()
    scale = scale or cell_scale(floor)
    picture = pygame.surfarray.make_surface(np.ascontiguousarray(floor_image(floor).swapaxes(0, 1)))
    picture = pygame.transform.scale(picture, (floor.width * scale, floor.height * scale))
    surface = pygame.Surface((picture.get_width(), picture.get_height() + LEGEND_HEIGHT))
    surface.fill((255, 255, 255))
    surface.blit(picture, (0, 0))
    _draw_legend(pygame, surface, floor, picture.get_height())
    return surface


def _draw_legend(pygame: Any, surface: Any, floor: Floor, top: int) -> None:
    if not pygame.font.get_init():
        pygame.font.init()
    font = pygame.font.Font(None, 18)
    entries: list[tuple[str, Colour]] = [("rack", RACK_COLOUR), ("aisle face", ACCESS_COLOUR)]
    entries += [(kind.value, colour) for kind, colour in POINT_COLOURS.items()]
    entries += [(f"zone:{z.name}", ZONE_COLOURS[z.kind]) for z in floor.zones]
    x = 6
    for label, colour in entries:
        pygame.draw.rect(surface, colour, (x, top + 8, 12, 12))
        text = font.render(label, True, (20, 20, 20))
        surface.blit(text, (x + 16, top + 7))
        x += 16 + text.get_width() + 12
        if x > surface.get_width() - 40:
            break


def save_floor_png(floor: Floor, path: str | Path, scale: int | None = None) -> Path:
    pygame = load_pygame()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pygame.image.save(render_floor(floor, scale), str(path))
    return path
