"""Zones: polygons in metres rasterised onto the grid.

A cell belongs to a zone when the polygon covers the cell's centre; a polygon
that leaves the floor is an input error, not something to clip silently.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely

from wms.errors import InputError
from wms.layout.floor import STORAGE_ZONE_KINDS, Floor, Zone, ZoneKind
from wms.layout.grid import cell_centres_xy


def floor_outline(shape: tuple[int, int], cell_size_m: float) -> shapely.Polygon:
    height, width = shape
    return shapely.box(0.0, 0.0, width * cell_size_m, height * cell_size_m)


def rasterise(polygon: shapely.Polygon, shape: tuple[int, int], cell_size_m: float) -> np.ndarray:
    """Boolean ``[H, W]`` mask of cells whose centre lies inside or on the polygon."""
    xs, ys = cell_centres_xy(shape, cell_size_m)
    shapely.prepare(polygon)
    return shapely.intersects_xy(polygon, xs, ys)


def make_zone(
    name: str,
    kind: ZoneKind,
    vertices: Sequence[Sequence[float]],
    shape: tuple[int, int],
    cell_size_m: float,
    speed_limit_mps: float | None = None,
    source: str = "zone",
) -> Zone:
    """Validate a polygon against the floor and rasterise it into a `Zone`."""
    if len(vertices) < 3:
        raise InputError(source, f"zone {name!r} needs at least 3 vertices, got {len(vertices)}")
    try:
        polygon = shapely.Polygon([(float(x), float(y)) for x, y in vertices])
    except (TypeError, ValueError):
        raise InputError(
            source, f"zone {name!r} vertices must be [x, y] pairs of numbers"
        ) from None
    if not polygon.is_valid or polygon.area <= 0:
        raise InputError(source, f"zone {name!r} polygon is not a simple polygon with area")
    outline = floor_outline(shape, cell_size_m)
    if not outline.buffer(1e-9).covers(polygon):
        xmin, ymin, xmax, ymax = outline.bounds
        raise InputError(
            source,
            f"zone {name!r} reaches outside the floor "
            f"(x {xmin:g}..{xmax:g} m, y {ymin:g}..{ymax:g} m)",
        )
    if kind is ZoneKind.SPEED_LIMIT and (speed_limit_mps is None or speed_limit_mps <= 0):
        raise InputError(source, f"speed-limit zone {name!r} needs a positive speed_limit_mps")
    mask = rasterise(polygon, shape, cell_size_m)
    mask.flags.writeable = False
    return Zone(name, kind, polygon, mask, speed_limit_mps)


GENERAL_STORAGE = 0
"""`location_groups`' group of a location outside every storage zone."""


def location_groups(floor: Floor) -> tuple[tuple[ZoneKind, ...], np.ndarray]:
    """The storage zone kinds and the group of every storage location (0: general storage,
    ``k``: in a zone of ``kinds[k - 1]``). A location is in a zone when its rack cell,
    where the goods stand, is; the first kind listed wins where zones overlap."""
    kinds = STORAGE_ZONE_KINDS
    groups = np.zeros(len(floor.locations), dtype=np.int64)
    rows = np.array([loc.rack_cell[0] for loc in floor.locations], dtype=np.int64)
    cols = np.array([loc.rack_cell[1] for loc in floor.locations], dtype=np.int64)
    for number, kind in enumerate(kinds, start=1):
        for zone in floor.zones:
            if zone.kind is kind and len(rows):
                inside = zone.mask[rows, cols] & (groups == GENERAL_STORAGE)
                groups[inside] = number
    return kinds, groups


def location_zones(floor: Floor) -> dict[str, ZoneKind | None]:
    """The storage zone kind each storage location stands in (None: general storage)."""
    kinds, groups = location_groups(floor)
    return {
        loc.location_id: None if g == GENERAL_STORAGE else kinds[g - 1]
        for loc, g in zip(floor.locations, groups.tolist(), strict=True)
    }
