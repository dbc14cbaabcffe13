"""Slotting: which location each SKU lives in.

The objective is *expected travel per order line*: a line of SKU ``s`` slotted
at location ``l`` costs the walk from the nearest pick station to ``l``'s
access cell and back, on the floor's true shortest paths. Weighted by each
SKU's share of lines, that is what a picker or robot pays on average.

Strategies, all under the same constraints (`SlottingParams`):

- ``random`` — the baseline: SKUs scattered over feasible locations.
- ``abc`` — class-based storage: A movers (top ``abc_a_share`` of lines)
  fill the locations nearest the stations (the golden zone), then B, then C;
  random within a class. The textbook policy most WMSs offer.
- ``coi`` — Heskett's cube-per-order index: SKUs with the least cube moved
  per order go nearest.
- ``velocity`` (default) — an exact minimum of the objective, then
  *affinity refinement*. The cost of SKU ``i`` at location ``j`` is
  ``lines_i × trip_j`` (rank one), and forward locations are by construction
  the nearest ones, so sorting is optimal (rearrangement inequality plus an
  exchange argument): the fastest fitting SKUs fill the forward slots
  nearest first, and the rest share the reserve slots by velocity.
  `optimal_assignment` checks this against scipy's Hungarian solver in the
  tests. Affinity refinement then swaps SKUs between locations at the same
  distance from the stations (so the objective is unchanged) to put SKUs that
  are ordered together next to each other.

Constraints: locations are *forward* (the ``forward_share`` of locations
nearest the stations; shelving with a size and weight limit per slot) or
*reserve* (the rest; pallet racking that takes anything). A SKU whose unit is
larger than a forward slot or heavier than its limit may only go to reserve.
A SKU with a storage class may only go to a zone of its kind, and general
SKUs stay out of those zones (`wms.slotting.storage`); every strategy is
applied within each such storage area, so the velocity assignment stays
exact within each.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from wms.catalog import Catalog
from wms.errors import InputError
from wms.slotting.demand import Demand
from wms.slotting.storage import StorageAreas, storage_areas
from wms.travel import TravelModel

STRATEGIES = ("velocity", "abc", "coi", "random")
INFEASIBLE = 1e18


class SlottingError(InputError):
    """The SKUs cannot be slotted on this floor (too many, or none fit)."""


@dataclass(frozen=True, slots=True)
class SlottingParams:
    """Constraints and class boundaries; see the module docstring."""

    forward_share: float = 0.6
    forward_max_side_cm: float = 45.0
    forward_max_kg: float = 15.0
    abc_a_share: float = 0.8
    abc_b_share: float = 0.95
    move_cost_cells: float = 40.0
    max_moves: int = 50
    affinity_passes: int = 2

    def validate(self, source: str = "slotting") -> None:
        if not 0.0 < self.forward_share <= 1.0:
            raise InputError(f"{source}.forward_share", "must be within (0, 1]")
        if self.forward_max_side_cm <= 0 or self.forward_max_kg <= 0:
            raise InputError(f"{source}.forward_max_side_cm", "slot limits must be positive")
        if not 0.0 < self.abc_a_share < self.abc_b_share <= 1.0:
            raise InputError(f"{source}.abc_a_share", "need 0 < abc_a_share < abc_b_share <= 1")
        if self.move_cost_cells < 0 or self.max_moves < 0 or self.affinity_passes < 0:
            raise InputError(f"{source}.move_cost_cells", "move costs and counts must be >= 0")


@dataclass(frozen=True, eq=False)
class Slotting:
    """An assignment of SKUs (demand index) to locations (floor index) and its score."""

    strategy: str
    sku_location: np.ndarray
    expected_travel_per_line: float
    affinity_distance: float
    abc: tuple[str, ...] = field(repr=False, default=())
    coi: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    forward: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, dtype=bool))

    def assignments(self, demand: Demand, travel: TravelModel) -> dict[str, str]:
        return {
            sku: travel.location_ids[int(loc)]
            for sku, loc in zip(demand.skus, self.sku_location, strict=True)
        }


def forward_mask(travel: TravelModel, params: SlottingParams) -> np.ndarray:
    """True for the forward locations: the nearest share of reachable ones."""
    dist = np.where(travel.reachable, travel.station_distance, np.iinfo(np.int64).max)
    count = max(1, round(params.forward_share * int(travel.reachable.sum())))
    order = np.argsort(dist, kind="stable")
    mask = np.zeros(len(dist), dtype=bool)
    mask[order[:count]] = True
    return mask & travel.reachable


def forward_fit(catalog: Catalog, skus: tuple[str, ...], params: SlottingParams) -> np.ndarray:
    """True for SKUs whose unit fits a forward slot (size and weight)."""
    return np.array(
        [
            catalog[s].dims_sorted[0] <= params.forward_max_side_cm
            and catalog[s].weight_kg <= params.forward_max_kg
            for s in skus
        ],
        dtype=bool,
    )


def abc_classes(lines: np.ndarray, params: SlottingParams) -> tuple[str, ...]:
    """A/B/C by cumulative share of lines (velocity), fastest first."""
    order = np.argsort(-lines, kind="stable")
    total = max(1, int(lines.sum()))
    cumulative = np.cumsum(lines[order]) / total
    classes = np.empty(len(lines), dtype="<U1")
    before = np.concatenate([[0.0], cumulative[:-1]])
    classes[order] = np.where(
        before < params.abc_a_share, "A", np.where(before < params.abc_b_share, "B", "C")
    )
    return tuple(str(c) for c in classes)


def cube_per_order(demand: Demand, catalog: Catalog) -> np.ndarray:
    """Cube moved per order in which the SKU appears (litres); inf for SKUs never ordered."""
    cube = np.array([catalog[s].volume_l for s in demand.skus]) * demand.units
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(demand.orders > 0, cube / np.maximum(demand.orders, 1), np.inf)


def expected_travel_per_line(
    sku_location: np.ndarray, demand: Demand, travel: TravelModel
) -> float:
    """Line-weighted mean round trip from the nearest station, in cells."""
    total = demand.total_lines
    if total == 0:
        return 0.0
    trips = travel.location_round_trip()[sku_location]
    return float((demand.lines * trips).sum() / total)


def random_expected_travel_per_line(travel: TravelModel, filled: np.ndarray | None = None) -> float:
    """Exact expectation under uniformly random slotting: the mean location round trip.

    Over every reachable location by default; over the location indices
    ``filled`` (the ones a slotting uses) to measure placement alone: a
    random permutation of the SKUs over the same locations.
    """
    trips = travel.location_round_trip()
    if filled is not None:
        return float(trips[np.asarray(filled, dtype=np.int64)].mean()) if len(filled) else 0.0
    return float(trips[travel.reachable].mean())


def location_distances(travel: TravelModel) -> np.ndarray:
    """``[L, L]`` walking distance between the access cells of every two locations."""
    cells = travel.location_cell
    return travel.matrix[np.ix_(cells, cells)]


def affinity_distance(sku_location: np.ndarray, demand: Demand, loc_dist: np.ndarray) -> float:
    """Co-pick-weighted mean distance between SKUs ordered together (cells)."""
    copick = demand.copick.tocoo()
    if copick.nnz == 0:
        return 0.0
    d = loc_dist[sku_location[copick.row], sku_location[copick.col]]
    return float((copick.data * d).sum() / copick.data.sum())


def slot(
    catalog: Catalog,
    demand: Demand,
    travel: TravelModel,
    params: SlottingParams | None = None,
    strategy: str = "velocity",
    seed: int = 0,
) -> Slotting:
    """Slot every SKU of ``demand`` by ``strategy``; see the module docstring."""
    params = params or SlottingParams()
    params.validate()
    if strategy not in STRATEGIES:
        raise InputError("strategy", f"unknown slotting strategy {strategy!r} ({STRATEGIES})")
    n = len(demand.skus)
    forward = forward_mask(travel, params)
    fits = forward_fit(catalog, demand.skus, params)
    areas = storage_areas(travel.floor, catalog, demand.skus)
    _check_room(travel, areas, forward, fits)
    allowed = travel.reachable[None, :] & (fits[:, None] | ~forward[None, :]) & areas.allowed()
    trips = travel.location_round_trip().astype(np.float64)
    rng = np.random.default_rng(seed)
    loc_dist = location_distances(travel)
    classes = abc_classes(demand.lines, params)
    coi = cube_per_order(demand, catalog)
    if strategy == "velocity":
        sku_location = np.full(n, -1, dtype=np.int64)
        for group in np.unique(areas.sku_group):
            members = np.flatnonzero(areas.sku_group == group)
            here = areas.location_group == group
            sku_location[members] = velocity_assignment(
                demand.lines[members], fits[members], forward & here, travel.reachable & here, trips
            )
        for _ in range(params.affinity_passes):
            if not refine_affinity(sku_location, demand, trips, allowed, loc_dist):
                break
    elif strategy == "random":
        sku_location = _greedy(rng.permutation(n), rng.permutation(len(trips)), allowed, fits)
    else:
        if strategy == "abc":
            rank = np.array(["ABC".index(c) for c in classes], dtype=np.float64)
            key = rank + rng.random(n) * 0.5
        else:
            key = np.where(np.isfinite(coi), coi, np.inf)
        sku_order = np.lexsort((np.arange(n), key))
        loc_order = np.argsort(trips, kind="stable")
        if strategy == "abc":
            loc_order = _shuffle_within_classes(loc_order, classes, rng)
        sku_location = _greedy(sku_order, loc_order, allowed, fits)
    return Slotting(
        strategy=strategy,
        sku_location=sku_location,
        expected_travel_per_line=expected_travel_per_line(sku_location, demand, travel),
        affinity_distance=affinity_distance(sku_location, demand, loc_dist),
        abc=classes,
        coi=coi,
        forward=forward[sku_location],
    )


def _check_room(
    travel: TravelModel,
    areas: StorageAreas,
    forward: np.ndarray,
    fits: np.ndarray,
) -> None:
    """Every storage area has a reachable location per SKU, and reserve for the bulky ones."""
    for group in np.unique(areas.sku_group):
        members = areas.sku_group == group
        here = travel.reachable & (areas.location_group == group)
        usable = int(here.sum())
        name = areas.group_name(int(group))
        count = int(members.sum())
        if count > usable:
            hint = "use a bigger layout" if group == 0 else "make the zone bigger"
            raise SlottingError(
                travel.floor.name,
                f"{count} SKUs for {name} but only {usable} reachable storage locations; {hint}",
            )
        bulky = int((members & ~fits).sum())
        reserve_slots = int((here & ~forward).sum())
        if bulky > reserve_slots:
            raise SlottingError(
                travel.floor.name,
                f"{bulky} SKUs for {name} only fit reserve slots but there are {reserve_slots}",
            )


def velocity_assignment(
    lines: np.ndarray,
    fits: np.ndarray,
    forward: np.ndarray,
    reachable: np.ndarray,
    trips: np.ndarray,
) -> np.ndarray:
    """Exact minimiser of ``sum lines × trip`` when forward slots are the nearest ones."""
    n = len(lines)
    by_speed = np.lexsort((np.arange(n), -lines))
    forward_locs = np.flatnonzero(forward)
    forward_locs = forward_locs[np.argsort(trips[forward_locs], kind="stable")]
    reserve_locs = np.flatnonzero(reachable & ~forward)
    reserve_locs = reserve_locs[np.argsort(trips[reserve_locs], kind="stable")]
    fitting = by_speed[fits[by_speed]]
    front = fitting[: len(forward_locs)]
    back = by_speed[~np.isin(by_speed, front)]
    result = np.full(n, -1, dtype=np.int64)
    result[front] = forward_locs[: len(front)]
    result[back] = reserve_locs[: len(back)]
    return result


def optimal_assignment(lines: np.ndarray, allowed: np.ndarray, trips: np.ndarray) -> np.ndarray:
    """The general exact assignment (Hungarian), for checking `velocity_assignment`."""
    cost = np.where(allowed, lines[:, None] * trips[None, :].astype(np.float64), INFEASIBLE)
    sku_idx, loc_idx = linear_sum_assignment(cost)
    result = np.empty(len(lines), dtype=np.int64)
    result[sku_idx] = loc_idx
    return result


def _greedy(
    sku_order: np.ndarray, loc_order: np.ndarray, allowed: np.ndarray, fits: np.ndarray
) -> np.ndarray:
    """Each SKU in turn takes the first allowed free location in ``loc_order``.

    Reserve-only SKUs go first so that a fitting SKU never takes the last
    reserve slot one of them needs.
    """
    taken = np.zeros(allowed.shape[1], dtype=bool)
    result = np.full(allowed.shape[0], -1, dtype=np.int64)
    ordered = [i for i in sku_order if not fits[i]] + [i for i in sku_order if fits[i]]
    for i in ordered:
        candidates = loc_order[allowed[i, loc_order] & ~taken[loc_order]]
        loc = int(candidates[0])
        taken[loc] = True
        result[i] = loc
    return result


def _shuffle_within_classes(
    loc_order: np.ndarray, classes: tuple[str, ...], rng: np.random.Generator
) -> np.ndarray:
    """Class-based storage: the A zone is the |A| nearest locations, shuffled, and so on."""
    counts = [classes.count(c) for c in "AB"]
    bounds = [0, counts[0], counts[0] + counts[1], len(loc_order)]
    parts = [rng.permutation(loc_order[a:b]) for a, b in itertools.pairwise(bounds)]
    return np.concatenate(parts)


def refine_affinity(
    sku_location: np.ndarray,
    demand: Demand,
    trips: np.ndarray,
    allowed: np.ndarray,
    loc_dist: np.ndarray,
) -> bool:
    """Swap SKUs (or move into empty slots) within equal-distance rings to cut co-pick distance.

    A move never changes any SKU's round trip, so the travel objective is
    untouched; it only shortens the walk between SKUs ordered together.
    Returns whether anything moved.
    """
    copick = demand.copick
    copick.sort_indices()
    occupant = np.full(len(trips), -1, dtype=np.int64)
    occupant[sku_location] = np.arange(len(sku_location))
    moved = False
    ring_of = {}
    for loc in np.flatnonzero(allowed.any(axis=0)):
        ring_of.setdefault(int(trips[loc]), []).append(int(loc))
    rings = {k: np.array(v) for k, v in ring_of.items() if len(v) > 1}
    for i in np.argsort(-demand.lines, kind="stable"):
        start, end = copick.indptr[i], copick.indptr[i + 1]
        if start == end:
            continue
        partners = copick.indices[start:end]
        weights = copick.data[start:end]
        li = int(sku_location[i])
        ring = rings.get(int(trips[li]))
        if ring is None:
            continue
        candidates = ring[allowed[i, ring] & (ring != li)]
        if candidates.size == 0:
            continue
        partner_locs = sku_location[partners]
        mine_now = float((weights * loc_dist[li, partner_locs]).sum())
        mine_new = (loc_dist[np.ix_(candidates, partner_locs)] * weights).sum(axis=1)
        gain = mine_now - mine_new
        for pos in np.argsort(-gain):
            if gain[pos] <= 0:
                break
            lj = int(candidates[pos])
            j = int(occupant[lj])
            total = float(gain[pos])
            if j >= 0:
                if not allowed[j, li]:
                    continue
                js, je = copick.indptr[j], copick.indptr[j + 1]
                jp, jw = copick.indices[js:je], copick.data[js:je]
                jl = sku_location[jp]
                total += float((jw * (loc_dist[lj, jl] - loc_dist[li, jl])).sum())
                # Both sums above counted the i-j pair, whose distance a swap keeps.
                pos = int(np.searchsorted(partners, j))
                if pos < len(partners) and partners[pos] == j:
                    total -= 2.0 * float(weights[pos]) * float(loc_dist[li, lj])
            if total > 1e-9:
                sku_location[i] = lj
                occupant[lj] = i
                occupant[li] = j
                if j >= 0:
                    sku_location[j] = li
                moved = True
                break
    return moved
