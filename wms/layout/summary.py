"""A floor's headline figures, for ``warehouse floor info`` and reports."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from wms.layout.distances import DistanceTables, mean_free_distance
from wms.layout.floor import Floor


@dataclass(frozen=True, slots=True)
class FloorSummary:
    name: str
    height: int
    width: int
    cell_size_m: float
    free_cells: int
    blocked_cells: int
    locations: int
    stations: int
    chargers: int
    docks: int
    zones: dict[str, dict[str, object]]
    mean_distance: float
    distance_samples: int

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def summarise(
    floor: Floor, tables: DistanceTables | None = None, samples: int = 256, seed: int = 0
) -> FloorSummary:
    tables = tables or DistanceTables(floor.navigable)
    return FloorSummary(
        name=floor.name,
        height=floor.height,
        width=floor.width,
        cell_size_m=floor.cell_size_m,
        free_cells=floor.free_cell_count,
        blocked_cells=floor.height * floor.width - int(floor.passable.sum()),
        locations=len(floor.locations),
        stations=len(floor.stations),
        chargers=len(floor.chargers),
        docks=len(floor.docks),
        zones={
            z.name: {
                "kind": z.kind.value,
                "cells": z.cell_count,
                "area_m2": round(z.polygon.area, 3),
            }
            for z in floor.zones
        },
        mean_distance=round(mean_free_distance(tables, samples, seed), 3),
        distance_samples=min(samples, floor.free_cell_count),
    )
