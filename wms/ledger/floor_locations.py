"""Ledger locations from a floor: forward faces nearest the stations, the rest reserve.

Which faces are forward is a slotting decision; this gives a sensible default
(the share of faces with the shortest walk to their nearest station) so a fresh
ledger on any floor is usable. Each dock door gives a dock location and a
returns staging location (``RET-<dock>``) at the same cell, where returns are
unloaded and graded. Each storage location carries the storage zone kind it
stands in (`wms.layout.zones.location_zones`), which the ledger enforces.
"""

from __future__ import annotations

import numpy as np

from wms.inventory_types import LocationKind
from wms.layout import DistanceTables, Floor
from wms.layout.zones import location_zones
from wms.ledger.records import LocationRecord

RETURNS_PREFIX = "RET-"


def floor_locations(floor: Floor, forward_share: float = 0.25) -> list[LocationRecord]:
    if not 0.0 <= forward_share <= 1.0:
        raise ValueError(f"forward_share must be in [0, 1], got {forward_share}")
    faces = list(floor.locations)
    forward: set[str] = set()
    if faces and floor.stations:
        tables = DistanceTables(floor.navigable)
        nearest = tables.from_cells([p.cell for p in floor.stations]).min(axis=0)
        walk = np.array([nearest[f.access_cell] for f in faces], dtype=np.int64)
        order = np.lexsort((np.arange(len(faces)), walk))
        count = round(forward_share * len(faces))
        forward = {faces[i].location_id for i in order[:count]}
    zones = location_zones(floor)
    records = [
        LocationRecord(
            f.location_id,
            LocationKind.FORWARD if f.location_id in forward else LocationKind.RESERVE,
            f.access_cell,
            zones[f.location_id],
        )
        for f in faces
    ]
    for dock in floor.docks:
        records.append(LocationRecord(dock.point_id, LocationKind.DOCK, dock.cell))
        records.append(
            LocationRecord(RETURNS_PREFIX + dock.point_id, LocationKind.RETURNS, dock.cell)
        )
    return records
