"""The ``[floor]`` section of a config: a generated layout or a ``.map`` plus points.

Each table is a dataclass read by `core.config`; `build_floor` turns the
checked section into a `Floor`.

```toml
[floor]
name = "default"
cell_size_m = 1.0
[floor.layout]            # either a generated layout ...
blocks_x = 3
[floor.map]               # ... or a MovingAI map with named points as [row, col]
file = "maps/site.map"    # relative to the config file
rack_terrain = "T"
stations = [[30, 4]]
[[floor.zones]]           # polygons in metres, origin at the south-west corner
name = "charging"
kind = "charging"
polygon = [[0, 0], [4, 0], [4, 8], [0, 8]]
```
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from core.config import Positive, Where
from wms.errors import InputError
from wms.layout.floor import Floor, FloorPoint, PointKind, Zone, ZoneKind
from wms.layout.generator import LayoutParams, generate_layout, storage_locations
from wms.layout.grid import BLOCKED_TERRAIN, Cell
from wms.layout.mapfile import read_map
from wms.layout.sortation import SortationParams, generate_sortation
from wms.layout.zones import make_zone


@dataclass(frozen=True)
class MapSection:
    """``[floor.map]``: a MovingAI map (relative to the config) and its named points."""

    file: Path
    rack_terrain: str = "T"
    stations: tuple[Cell, ...] = ()
    chargers: tuple[Cell, ...] = ()
    docks: tuple[Cell, ...] = ()

    def validate(self, where: Where) -> None:
        """Called by `core.config.load`: racks are drawn with blocked terrain."""
        if not self.rack_terrain or not set(self.rack_terrain) <= BLOCKED_TERRAIN:
            raise (where / "rack_terrain").error(
                f"{self.rack_terrain!r} must be one or more blocked terrain characters "
                f"({''.join(sorted(BLOCKED_TERRAIN))})"
            )


@dataclass(frozen=True)
class ZoneSection:
    """One ``[[floor.zones]]`` entry: a polygon in metres, rasterised by `make_zone`."""

    name: str
    kind: ZoneKind
    polygon: tuple[tuple[float, float], ...]
    speed_limit_mps: float | None = None


@dataclass(frozen=True)
class FloorSection:
    """The ``[floor]`` section: exactly one of ``layout``, ``map`` or ``sortation``."""

    name: str = "floor"
    cell_size_m: Annotated[float, Positive] = 1.0
    layout: LayoutParams | None = None
    map: MapSection | None = None
    sortation: SortationParams | None = None
    zones: tuple[ZoneSection, ...] = ()

    def validate(self, where: Where) -> None:
        """Called by `core.config.load`."""
        if sum(kind is not None for kind in (self.layout, self.map, self.sortation)) != 1:
            raise where.error(
                "needs exactly one of [floor.layout], [floor.map] or [floor.sortation]"
            )


def build_floor(section: FloorSection, where: Where) -> Floor:
    """The floor a checked ``[floor]`` section describes; errors name the section's keys."""
    if section.layout is not None:
        floor = generate_layout(section.layout, section.name)
    elif section.sortation is not None:
        floor = generate_sortation(section.sortation, section.name)
    else:
        assert section.map is not None
        floor = _floor_from_map(section.map, where / "map", section.name)
    floor = Floor(floor.name, floor.terrain, section.cell_size_m, floor.locations, floor.points)
    zones = tuple(_zone(zone, floor, where / "zones" / i) for i, zone in enumerate(section.zones))
    return floor.with_zones(zones)


def floor_from_map_file(path: str | Path, rack_terrain: str = "T") -> Floor:
    """A floor straight from a ``.map``: storage locations from racks, no named points."""
    terrain = read_map(path)
    return Floor(Path(path).stem, terrain, locations=storage_locations(terrain, rack_terrain))


def _floor_from_map(section: MapSection, where: Where, name: str) -> Floor:
    try:
        floor = floor_from_map_file(section.file, section.rack_terrain)
    except InputError as error:
        raise (where / "file").error(str(error)) from None
    points: list[FloorPoint] = []
    for key, kind, prefix in (
        ("stations", PointKind.STATION, "P"),
        ("chargers", PointKind.CHARGER, "C"),
        ("docks", PointKind.DOCK, "D"),
    ):
        for i, cell in enumerate(getattr(section, key)):
            if not floor.is_navigable(cell):
                reason = "outside the map" if not _inside(floor, cell) else "a blocked cell"
                raise (where / key / i).error(f"{list(cell)} is {reason} of {section.file}")
            points.append(FloorPoint(f"{prefix}{i + 1}", kind, cell))
    return Floor(name, floor.terrain, locations=floor.locations, points=tuple(points))


def _inside(floor: Floor, cell: tuple[int, int]) -> bool:
    return 0 <= cell[0] < floor.height and 0 <= cell[1] < floor.width


def _zone(zone: ZoneSection, floor: Floor, where: Where) -> Zone:
    return make_zone(
        zone.name,
        zone.kind,
        zone.polygon,
        floor.shape,
        floor.cell_size_m,
        zone.speed_limit_mps,
        str(where),
    )
