"""Putting the planning parts together for one floor and one order set.

The CLI and the benchmarks both need the same steps — choose the orders
(CSV or the seeded synthetic stream), build the travel model, slot the SKUs,
plan the waves — so they live here once, as plain functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wms.catalog import Catalog, derived_catalog, read_catalog_csv, synthetic_catalog
from wms.layout import UNREACHABLE, DistanceTables, Floor
from wms.orders import OrderBook, OrderException, generate_orders, read_orders_csv
from wms.picking.aisles import Aisles, find_aisles
from wms.picking.plan import PickingParams, Progress, WavePlan, no_progress, plan_waves
from wms.planning_config import PlanningConfig
from wms.slotting import (
    Slotting,
    SlottingParams,
    demand_from_orders,
    random_expected_travel_per_line,
    slot,
)
from wms.slotting.demand import Demand
from wms.travel import TravelModel

DEFAULT_SKUS = 400
FILL_SHARE = 0.7
"""A generated floor's synthetic catalogue fills at most this share of its reachable faces."""


def fitting_sku_count(floor: Floor, wanted: int = DEFAULT_SKUS) -> int:
    """How many synthetic SKUs a floor holds comfortably: ``wanted``, or fewer on a small floor.

    Slotting needs a reachable face per SKU and room in reserve for the SKUs
    too big for forward shelving; `FILL_SHARE` of the faces a station can
    reach leaves both (the default floor: 400 SKUs on 576 faces).
    """
    if not floor.locations or not floor.stations:
        return 1
    tables = DistanceTables(floor.navigable)
    nearest = tables.from_cells([p.cell for p in floor.stations]).min(axis=0)
    reachable = sum(1 for loc in floor.locations if nearest[loc.access_cell] < UNREACHABLE)
    return max(1, min(wanted, int(FILL_SHARE * reachable)))


def default_catalog(
    config: PlanningConfig, seed: int, sku_ids: Sequence[str] | None = None
) -> Catalog:
    """The measured catalogue if configured, else the synthetic one.

    ``sku_ids`` (the SKUs a ledger stocks) replace the synthetic catalogue's
    ids; the dimensions of a SKU depend only on its id and the seed, so the
    synthetic ``SKU-0001`` … get the same dimensions either way.
    """
    if config.catalog_path is not None:
        return read_catalog_csv(config.catalog_path)
    if sku_ids is not None:
        return derived_catalog(sku_ids, seed=seed)
    return synthetic_catalog(config.skus, seed)


def load_order_book(
    config: PlanningConfig,
    orders_csv: str | Path | None,
    seed: int = 0,
    sku_ids: Sequence[str] | None = None,
) -> OrderBook:
    """Orders from a CSV, or the seeded synthetic stream when no file is given.

    ``sku_ids`` restrict the synthetic stream to those SKUs (see `default_catalog`).
    """
    catalog = default_catalog(config, seed, sku_ids)
    if orders_csv is not None:
        return read_orders_csv(orders_csv, catalog, config.uci_cutoff_hour)
    orders = generate_orders(catalog, config.profile, seed)
    return OrderBook(orders, catalog, "synthetic")


@dataclass(frozen=True, eq=False)
class FloorModel:
    """The travel model and aisles of a floor, built once per run."""

    floor: Floor
    travel: TravelModel
    aisles: Aisles


def floor_model(floor: Floor, tables: DistanceTables | None = None) -> FloorModel:
    aisles = find_aisles(floor)
    return FloorModel(floor, TravelModel(floor, tables, aisles.end_cells()), aisles)


@dataclass(frozen=True, eq=False)
class SlottingOutcome:
    """Where each SKU is picked from, and the random-slotting baselines.

    ``random_travel_per_line`` is random slotting over every reachable
    location; ``random_same_locations_travel_per_line`` shuffles the SKUs
    over exactly the locations this slotting fills, so the gap to it is the
    placement alone. ``faces`` (SKU → location index) replaces the slotting,
    e.g. by the forward faces of a ledger the plan is released into.
    """

    demand: Demand
    slotting: Slotting
    random_travel_per_line: float
    random_same_locations_travel_per_line: float = 0.0
    faces: Mapping[str, int] | None = None

    def location_of(self) -> dict[str, int]:
        if self.faces is not None:
            return dict(self.faces)
        return {
            sku: int(loc)
            for sku, loc in zip(self.demand.skus, self.slotting.sku_location, strict=True)
        }


def slot_book(
    book: OrderBook,
    model: FloorModel,
    params: SlottingParams,
    strategy: str = "velocity",
    seed: int = 0,
) -> SlottingOutcome:
    demand = demand_from_orders(book.orders, book.catalog)
    slotting = slot(book.catalog, demand, model.travel, params, strategy, seed)
    return SlottingOutcome(
        demand,
        slotting,
        random_expected_travel_per_line(model.travel),
        random_expected_travel_per_line(model.travel, slotting.sku_location),
    )


def plan_book(
    orders: Sequence,
    catalog: Catalog,
    outcome: SlottingOutcome,
    model: FloorModel,
    params: PickingParams,
    progress: Progress = no_progress,
    with_baselines: bool = True,
    exceptions: Sequence[OrderException] = (),
) -> WavePlan:
    """Plan ``orders`` on the slotting; ``exceptions`` are orders refused before planning."""
    return plan_waves(
        orders,
        catalog,
        outcome.location_of(),
        model.travel,
        model.aisles,
        params,
        progress,
        with_baselines,
        exceptions,
    )


def as_cells(cells: Sequence[tuple[int, int]] | np.ndarray) -> list[list[int]]:
    return [[int(r), int(c)] for r, c in cells]
