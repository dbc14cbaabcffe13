"""The floor: grid, storage locations, stations, chargers, docks, zones, distances."""

from wms.layout.config import FloorSection, build_floor, floor_from_map_file
from wms.layout.distances import UNREACHABLE, DistanceTables, mean_free_distance
from wms.layout.floor import (
    Floor,
    FloorPoint,
    Heading,
    PointKind,
    StorageLocation,
    Zone,
    ZoneKind,
)
from wms.layout.generator import LayoutParams, generate_layout, storage_locations
from wms.layout.grid import Cell
from wms.layout.mapfile import format_map, parse_map, read_map, write_map
from wms.layout.summary import FloorSummary, summarise

__all__ = [
    "UNREACHABLE",
    "Cell",
    "DistanceTables",
    "Floor",
    "FloorPoint",
    "FloorSection",
    "FloorSummary",
    "Heading",
    "LayoutParams",
    "PointKind",
    "StorageLocation",
    "Zone",
    "ZoneKind",
    "build_floor",
    "floor_from_map_file",
    "format_map",
    "generate_layout",
    "mean_free_distance",
    "parse_map",
    "read_map",
    "storage_locations",
    "summarise",
    "write_map",
]
