"""Travel on the real floor between storage locations and stations.

Slotting scores a location by how far it is from the nearest station;
batching and routing need the distance between any two pick cells. Both come
from the floor's shortest-path `DistanceTables`, never from Manhattan
distance, so racks, walls and no-go zones are respected. Everything is
indexed by *location index* (position in ``floor.locations``) and by *cell
index* into `cells` (distinct access cells, stations and any extra
waypoints), so hot paths are numpy lookups.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from wms.errors import InputError
from wms.layout import UNREACHABLE, Cell, DistanceTables, Floor


class TravelModel:
    """Distances between the floor's pick cells, stations and waypoints.

    ``matrix[i, j]`` is the walking distance in cells between ``cells[i]`` and
    ``cells[j]``. Access cells come first, then stations, then extra cells.
    """

    def __init__(
        self,
        floor: Floor,
        tables: DistanceTables | None = None,
        extra_cells: Iterable[Cell] = (),
    ) -> None:
        if not floor.locations:
            raise InputError(floor.name, "the floor has no storage locations")
        if not floor.stations:
            raise InputError(floor.name, "the floor has no pick stations")
        self.floor = floor
        self.tables = tables if tables is not None else DistanceTables(floor.navigable)
        access = [loc.access_cell for loc in floor.locations]
        stations = [p.cell for p in floor.stations]
        self.cells: list[Cell] = list(dict.fromkeys([*access, *stations, *extra_cells]))
        self.index: dict[Cell, int] = {cell: i for i, cell in enumerate(self.cells)}
        self.location_ids = [loc.location_id for loc in floor.locations]
        self.location_index = {loc_id: i for i, loc_id in enumerate(self.location_ids)}
        self.location_cell = np.array([self.index[c] for c in access], dtype=np.int64)
        self.station_cells = np.array([self.index[c] for c in stations], dtype=np.int64)
        rows = np.array([c[0] for c in self.cells])
        cols = np.array([c[1] for c in self.cells])
        tables_k = self.tables.from_cells(self.cells)
        self.matrix = np.ascontiguousarray(tables_k[:, rows, cols]).astype(np.int64)
        to_station = self.matrix[np.ix_(self.location_cell, self.station_cells)]
        self.station_distance = to_station.min(axis=1)
        self.nearest_station = to_station.argmin(axis=1)
        reachable = self.station_distance < UNREACHABLE
        if not reachable.any():
            raise InputError(floor.name, "no storage location can be reached from a station")
        self.reachable = reachable

    def cell_index(self, cell: Cell) -> int:
        return self.index[cell]

    def location_round_trip(self) -> np.ndarray:
        """Walk from the nearest station to each location and back, in cells."""
        return 2 * self.station_distance
