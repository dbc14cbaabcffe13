"""Parametric warehouse layouts: rack blocks, aisles, cross-aisles, stations.

The default demo floor comes from here so nothing outside the repository is
needed to run. The generator writes plain terrain (racks ``T``, walls ``@``)
plus the named points; storage locations are derived from the terrain by the
same rule used for any ``.map`` (`storage_locations`), so a generated floor
saved and loaded back has exactly the same locations.

Picture, north up::

    @@@@@@@@@@@@@@@@@@@@@@@@
    @..D.....D.....D.....D.@   docks along the north wall
    @......................@   margin (perimeter corridor)
    @..TTTTTTTT..TTTTTTTT..@   a rack pair: two rack rows back to back
    @..TTTTTTTT..TTTTTTTT..@
    @......................@   aisle between rack pairs
    @..TTTTTTTT..TTTTTTTT..@
    @..TTTTTTTT..TTTTTTTT..@
    @......................@   cross-aisle / staging area
    @C.....................@   chargers along the west wall, from the south up
    @....P......P......P...@   pick stations along the south wall
    @@@@@@@@@@@@@@@@@@@@@@@@
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from wms.errors import InputError
from wms.layout.floor import Floor, FloorPoint, Heading, PointKind, StorageLocation
from wms.layout.grid import passable_mask
from wms.layout.mapfile import MAX_SIDE

# Generated floors stay far below what a .map may hold: every command builds
# distance tables over the floor, and a typo such as ``--blocks-x 1000``
# should be an error, not minutes of swapping.
MAX_CELLS = 1_000_000

RACK = ord("T")
WALL = ord("@")
FREE = ord(".")

_FACES = (
    (-1, 0, Heading.NORTH),
    (0, 1, Heading.EAST),
    (1, 0, Heading.SOUTH),
    (0, -1, Heading.WEST),
)


@dataclass(frozen=True, slots=True)
class LayoutParams:
    """Shape of a generated floor; every length is in cells."""

    blocks_x: int = 3
    blocks_y: int = 2
    rack_pairs: int = 4
    rack_length: int = 10
    aisle_width: int = 1
    cross_aisle_width: int = 2
    margin: int = 2
    staging_depth: int = 4
    stations: int = 4
    chargers: int = 4
    docks: int = 3

    def validate(self, source: str = "layout") -> None:
        minimum = {
            "blocks_x": 1,
            "blocks_y": 1,
            "rack_pairs": 1,
            "rack_length": 1,
            "aisle_width": 1,
            "cross_aisle_width": 1,
            "margin": 1,
            "staging_depth": 2,
            "stations": 1,
            "chargers": 0,
            "docks": 0,
        }
        for item in fields(self):
            value = getattr(self, item.name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise InputError(f"{source}.{item.name}", f"must be an integer, got {value!r}")
            if not minimum[item.name] <= value <= 1000:
                raise InputError(
                    f"{source}.{item.name}", f"{value} is outside {minimum[item.name]}..1000"
                )
        height, width = self.shape()
        if height > MAX_SIDE or width > MAX_SIDE or height * width > MAX_CELLS:
            raise InputError(
                source,
                f"the floor would be {height} x {width} cells; at most {MAX_SIDE} a side "
                f"and {MAX_CELLS:,} cells",
            )

    def shape(self) -> tuple[int, int]:
        """(height, width) in cells of the floor these parameters generate."""
        p = self
        block_w = p.rack_length
        block_h = 2 * p.rack_pairs + p.aisle_width * (p.rack_pairs - 1)
        inner_w = p.blocks_x * block_w + (p.blocks_x - 1) * p.cross_aisle_width
        inner_h = p.blocks_y * block_h + (p.blocks_y - 1) * p.cross_aisle_width
        return 2 + 2 * p.margin + inner_h + p.staging_depth, 2 + 2 * p.margin + inner_w


def storage_locations(terrain: np.ndarray, rack_terrain: str = "T") -> tuple[StorageLocation, ...]:
    """Every rack face that touches a free cell, in row-major order of rack cells.

    A rack cell is one whose terrain character is in ``rack_terrain``; it
    yields one location per free 4-neighbour, the neighbour being where a
    robot or picker stands.
    """
    free = passable_mask(terrain)
    codes = np.frombuffer(rack_terrain.encode("ascii"), dtype=np.uint8)
    racks = np.isin(terrain, codes) & ~free
    height, width = terrain.shape
    found: list[StorageLocation] = []
    for r, c in np.argwhere(racks):
        for dr, dc, face in _FACES:
            ar, ac = int(r + dr), int(c + dc)
            if 0 <= ar < height and 0 <= ac < width and free[ar, ac]:
                found.append(
                    StorageLocation(
                        location_id=f"L{int(r):03d}-{int(c):03d}{face.value}",
                        rack_cell=(int(r), int(c)),
                        access_cell=(ar, ac),
                        face=face,
                    )
                )
    return tuple(found)


def _spread(start: int, stop: int, count: int) -> list[int]:
    """``count`` distinct integers spread evenly over ``[start, stop)``."""
    if count <= 0 or stop <= start:
        return []
    count = min(count, stop - start)
    return sorted({int(v) for v in np.linspace(start, stop - 1, count + 2)[1:-1].round()})


def generate_layout(params: LayoutParams, name: str = "generated") -> Floor:
    """Build a floor from layout parameters (see the module picture)."""
    params.validate()
    p = params
    block_w = p.rack_length
    block_h = 2 * p.rack_pairs + p.aisle_width * (p.rack_pairs - 1)
    inner_w = p.blocks_x * block_w + (p.blocks_x - 1) * p.cross_aisle_width
    height, width = p.shape()
    terrain = np.full((height, width), FREE, dtype=np.uint8)
    terrain[0, :] = WALL
    terrain[-1, :] = WALL
    terrain[:, 0] = WALL
    terrain[:, -1] = WALL
    top = 1 + p.margin
    left = 1 + p.margin
    for by in range(p.blocks_y):
        block_top = top + by * (block_h + p.cross_aisle_width)
        for bx in range(p.blocks_x):
            block_left = left + bx * (block_w + p.cross_aisle_width)
            for pair in range(p.rack_pairs):
                row = block_top + pair * (2 + p.aisle_width)
                terrain[row : row + 2, block_left : block_left + block_w] = RACK

    points: list[FloorPoint] = []
    station_row = height - 2
    for i, col in enumerate(_spread(left, left + inner_w, p.stations)):
        points.append(FloorPoint(f"P{i + 1}", PointKind.STATION, (station_row, col)))
    charger_rows = list(range(height - 3, 1, -2))[: p.chargers]
    if len(charger_rows) < p.chargers:
        raise InputError("layout.chargers", f"{p.chargers} chargers do not fit on the west wall")
    for i, row in enumerate(charger_rows):
        points.append(FloorPoint(f"C{i + 1}", PointKind.CHARGER, (row, 1)))
    for i, col in enumerate(_spread(left, left + inner_w, p.docks)):
        points.append(FloorPoint(f"D{i + 1}", PointKind.DOCK, (1, col)))
    if len(points) != p.stations + p.chargers + p.docks:
        raise InputError("layout", "the floor is too narrow for the requested stations and docks")
    return Floor(
        name=name,
        terrain=terrain,
        locations=storage_locations(terrain),
        points=tuple(points),
    )
