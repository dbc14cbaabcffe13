"""The warehouse floor as data: terrain, storage locations, stations, zones.

`Floor` is the one object every package builds on. It is immutable: changes at
run time (a spilled pallet) are the fleet's business and are layered on top of
``navigable`` without editing the floor.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np
import shapely

from wms.layout.grid import Cell, cell_centre_xy, passable_mask


class Heading(enum.Enum):
    """Side of a rack cell that faces the aisle it is picked from."""

    NORTH = "N"
    EAST = "E"
    SOUTH = "S"
    WEST = "W"


@dataclass(frozen=True, slots=True)
class StorageLocation:
    """One pickable rack face: the rack cell and the free cell a robot stands on."""

    location_id: str
    rack_cell: Cell
    access_cell: Cell
    face: Heading


class PointKind(enum.Enum):
    STATION = "station"
    CHARGER = "charger"
    DOCK = "dock"


@dataclass(frozen=True, slots=True)
class FloorPoint:
    """A named free cell with a role: pick station, charger or dock door."""

    point_id: str
    kind: PointKind
    cell: Cell


class ZoneKind(enum.Enum):
    """What a zone is for. ``fire_safe`` and ``cold`` are storage zones: goods of a storage
    class (lithium batteries, flammables; temperature-controlled) may only be slotted there."""

    PICK = "pick"
    NO_GO = "no_go"
    CHARGING = "charging"
    SPEED_LIMIT = "speed_limit"
    HUMAN_ONLY = "human_only"
    FIRE_SAFE = "fire_safe"
    COLD = "cold"


STORAGE_ZONE_KINDS = (ZoneKind.FIRE_SAFE, ZoneKind.COLD)
"""The zone kinds that hold goods of a storage class (and are reserved for them)."""


@dataclass(frozen=True, eq=False)
class Zone:
    """A polygon in metres and the grid cells whose centres it contains."""

    name: str
    kind: ZoneKind
    polygon: shapely.Polygon
    mask: np.ndarray
    speed_limit_mps: float | None = None

    @property
    def cell_count(self) -> int:
        return int(self.mask.sum())


@dataclass(frozen=True, eq=False)
class Floor:
    """Terrain grid plus the WMS's named places on it.

    ``terrain`` keeps the original ``.map`` characters (ASCII codes) so that a
    map written back is byte-for-byte what was read. ``navigable`` is where a
    robot may drive: free terrain minus no-go and human-only zones.
    """

    name: str
    terrain: np.ndarray
    cell_size_m: float = 1.0
    locations: tuple[StorageLocation, ...] = ()
    points: tuple[FloorPoint, ...] = ()
    zones: tuple[Zone, ...] = ()
    passable: np.ndarray = field(init=False, repr=False)
    navigable: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        passable = passable_mask(self.terrain)
        passable.flags.writeable = False
        navigable = passable.copy()
        for zone in self.zones:
            if zone.kind in (ZoneKind.NO_GO, ZoneKind.HUMAN_ONLY):
                navigable &= ~zone.mask
        navigable.flags.writeable = False
        self.terrain.flags.writeable = False
        object.__setattr__(self, "passable", passable)
        object.__setattr__(self, "navigable", navigable)

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.terrain.shape[0]), int(self.terrain.shape[1]))

    @property
    def height(self) -> int:
        return self.shape[0]

    @property
    def width(self) -> int:
        return self.shape[1]

    @property
    def free_cell_count(self) -> int:
        return int(self.navigable.sum())

    def points_of(self, kind: PointKind) -> tuple[FloorPoint, ...]:
        return tuple(p for p in self.points if p.kind is kind)

    @property
    def stations(self) -> tuple[FloorPoint, ...]:
        return self.points_of(PointKind.STATION)

    @property
    def chargers(self) -> tuple[FloorPoint, ...]:
        return self.points_of(PointKind.CHARGER)

    @property
    def docks(self) -> tuple[FloorPoint, ...]:
        return self.points_of(PointKind.DOCK)

    def is_navigable(self, cell: Cell) -> bool:
        r, c = cell
        return 0 <= r < self.height and 0 <= c < self.width and bool(self.navigable[r, c])

    def cell_xy(self, cell: Cell) -> tuple[float, float]:
        """Centre of a cell in metres (see `wms.layout.grid` for the frame)."""
        return cell_centre_xy(self.shape, cell, self.cell_size_m)

    def free_cells(self) -> np.ndarray:
        """``[K, 2]`` int array of navigable cells in row-major order."""
        return np.argwhere(self.navigable)

    def with_zones(self, zones: tuple[Zone, ...]) -> Floor:
        return Floor(self.name, self.terrain, self.cell_size_m, self.locations, self.points, zones)
