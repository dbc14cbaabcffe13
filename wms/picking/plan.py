"""Wave planning end to end: orders → tote loads → waves → batches → sequenced pick routes.

Orders as they really come: an order larger than one tote is split over as
many totes as it needs (`wms.orders.model.tote_loads`) and kept in one batch
where the batch's totes and payload allow, otherwise in consecutive batches
of its wave; an order that cannot be planned at all (a SKU the catalogue or
the slotting does not know, a unit that fits no tote, a duplicate id) goes
to the exception list with its reason, and the rest of the day is planned:
``orders planned + exceptions == orders in``, always.

Alongside the plan, the same orders are costed the standard baseline ways on
the same floor and slotting (`wms.picking.heuristics`, Roodbergen & de
Koster 2001), so every figure separates the gains:

- *single-order*: one order per trip (no batching), routed by S-shape, by
  the best of S-shape, largest gap and combined for that order, and by our
  own router (exact / OR-Tools) — the last isolates the batching gain;
- *batched*: our batches, routed by each of the three heuristics.

and bounded from below: the sum over our batches of a proven lower bound on
each batch's closed tour (`wms.picking.bounds`) — a lower bound on routing
the chosen batches, not on the whole problem. All travel is in cells of true
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
from wms.orders.model import Order, OrderException, Tote, tote_loads
from wms.picking.aisles import Aisles
from wms.picking.batching import BatchCapacity, improve_batches, seed_closest_batches
from wms.picking.bounds import EXACT_MAX_STOPS, exact_tour, tour_lower_bound
from wms.picking.heuristics import (
    WAYPOINTS,
    Heuristic,
    heuristic_lengths,
    matrix_distance,
    route_length,
)
from wms.picking.routing import RouteSearch, solve_tour, tour_length
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
    """One line (or the part of a line) picked into one tote.

    ``order_id`` is the customer order; ``tote`` the tote load it goes into
    (the order id itself unless the order was split over totes).
    """

    order_id: str
    sku: str
    qty: int
    location_id: str
    cell: Cell
    tote: str = ""


@dataclass(frozen=True, slots=True)
class Batch:
    """One trip: orders in totes, the station it starts and ends at, the stops in order.

    ``orders`` are the customer orders on the trip, ``totes`` its tote loads
    (one per order, more for an order split over totes). The three heuristic
    travels route the same stops by S-shape, largest gap and combined.
    """

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
    totes: tuple[str, ...] = ()
    largest_gap_travel: int = 0
    combined_travel: int = 0

    @property
    def route(self) -> list[Cell]:
        """Station, stops in visiting order, station."""
        return [self.station_cell, *self.stops, self.station_cell]

    @property
    def best_heuristic_travel(self) -> int:
        return min(self.sshape_travel, self.largest_gap_travel, self.combined_travel)


@dataclass(frozen=True)
class PlannedWave:
    wave_id: str
    due: str
    priority: str
    batches: tuple[Batch, ...]


@dataclass(frozen=True)
class WavePlan:
    """The day's plan, its baselines and bound, and the orders it had to leave out.

    ``orders`` counts the orders planned; ``orders_in`` every order given,
    ``orders == orders_in - len(exceptions)``.
    """

    waves: tuple[PlannedWave, ...]
    travel: int
    baseline_single_order_sshape_travel: int
    baseline_batched_sshape_travel: int
    lower_bound: int
    orders: int
    lines: int
    seconds: Mapping[str, float] = field(default_factory=dict)
    orders_in: int = 0
    exceptions: tuple[OrderException, ...] = ()
    multi_tote_orders: tuple[str, ...] = ()
    baseline_single_order_best_heuristic_travel: int = 0
    baseline_batched_largest_gap_travel: int = 0
    baseline_batched_combined_travel: int = 0
    baseline_single_order_routed_travel: int = 0

    @property
    def batches(self) -> list[Batch]:
        return [b for w in self.waves for b in w.batches]

    @property
    def baseline_batched_best_heuristic_travel(self) -> int:
        """Our batches, each routed by whichever heuristic is shortest for it."""
        return sum(b.best_heuristic_travel for b in self.batches)


def choose_station(cells: np.ndarray, travel: TravelModel) -> int:
    """Index into ``travel.station_cells`` of the station nearest the picks in total."""
    to_stations = travel.matrix[np.ix_(travel.station_cells, cells)].sum(axis=1)
    return int(np.argmin(to_stations))


def heuristic_travel(
    cells: np.ndarray, station: int, travel: TravelModel, aisles: Aisles
) -> dict[Heuristic, int]:
    """Closed route lengths of the three heuristics through cell indices ``cells``."""
    stops = [travel.cells[int(c)] for c in cells]
    start = travel.cells[int(travel.station_cells[station])]
    return heuristic_lengths(stops, aisles, start, matrix_distance(travel.matrix, travel.index))


@dataclass(frozen=True, eq=False)
class _Unit:
    """What batching places as one: an order's tote loads (all of them, or a batch-sized part).

    ``solo`` units are parts of an order too big for one batch: each is a
    batch of its own, and an order's parts are consecutive in its wave.
    """

    loads: tuple[Order, ...]
    solo: bool = False


def prepare_orders(
    orders: Sequence[Order],
    catalog: Catalog,
    location_of: Mapping[str, int],
    tote: Tote,
) -> tuple[list[Order], dict[str, tuple[Order, ...]], list[OrderException]]:
    """Plannable orders, each one's tote loads, and the exceptions with their reasons."""
    planned: list[Order] = []
    loads_of: dict[str, tuple[Order, ...]] = {}
    exceptions: list[OrderException] = []
    for order in orders:
        where = order.origin or order.order_id
        reason = None
        if order.order_id in loads_of:
            reason = f"{where}: duplicate order id {order.order_id}"
        elif not order.lines:
            reason = f"{where}: order {order.order_id} has no lines"
        else:
            unknown = [line.sku for line in order.lines if line.sku not in catalog]
            unslotted = [line.sku for line in order.lines if line.sku not in location_of]
            if unknown:
                reason = f"{where}: unknown SKU {unknown[0]!r} (not in the catalogue)"
            elif unslotted:
                reason = f"{where}: SKU {unslotted[0]!r} has no storage location"
        if reason is None:
            try:
                loads_of[order.order_id] = tote_loads(order, catalog, tote)
            except InputError as error:
                reason = str(error)
        if reason is not None:
            exceptions.append(OrderException(order.order_id, reason))
        else:
            planned.append(order)
    return planned, loads_of, exceptions


def _units(loads: tuple[Order, ...], catalog: Catalog, capacity: BatchCapacity) -> list[_Unit]:
    """One unit when the loads fit one batch, else consecutive batch-sized solo parts."""
    weights = [load.weight_kg(catalog) for load in loads]
    if len(loads) <= capacity.totes and sum(weights) <= capacity.max_weight_kg + 1e-9:
        return [_Unit(loads)]
    parts: list[list[Order]] = [[]]
    weight = 0.0
    for load, w in zip(loads, weights, strict=True):
        full = len(parts[-1]) >= capacity.totes or weight + w > capacity.max_weight_kg + 1e-9
        if parts[-1] and full:
            parts.append([])
            weight = 0.0
        parts[-1].append(load)
        weight += w
    return [_Unit(tuple(p), solo=True) for p in parts]


def _order_cells(
    order: Order, customer: str, location_of: Mapping[str, int], travel: TravelModel
) -> tuple[np.ndarray, list[Pick]]:
    picks = []
    for line in order.lines:
        loc = location_of[line.sku]
        cell_index = int(travel.location_cell[loc])
        picks.append(
            Pick(
                customer,
                line.sku,
                line.qty,
                travel.location_ids[loc],
                travel.cells[cell_index],
                order.order_id,
            )
        )
    cells = np.unique([travel.index[p.cell] for p in picks]).astype(np.int64)
    return cells, picks


@dataclass(frozen=True, eq=False)
class _Trip:
    """A batch on its way through planning: its tote loads, station and routed stops."""

    wave_id: str
    loads: list[Order]
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
    picks = [p for o in trip.loads for p in picks_of[o.order_id]]
    return tuple(sorted(picks, key=lambda p: position[p.cell]))


def _unit_cells(unit: _Unit, cells_of: Mapping[str, np.ndarray]) -> np.ndarray:
    return np.unique(np.concatenate([cells_of[load.order_id] for load in unit.loads]))


def _form_batches(
    waves: Sequence[Wave],
    units_of: Mapping[str, list[_Unit]],
    catalog: Catalog,
    cells_of: Mapping[str, np.ndarray],
    travel: TravelModel,
    params: PickingParams,
    progress: Progress,
) -> list[tuple[Wave, list[list[Order]]]]:
    """Tote loads per batch, per wave: solo parts first (consecutive), then batched units."""
    capacity = BatchCapacity(params.totes_per_batch, params.batch_max_kg)
    from_station = travel.matrix[:, travel.station_cells].min(axis=1)
    grouped = []
    for wave in progress(waves, len(waves), "batching"):
        units = [u for o in wave.orders for u in units_of[o.order_id]]
        solo = [list(u.loads) for u in units if u.solo]
        shared = [u for u in units if not u.solo]
        cells = [_unit_cells(u, cells_of) for u in shared]
        weights = np.array([sum(load.weight_kg(catalog) for load in u.loads) for u in shared])
        sizes = np.array([len(u.loads) for u in shared], dtype=np.int64)
        farthest = np.array([from_station[c].max() for c in cells], dtype=np.float64)
        index_batches = seed_closest_batches(
            cells, weights, travel.matrix, farthest, capacity, sizes
        )
        index_batches = improve_batches(
            index_batches,
            cells,
            weights,
            travel.matrix,
            from_station,
            capacity,
            params.batch_improve_neighbours,
            params.batch_improve_rounds,
            sizes,
        )
        batched = [[load for i in b for load in shared[i].loads] for b in index_batches]
        grouped.append((wave, solo + batched))
    return grouped


def heuristic_order(
    nodes: np.ndarray, station: int, travel: TravelModel, aisles: Aisles
) -> list[int]:
    """Positions ``1..`` of ``nodes[1:]`` in the order the best heuristic route reaches them."""
    start = travel.cells[int(travel.station_cells[station])]
    stops = [travel.cells[int(c)] for c in nodes[1:]]
    distance = matrix_distance(travel.matrix, travel.index)
    routes = [make(stops, aisles, start, distance) for make in WAYPOINTS.values()]
    best = min(routes, key=lambda r: route_length(start, r, distance))
    position = {cell: k + 1 for k, cell in enumerate(stops)}
    return list(dict.fromkeys(position[c] for c in best if c in position))


def _route_batches(
    grouped: list[tuple[Wave, list[list[Order]]]],
    cells_of: Mapping[str, np.ndarray],
    travel: TravelModel,
    aisles: Aisles,
    params: PickingParams,
    progress: Progress,
) -> list[_Trip]:
    """Route per batch: exact up to `EXACT_MAX_STOPS` stops, OR-Tools above.

    A small batch's optimal tour costs milliseconds by dynamic programming,
    where OR-Tools' descent can stop a few cells short of it; larger batches
    go to OR-Tools, guided-search time shared out of the planning budget.
    Should OR-Tools' route come out longer than the best standard heuristic
    on the same stops (rare), its search is restarted from the heuristic's
    order, so no batch is routed worse than a heuristic would route it.
    """
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
        if len(nodes) - 1 <= EXACT_MAX_STOPS:
            sequence = exact_tour(dist)[1]
        else:
            limit = 0
            if params.route_time_limit_ms > 0:
                elapsed_ms = (time.perf_counter() - clock) * 1000.0
                share = (budget_ms - elapsed_ms) / max(1, total - done)
                limit = int(min(params.route_time_limit_ms, share))
            sequence = solve_tour(dist, RouteSearch(limit))
            known = heuristic_order(nodes, station, travel, aisles)
            if tour_length(dist, known) < tour_length(dist, sequence):
                sequence = solve_tour(dist, RouteSearch(limit), known)
        trips.append(
            _Trip(wave.wave_id, batch, station, nodes, sequence, tour_length(dist, sequence))
        )
    return trips


def single_order_travel(
    units: Iterable[_Unit],
    cells_of: Mapping[str, np.ndarray],
    travel: TravelModel,
    aisles: Aisles,
) -> tuple[int, int, int]:
    """The no-batching baselines: each order its own trip, by S-shape, by the best heuristic,
    and by our router (exact up to `EXACT_MAX_STOPS` stops, OR-Tools descent above).

    An order split over more totes than one batch carries makes one trip per
    batch-sized part, as it does in the plan. The third figure isolates the
    batching gain: same routing, one order per trip.
    """
    sshape = best = routed = 0
    for unit in units:
        cells = _unit_cells(unit, cells_of)
        station = choose_station(cells, travel)
        lengths = heuristic_travel(cells, station, travel, aisles)
        sshape += lengths[Heuristic.SSHAPE]
        best += min(lengths.values())
        nodes = np.concatenate([[travel.station_cells[station]], cells])
        dist = travel.matrix[np.ix_(nodes, nodes)]
        if len(nodes) - 1 <= EXACT_MAX_STOPS:
            routed += exact_tour(dist)[0]
        else:
            routed += tour_length(dist, solve_tour(dist, RouteSearch(0)))
    return sshape, best, routed


def plan_waves(
    orders: Sequence[Order],
    catalog: Catalog,
    location_of: Mapping[str, int],
    travel: TravelModel,
    aisles: Aisles,
    params: PickingParams,
    progress: Progress = no_progress,
    with_baselines: bool = True,
    exceptions: Sequence[OrderException] = (),
) -> WavePlan:
    """Plan ``orders`` into waves, batches and OR-Tools routes, with baselines and bound.

    ``exceptions`` are orders already refused upstream (at import, or for
    lack of stock); they are counted in ``orders_in`` and reported with the
    ones refused here. ``with_baselines=False`` skips the heuristic
    baselines and the lower bound (reported as 0) when only the plan is
    wanted.
    """
    params.validate()
    clock = time.perf_counter()
    planned, loads_of, refused = prepare_orders(orders, catalog, location_of, params.tote)
    capacity = BatchCapacity(params.totes_per_batch, params.batch_max_kg)
    cells_of: dict[str, np.ndarray] = {}
    picks_of: dict[str, list[Pick]] = {}
    units_of: dict[str, list[_Unit]] = {}
    for order in planned:
        for load in loads_of[order.order_id]:
            cells_of[load.order_id], picks_of[load.order_id] = _order_cells(
                load, order.order_id, location_of, travel
            )
        units_of[order.order_id] = _units(loads_of[order.order_id], catalog, capacity)
    waves = make_waves(planned, params.wave_max_orders)
    grouped = _form_batches(waves, units_of, catalog, cells_of, travel, params, progress)
    batching_s = time.perf_counter() - clock
    clock = time.perf_counter()
    trips = _route_batches(grouped, cells_of, travel, aisles, params, progress)
    routing_s = time.perf_counter() - clock

    clock = time.perf_counter()
    by_wave: dict[str, list[Batch]] = {}
    for number, trip in enumerate(progress(trips, len(trips), "baselines"), start=1):
        stop_cells = trip.stop_cells(travel)
        lengths = dict.fromkeys(Heuristic, 0)
        bound = 0
        if with_baselines:
            lengths = heuristic_travel(trip.nodes[1:], trip.station, travel, aisles)
            bound = tour_lower_bound(trip.distances(travel), trip.length)
        station = travel.floor.stations[trip.station]
        by_wave.setdefault(trip.wave_id, []).append(
            Batch(
                batch_id=f"B{number:05d}",
                orders=tuple(dict.fromkeys(o.customer_id for o in trip.loads)),
                station=station.point_id,
                station_cell=station.cell,
                stops=tuple(stop_cells),
                picks=_in_route_order(trip, picks_of, stop_cells),
                weight_kg=round(sum(o.weight_kg(catalog) for o in trip.loads), 3),
                volume_l=round(sum(o.volume_l(catalog) for o in trip.loads), 3),
                travel=trip.length,
                sshape_travel=lengths[Heuristic.SSHAPE],
                lower_bound=bound,
                totes=tuple(o.order_id for o in trip.loads),
                largest_gap_travel=lengths[Heuristic.LARGEST_GAP],
                combined_travel=lengths[Heuristic.COMBINED],
            )
        )
    planned_waves = tuple(
        PlannedWave(
            wave.wave_id,
            wave.due.isoformat(sep=" "),
            wave.priority.value,
            tuple(by_wave.get(wave.wave_id, ())),
        )
        for wave, _ in grouped
    )
    batches = [b for w in planned_waves for b in w.batches]
    single = best_single = routed_single = 0
    if with_baselines:
        ranked = sorted(planned, key=lambda o: (o.arrival or o.due, o.order_id))
        units = (u for o in ranked for u in units_of[o.order_id])
        single, best_single, routed_single = single_order_travel(units, cells_of, travel, aisles)
    baselines_s = time.perf_counter() - clock
    return WavePlan(
        waves=planned_waves,
        travel=sum(b.travel for b in batches),
        baseline_single_order_sshape_travel=single,
        baseline_batched_sshape_travel=sum(b.sshape_travel for b in batches),
        lower_bound=sum(b.lower_bound for b in batches),
        orders=len(planned),
        lines=sum(len(o.lines) for o in planned),
        seconds={
            "batching": round(batching_s, 3),
            "routing": round(routing_s, 3),
            "plan": round(batching_s + routing_s, 3),
            "baselines_and_bound": round(baselines_s, 3),
        },
        orders_in=len(orders) + len(exceptions),
        exceptions=(*exceptions, *refused),
        multi_tote_orders=tuple(o.order_id for o in planned if len(loads_of[o.order_id]) > 1),
        baseline_single_order_best_heuristic_travel=best_single,
        baseline_single_order_routed_travel=routed_single,
        baseline_batched_largest_gap_travel=sum(b.largest_gap_travel for b in batches),
        baseline_batched_combined_travel=sum(b.combined_travel for b in batches),
    )
