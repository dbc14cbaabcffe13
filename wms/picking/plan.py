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
from wms.picking.batching import BatchCapacity, improve_batches, seed_closest_batches
from wms.picking.bounds import tour_lower_bound
from wms.picking.routing import RouteSearch, solve_tour, tour_length
from wms.picking.sshape import Aisles, sshape_waypoints
from wms.picking.waves import Wave, make_waves
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
    route_time_budget_s: float = 10.0
    batch_improve_rounds: int = 2
    batch_improve_neighbours: int = 3

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
        if self.batch_improve_rounds < 0 or self.batch_improve_neighbours < 0:
            raise InputError(f"{source}.batch_improve_rounds", "must be >= 0")
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


@dataclass(frozen=True, eq=False)
class _Trip:
    """A batch on its way through planning: its orders, station and routed stops."""

    wave_id: str
    orders: list[Order]
    station: int
    nodes: np.ndarray
    sequence: list[int]
    length: int

    def stop_cells(self, travel: TravelModel) -> list[Cell]:
        return [travel.cells[int(self.nodes[k])] for k in self.sequence]

    def distances(self, travel: TravelModel) -> np.ndarray:
        return travel.matrix[np.ix_(self.nodes, self.nodes)]


def _in_route_order(
    trip: _Trip, picks_of: Mapping[str, list[Pick]], stop_cells: list[Cell]
) -> tuple[Pick, ...]:
    """The batch's picks as a pick list: in the order the route reaches their cells."""
    position = {cell: i for i, cell in enumerate(stop_cells)}
    picks = [p for o in trip.orders for p in picks_of[o.order_id]]
    return tuple(sorted(picks, key=lambda p: position[p.cell]))


def _form_batches(
    orders: Sequence[Order],
    catalog: Catalog,
    cells_of: Mapping[str, np.ndarray],
    travel: TravelModel,
    params: PickingParams,
    progress: Progress,
) -> list[tuple[Wave, list[list[Order]]]]:
    capacity = BatchCapacity(params.totes_per_batch, params.batch_max_kg)
    from_station = travel.matrix[:, travel.station_cells].min(axis=1)
    grouped = []
    waves = make_waves(orders, params.wave_max_orders)
    for wave in progress(waves, len(waves), "batching"):
        cells = [cells_of[o.order_id] for o in wave.orders]
        weights = np.array([o.weight_kg(catalog) for o in wave.orders])
        farthest = np.array([from_station[c].max() for c in cells], dtype=np.float64)
        index_batches = seed_closest_batches(cells, weights, travel.matrix, farthest, capacity)
        index_batches = improve_batches(
            index_batches,
            cells,
            weights,
            travel.matrix,
            from_station,
            capacity,
            params.batch_improve_neighbours,
            params.batch_improve_rounds,
        )
        grouped.append((wave, [[wave.orders[i] for i in b] for b in index_batches]))
    return grouped


def _route_batches(
    grouped: list[tuple[Wave, list[list[Order]]]],
    cells_of: Mapping[str, np.ndarray],
    travel: TravelModel,
    params: PickingParams,
    progress: Progress,
) -> list[_Trip]:
    """OR-Tools route per batch; guided-search time shared out of the planning budget."""
    clock = time.perf_counter()
    total = sum(len(b) for _, b in grouped)
    budget_ms = params.route_time_budget_s * 1000.0
    items = ((wave, batch) for wave, batches in grouped for batch in batches)
    trips = []
    for done, (wave, batch) in enumerate(progress(items, total, "routing")):
        cells = np.unique(np.concatenate([cells_of[o.order_id] for o in batch]))
        station = choose_station(cells, travel)
        nodes = np.concatenate([[travel.station_cells[station]], cells])
        dist = travel.matrix[np.ix_(nodes, nodes)]
        limit = 0
        if params.route_time_limit_ms > 0:
            elapsed_ms = (time.perf_counter() - clock) * 1000.0
            share = (budget_ms - elapsed_ms) / max(1, total - done)
            limit = int(min(params.route_time_limit_ms, share))
        sequence = solve_tour(dist, RouteSearch(limit))
        trips.append(
            _Trip(wave.wave_id, batch, station, nodes, sequence, tour_length(dist, sequence))
        )
    return trips


def single_order_sshape_travel(
    orders: Sequence[Order],
    cells_of: Mapping[str, np.ndarray],
    travel: TravelModel,
    aisles: Aisles,
) -> int:
    """The no-batching, no-routing baseline: each order its own S-shape trip, in arrival order."""
    total = 0
    for order in sorted(orders, key=lambda o: (o.arrival or o.due, o.order_id)):
        cells = cells_of[order.order_id]
        station = choose_station(cells, travel)
        total += sshape_length([travel.cells[int(c)] for c in cells], station, travel, aisles)
    return total


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
    """Plan ``orders`` into waves, batches and OR-Tools routes, with baselines and bound.

    ``with_baselines=False`` skips the S-shape baselines and the lower bound
    (reported as 0) when only the plan is wanted.
    """
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
    grouped = _form_batches(orders, catalog, cells_of, travel, params, progress)
    batching_s = time.perf_counter() - clock
    clock = time.perf_counter()
    trips = _route_batches(grouped, cells_of, travel, params, progress)
    routing_s = time.perf_counter() - clock

    clock = time.perf_counter()
    by_wave: dict[str, list[Batch]] = {}
    for number, trip in enumerate(progress(trips, len(trips), "baselines"), start=1):
        stop_cells = trip.stop_cells(travel)
        sshape = bound = 0
        if with_baselines:
            sshape = sshape_length(stop_cells, trip.station, travel, aisles)
            bound = tour_lower_bound(trip.distances(travel), trip.length)
        station = travel.floor.stations[trip.station]
        by_wave.setdefault(trip.wave_id, []).append(
            Batch(
                batch_id=f"B{number:05d}",
                orders=tuple(o.order_id for o in trip.orders),
                station=station.point_id,
                station_cell=station.cell,
                stops=tuple(stop_cells),
                picks=_in_route_order(trip, picks_of, stop_cells),
                weight_kg=round(sum(o.weight_kg(catalog) for o in trip.orders), 3),
                volume_l=round(sum(o.volume_l(catalog) for o in trip.orders), 3),
                travel=trip.length,
                sshape_travel=sshape,
                lower_bound=bound,
            )
        )
    waves = tuple(
        PlannedWave(
            wave.wave_id,
            wave.due.isoformat(sep=" "),
            wave.priority.value,
            tuple(by_wave.get(wave.wave_id, ())),
        )
        for wave, _ in grouped
    )
    batches = [b for w in waves for b in w.batches]
    single = single_order_sshape_travel(orders, cells_of, travel, aisles) if with_baselines else 0
    baselines_s = time.perf_counter() - clock
    return WavePlan(
        waves=waves,
        travel=sum(b.travel for b in batches),
        baseline_single_order_sshape_travel=single,
        baseline_batched_sshape_travel=sum(b.sshape_travel for b in batches),
        lower_bound=sum(b.lower_bound for b in batches),
        orders=len(orders),
        lines=sum(len(o.lines) for o in orders),
        seconds={
            "batching": round(batching_s, 3),
            "routing": round(routing_s, 3),
            "plan": round(batching_s + routing_s, 3),
            "baselines_and_bound": round(baselines_s, 3),
        },
    )
