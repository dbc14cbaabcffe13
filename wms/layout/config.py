"""The ``[floor]`` section of a config: a generated layout or a ``.map`` plus points.

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

from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

from wms.config_tables import (
    check_keys,
    get_cells,
    get_float,
    get_int,
    get_str,
    require_table,
)
from wms.errors import InputError
from wms.layout.floor import Floor, FloorPoint, PointKind, Zone, ZoneKind
from wms.layout.generator import LayoutParams, generate_layout, storage_locations
from wms.layout.grid import BLOCKED_TERRAIN
from wms.layout.mapfile import read_map
from wms.layout.sortation import SortationParams, generate_sortation
from wms.layout.zones import make_zone

FLOOR_KEYS = ("name", "cell_size_m", "layout", "map", "sortation", "zones")
P = TypeVar("P", LayoutParams, SortationParams)
MAP_KEYS = ("file", "rack_terrain", "stations", "chargers", "docks")
ZONE_KEYS = ("name", "kind", "polygon", "speed_limit_mps")


def floor_from_table(table: Mapping[str, Any], base_dir: Path, source: str) -> Floor:
    """Build the floor a ``[floor]`` table describes; errors name ``source`` and the key."""
    where = f"{source}: floor"
    table = require_table(table, where)
    check_keys(table, FLOOR_KEYS, where)
    name = get_str(table, "name", where, "floor")
    cell_size = get_float(table, "cell_size_m", where, 1.0)
    if cell_size <= 0:
        raise InputError(f"{where}.cell_size_m", "must be positive")
    kinds = [key for key in ("layout", "map", "sortation") if key in table]
    if len(kinds) != 1:
        raise InputError(
            where, "needs exactly one of [floor.layout], [floor.map] or [floor.sortation]"
        )
    if kinds[0] == "layout":
        floor = generate_layout(_layout_params(table["layout"], f"{where}.layout"), name)
    elif kinds[0] == "sortation":
        floor = generate_sortation(
            _sortation_params(table["sortation"], f"{where}.sortation"), name
        )
    else:
        floor = _floor_from_map_table(table["map"], base_dir, f"{where}.map", name)
    floor = Floor(floor.name, floor.terrain, cell_size, floor.locations, floor.points)
    zones_value = table.get("zones", [])
    if not isinstance(zones_value, list):
        raise InputError(f"{where}.zones", "must be an array of tables ([[floor.zones]])")
    zones = tuple(_zone(item, floor, f"{where}.zones[{i}]") for i, item in enumerate(zones_value))
    return floor.with_zones(zones)


def floor_from_map_file(path: str | Path, rack_terrain: str = "T") -> Floor:
    """A floor straight from a ``.map``: storage locations from racks, no named points."""
    terrain = read_map(path)
    return Floor(Path(path).stem, terrain, locations=storage_locations(terrain, rack_terrain))


def _layout_params(value: Any, where: str) -> LayoutParams:
    params = _int_params(LayoutParams, value, where)
    params.validate(where)
    return params


def _sortation_params(value: Any, where: str) -> SortationParams:
    params = _int_params(SortationParams, value, where)
    params.validate(where)
    return params


def _int_params(kind: type[P], value: Any, where: str) -> P:
    """A dataclass of whole-number parameters from a table; missing keys keep the default."""
    table = require_table(value, where)
    names = [item.name for item in fields(kind)]  # type: ignore[arg-type]
    check_keys(table, names, where)
    defaults = kind()
    return kind(**{n: get_int(table, n, where, getattr(defaults, n)) for n in names})


def _floor_from_map_table(value: Any, base_dir: Path, where: str, name: str) -> Floor:
    table = require_table(value, where)
    check_keys(table, MAP_KEYS, where)
    map_path = Path(get_str(table, "file", where))
    if not map_path.is_absolute():
        map_path = base_dir / map_path
    rack_terrain = get_str(table, "rack_terrain", where, "T")
    if not rack_terrain or not set(rack_terrain) <= BLOCKED_TERRAIN:
        raise InputError(
            f"{where}.rack_terrain",
            f"{rack_terrain!r} must be one or more blocked terrain characters "
            f"({''.join(sorted(BLOCKED_TERRAIN))})",
        )
    try:
        floor = floor_from_map_file(map_path, rack_terrain)
    except InputError as error:
        raise InputError(f"{where}.file", str(error)) from None
    points: list[FloorPoint] = []
    for key, kind, prefix in (
        ("stations", PointKind.STATION, "P"),
        ("chargers", PointKind.CHARGER, "C"),
        ("docks", PointKind.DOCK, "D"),
    ):
        for i, cell in enumerate(get_cells(table, key, where)):
            if not floor.is_navigable(cell):
                reason = "outside the map" if not _inside(floor, cell) else "a blocked cell"
                raise InputError(f"{where}.{key}[{i}]", f"{list(cell)} is {reason} of {map_path}")
            points.append(FloorPoint(f"{prefix}{i + 1}", kind, cell))
    return Floor(name, floor.terrain, locations=floor.locations, points=tuple(points))


def _inside(floor: Floor, cell: tuple[int, int]) -> bool:
    return 0 <= cell[0] < floor.height and 0 <= cell[1] < floor.width


def _zone(value: Any, floor: Floor, where: str) -> Zone:
    table = require_table(value, where)
    check_keys(table, ZONE_KEYS, where)
    name = get_str(table, "name", where)
    kind_text = get_str(table, "kind", where)
    try:
        kind = ZoneKind(kind_text)
    except ValueError:
        known = ", ".join(k.value for k in ZoneKind)
        raise InputError(
            f"{where}.kind", f"unknown zone kind {kind_text!r} (known: {known})"
        ) from None
    polygon = table.get("polygon")
    if not isinstance(polygon, list) or not all(
        isinstance(v, list)
        and len(v) == 2
        and all(isinstance(x, int | float) and not isinstance(x, bool) for x in v)
        for v in polygon
    ):
        raise InputError(f"{where}.polygon", "must be a list of [x, y] pairs in metres")
    speed = table.get("speed_limit_mps")
    if speed is not None:
        speed = get_float(table, "speed_limit_mps", where)
    return make_zone(name, kind, polygon, floor.shape, floor.cell_size_m, speed, where)
