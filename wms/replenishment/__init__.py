"""Replenishment of forward pick faces: min/max plus forecast-driven safety stock.

`on_wave_released` is the hook a released wave calls with its demand (plain
``sku -> units``); stock in transit counts as available, and the top-ups it
orders are themselves recorded in the ledger as transfers in transit.
"""

from wms.replenishment.demand_io import read_demand_csv
from wms.replenishment.forecast import Forecast, reorder_point, safety_stock, smooth
from wms.replenishment.params import ReplenishmentParams
from wms.replenishment.planner import (
    ReplenishmentPlan,
    ReplenishmentTask,
    SlotStatus,
    demand_series,
    on_wave_released,
    plan_replenishment,
)

__all__ = [
    "Forecast",
    "ReplenishmentParams",
    "ReplenishmentPlan",
    "ReplenishmentTask",
    "SlotStatus",
    "demand_series",
    "on_wave_released",
    "plan_replenishment",
    "read_demand_csv",
    "reorder_point",
    "safety_stock",
    "smooth",
]
