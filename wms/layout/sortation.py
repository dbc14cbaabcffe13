"""Parcel sortation floors: induct stations and a field of chutes, as on the Robot Runners map.

The League of Robot Runners sortation map marks emitters ``E`` (where a robot
takes a parcel) and endpoints ``S`` (free cells next to a chute ``@``, where the
parcel is dropped into it). We read those markers the same way on any floor
(`sortation_floor`), and generate floors in the same pattern
(`generate_sortation`), north up::

    @@@@@@@@@@@@@@@@@@@@@
    @...................@   margin (perimeter corridor)
    @E....S.S.S.S.S....E@   inducts on the west and east walls
    @....S@S@S@S@S@S....@   a chute row: each chute has endpoints on four sides
    @E....S.S.S.S.S....E@
    @....S@S@S@S@S@S....@
    @E....S.S.S.S.S....E@
    @...................@
    @C.C.C..............@   chargers along the south wall
    @@@@@@@@@@@@@@@@@@@@@

A floor without the markers (the picking demo floor) sorts from its stations
(inducts) to its docks (chutes), so every floor can run the sortation mode.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from wms.errors import InputError
from wms.layout.floor import Floor, FloorPoint, PointKind
from wms.layout.grid import Cell

EMITTER = ord("E")
ENDPOINT = ord("S")
WALL = ord("@")
FREE = ord(".")
MAX_CELLS = 1_000_000


@dataclass(frozen=True, slots=True)
class SortationParams:
    """Shape of a generated sortation floor; lengths in cells."""

    chute_rows: int = 6
    chutes_per_row: int = 12
    margin: int = 4
    chargers: int = 4

    def validate(self, where: str = "floor.sortation") -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            low = 0 if item.name == "chargers" else 1
            if value < low:
                raise InputError(f"{where}.{item.name}", f"must be at least {low}, got {value}")
        height, width = self.shape
        if height * width > MAX_CELLS:
            raise InputError(where, f"{height} x {width} cells is more than {MAX_CELLS}")
        if self.chargers > width - 2:
            raise InputError(f"{where}.chargers", f"{self.chargers} do not fit on the south wall")

    @property
    def shape(self) -> tuple[int, int]:
        return (
            2 * self.chute_rows + 1 + 2 * self.margin + 2,
            2 * self.chutes_per_row + 1 + 2 * self.margin + 2,
        )


@dataclass(frozen=True, slots=True)
class Chute:
    """A chute (a blocked cell) and the endpoint a robot drops its parcels from."""

    cell: Cell
    drop: Cell


def generate_sortation(params: SortationParams, name: str = "sortation") -> Floor:
    """A walled floor with a chute field in the Robot Runners pattern, inducts ``E`` on the
    west and east walls at every endpoint row, and chargers on the south wall."""
    params.validate()
    height, width = params.shape
    terrain = np.full((height, width), FREE, dtype=np.uint8)
    terrain[0, :] = terrain[-1, :] = terrain[:, 0] = terrain[:, -1] = WALL
    top, left = 1 + params.margin, 1 + params.margin
    for i in range(2 * params.chute_rows + 1):
        row = top + i
        for j in range(2 * params.chutes_per_row + 1):
            col = left + j
            if i % 2 == 1 and j % 2 == 1:
                terrain[row, col] = WALL  # a chute
            elif i % 2 == 1 or j % 2 == 1:
                terrain[row, col] = ENDPOINT
        if i % 2 == 0:
            terrain[row, 1] = terrain[row, width - 2] = EMITTER
    points = []
    for k, col in enumerate(
        np.linspace(1, width - 2, params.chargers, dtype=int) if params.chargers else ()
    ):
        points.append(FloorPoint(f"C{k + 1}", PointKind.CHARGER, (height - 2, int(col))))
    inducts = sorted(zip(*np.nonzero(terrain == EMITTER), strict=True))
    for k, (r, c) in enumerate(inducts):
        points.append(FloorPoint(f"I{k + 1}", PointKind.STATION, (int(r), int(c))))
    return Floor(name, terrain, points=tuple(points))


def chutes_of(floor: Floor) -> list[Chute]:
    """Every blocked cell with an endpoint beside it, each with its first free endpoint
    (north, east, south, west), in row-major order."""
    terrain = floor.terrain
    endpoint = (terrain == ENDPOINT) & floor.navigable
    height, width = floor.shape
    chutes = []
    for r, c in zip(*np.nonzero(~floor.passable), strict=True):
        for dr, dc in ((-1, 0), (0, 1), (1, 0), (0, -1)):
            rr, cc = int(r) + dr, int(c) + dc
            if 0 <= rr < height and 0 <= cc < width and endpoint[rr, cc]:
                chutes.append(Chute((int(r), int(c)), (rr, cc)))
                break
    return chutes


def sortation_floor(floor: Floor) -> tuple[list[Cell], list[Cell]]:
    """(induct cells, chute drop cells) of a floor: its ``E`` emitters and the endpoints of
    its chutes when it has them, as the competition treats them; else its stations and
    docks. `ValueError` when either is missing."""
    emitters = [
        (int(r), int(c))
        for r, c in zip(*np.nonzero((floor.terrain == EMITTER) & floor.navigable), strict=True)
    ]
    chutes = chutes_of(floor)
    inducts = emitters or [p.cell for p in floor.stations]
    drops = [c.drop for c in chutes] or [p.cell for p in floor.docks]
    if not inducts or not drops:
        raise ValueError(f"floor {floor.name} has no induct stations or no chutes for sortation")
    return inducts, drops
