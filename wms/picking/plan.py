"""Wave planning end to end: orders → waves → batches → sequenced pick routes.

Alongside the plan, the same orders are costed two baseline ways on the same
floor and slotting, so every figure separates the two gains:

- *single-order S-shape*: one order per trip, in arrival order, S-shape route
  (no batching, no routing) — what a basic WMS does;
- *batched S-shape*: our batches, S-shape routes — batching gain only.

and bounded from below: the sum over our batches of a proven lower bound on
each batch's closed tour (`wms.picking.bounds`), so the routing is shown to
be near-optimal for the batches chosen. All travel is in cells of true
walking distance, every trip starting and ending at a pick station.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from wms.catalog import Catalog
from wms.errors import InputError
from wms.layout import Cell
from wms.orders.model import Order, Tote, check_fits
from wms.picking.batching import BatchCapacity, seed_closest_batches
from wms.picking.bounds import tour_lower_bound
from wms.picking.routing import RouteSearch, solve_tour, tour_length
from wms.picking.sshape import Aisles, sshape_waypoints
from wms.picking.waves import make_waves
from wms.travel import TravelModel

Progress = Callable[[Iterable[Any], int, str], Iterable[Any]]


def no_progress(items: Iterable[Any], total: int, label: str) -> Iterable[Any]:
    return items


@dataclass(frozen=True, slots=True)
class PickingParams:
    """Capacities and search effort; see ``[wms.picking]`` in the config."""

    totes_per_batch: int = 8
    tote_volume_l: float = 40.0
    tote_max_kg: float = 15.0
    batch_max_kg: float = 100.0
    wave_max_orders: int = 400
    route_time_limit_ms: int = 0
    route_time_budget_s: float = 15.0

    @property
    def tote(self) -> Tote:
        return Tote(self.tote_volume_l, self.tote_max_kg)

    def validate(self, source: str = "picking") -> None:
        for name in ("totes_per_batch", "wave_max_orders"):
            if getattr(self, name) <= 0:
                raise InputError(f"{source}.{name}", "must be positive")
        for name in ("tote_volume_l", "tote_max_kg", "batch_max_kg"):
            if getattr(self, name) <= 0:
                raise InputError(f"{source}.{name}", "must be positive")
        if self.batch_max_kg < self.tote_max_kg:
            raise InputError(f"{source}.batch_max_kg", "must hold at least one full tote")
        if self.route_time_limit_ms < 0 or self.route_time_budget_s < 0:
            raise InputError(f"{source}.route_time_limit_ms", "must be >= 0")


@dataclass(frozen=True, slots=True)
class Pick:
    order_id: str
    sku: str
    qty: int
    location_id: str
    cell: Cell


@dataclass(frozen=True, slots=True)
class Batch:
    """One trip: orders in totes, the station it starts and ends at, the stops in order."""

    batch_id: str
    orders: tuple[str, ...]
    station: str
    station_cell: Cell
    stops: tuple[Cell, ...]
    picks: tuple[Pick, ...]
    weight_kg: float
    volume_l: float
    travel: int
    sshape_travel: int
    lower_bound: int

    @property
    def route(self) -> list[Cell]:
        """Station, stops in visiting order, station."""
        return [self.station_cell, *self.stops, self.station_cell]


@dataclass(frozen=True)
class PlannedWave:
    wave_id: str
    due: str
    priority: str
    batches: tuple[Batch, ...]


@dataclass(frozen=True)
class WavePlan:
    waves: tuple[PlannedWave, ...]
    travel: int
    baseline_single_order_sshape_travel: int
    baseline_batched_sshape_travel: int
    lower_bound: int
    orders: int
    lines: int
    seconds: Mapping[str, float] = field(default_factory=dict)

    @property
    def batches(self) -> list[Batch]:
        return [b for w in self.waves for b in w.batches]


def choose_station(cells: np.ndarray, travel: TravelModel) -> int:
    """Index into ``travel.station_cells`` of the station nearest the picks in total."""
    to_stations = travel.matrix[np.ix_(travel.station_cells, cells)].sum(axis=1)
    return int(np.argmin(to_stations))


def sshape_length(stop_cells: list[Cell], station: int, travel: TravelModel, aisles: Aisles) -> int:
    """Closed S-shape tour from the station through ``stop_cells``."""
    waypoints = sshape_waypoints(stop_cells, aisles)
    nodes = [int(travel.station_cells[station]), *(travel.index[c] for c in waypoints)]
    nodes.append(nodes[0])
    return int(travel.matrix[nodes[:-1], nodes[1:]].sum())


def _order_cells(
    order: Order, location_of: Mapping[str, int], travel: TravelModel
) -> tuple[np.ndarray, list[Pick]]:
    picks = []
    for line in order.lines:
        loc = location_of.get(line.sku)
        if loc is None:
            raise InputError(order.origin or order.order_id, f"SKU {line.sku!r} has no location")
        cell_index = int(travel.location_cell[loc])
        picks.append(
            Pick(
                order.order_id,
                line.sku,
                line.qty,
                travel.location_ids[loc],
                travel.cells[cell_index],
            )
        )
    cells = np.unique([travel.index[p.cell] for p in picks]).astype(np.int64)
    return cells, picks


def plan_waves(
    orders: Sequence[Order],
    catalog: Catalog,
    location_of: Mapping[str, int],
    travel: TravelModel,
    aisles: Aisles,
    params: PickingParams,
    progress: Progress = no_progress,
    with_baselines: bool = True,
) -> WavePlan:
    """Plan ``orders`` into waves, batches and OR-Tools routes, with baselines and bound."""
    params.validate()
    check_fits(orders, catalog, params.tote)
    clock = time.perf_counter()
    cells_of: dict[str, np.ndarray] = {}
    picks_of: dict[str, list[Pick]] = {}
    for order in orders:
        if order.order_id in cells_of:
            raise InputError(order.origin or order.order_id, f"duplicate order {order.order_id}")
        cells_of[order.order_id], picks_of[order.order_id] = _order_cells(
            order, location_of, travel
        )
    capacity = BatchCapacity(params.totes_per_batch, params.batch_max_kg)
    far = travel.matrix[:, travel.station_cells].min(axis=1)
    waves = make_waves(orders, params.wave_max_orders)
    grouped: list[tuple[Any, list[list[Order]]]] = []
    for wave in waves:
        cells = [cells_of[o.order_id] for o in wave.orders]
        weights = np.array([o.weight_kg(catalog) for o in wave.orders])
        spread = np.array([far[c].max() for c in cells], dtype=np.float64)
        index_batches = seed_closest_batches(cells, weights, travel.matrix, spread, capacity)
        grouped.append((wave, [[wave.orders[i] for i in b] for b in index_batches]))
    batching_s = time.perf_counter() - clock

    clock = time.perf_counter()
    total_batches = sum(len(b) for _, b in grouped)
    budget_ms = params.route_time_budget_s * 1000.0
    planned_waves: list[PlannedWave] = []
    items = ((wave, batch) for wave, batches in grouped for batch in batches)
    current: dict[str, list[tuple[list[Order], int, list[int], np.ndarray, int]]] = {}
    for done, (wave, batch) in enumerate(progress(items, total_batches, "routing")):
        cells = np.unique(np.concatenate([cells_of[o.order_id] for o in batch]))
        station = choose_station(cells, travel)
        nodes = np.concatenate([[travel.station_cells[station]], cells])
        dist = travel.matrix[np.ix_(nodes, nodes)]
        limit = 0
        if params.route_time_limit_ms > 0:
            elapsed_ms = (time.perf_counter() - clock) * 1000.0
            share = (budget_ms - elapsed_ms) / max(1, total_batches - done)
            limit = int(min(params.route_time_limit_ms, share))
        order = solve_tour(dist, RouteSearch(limit))
        length = tour_length(dist, order)
        current.setdefault(wave.wave_id, []).append((batch, station, order, nodes, length))
    routing_s = time.perf_counter() - clock

    clock = time.perf_counter()
    total = sshape_batched = bound = 0
    counter = 0
    for wave, _ in grouped:
        built = []
        for batch, station, order, nodes, length in current.get(wave.wave_id, []):
            counter += 1
            stop_cells = [travel.cells[int(nodes[k])] for k in order]
            if with_baselines:
                s_len = sshape_length(stop_cells, station, travel, aisles)
                dist = travel.matrix[np.ix_(nodes, nodes)]
                lb = tour_lower_bound(dist, length)
            else:
                s_len = lb = 0
            total += length
            sshape_batched += s_len
            bound += lb
            station_point = travel.floor.stations[station]
            built.append(
                Batch(
                    batch_id=f"B{counter:05d}",
                    orders=tuple(o.order_id for o in batch),
                    station=station_point.point_id,
                    station_cell=station_point.cell,
                    stops=tuple(stop_cells),
                    picks=tuple(p for o in batch for p in picks_of[o.order_id]),
                    weight_kg=round(sum(o.weight_kg(catalog) for o in batch), 3),
                    volume_l=round(sum(o.volume_l(catalog) for o in batch), 3),
                    travel=length,
                    sshape_travel=s_len,
                    lower_bound=lb,
                )
            )
        planned_waves.append(
            PlannedWave(
                wave.wave_id, wave.due.isoformat(sep=" "), wave.priority.value, tuple(built)
            )
        )
    single = 0
    if with_baselines:
        for order in sorted(orders, key=lambda o: (o.arrival or o.due, o.order_id)):
            cells = cells_of[order.order_id]
            station = choose_station(cells, travel)
            single += sshape_length([travel.cells[int(c)] for c in cells], station, travel, aisles)
    baselines_s = time.perf_counter() - clock
    return WavePlan(
        waves=tuple(planned_waves),
        travel=total,
        baseline_single_order_sshape_travel=single,
        baseline_batched_sshape_travel=sshape_batched,
        lower_bound=bound,
        orders=len(orders),
        lines=sum(len(o.lines) for o in orders),
        seconds={
            "batching": round(batching_s, 3),
            "routing": round(routing_s, 3),
            "plan": round(batching_s + routing_s, 3),
            "baselines_and_bound": round(baselines_s, 3),
        },
    )
