"""Slotting: ABC/velocity, cube-per-order index, affinity, golden zone, storage classes,
re-slotting."""

from wms.slotting.assign import (
    STRATEGIES,
    Slotting,
    SlottingError,
    SlottingParams,
    abc_classes,
    cube_per_order,
    expected_travel_per_line,
    random_expected_travel_per_line,
    slot,
)
from wms.slotting.demand import Demand, demand_from_orders
from wms.slotting.reslot import Move, read_slotting_csv, reslot_moves
from wms.slotting.storage import (
    StorageAreas,
    StorageClassError,
    allowed_location_ids,
    storage_areas,
)

__all__ = [
    "STRATEGIES",
    "Demand",
    "Move",
    "Slotting",
    "SlottingError",
    "SlottingParams",
    "StorageAreas",
    "StorageClassError",
    "abc_classes",
    "allowed_location_ids",
    "cube_per_order",
    "demand_from_orders",
    "expected_travel_per_line",
    "random_expected_travel_per_line",
    "read_slotting_csv",
    "reslot_moves",
    "slot",
    "storage_areas",
]
