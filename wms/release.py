"""Releasing planned waves into the inventory ledger.

This is where planning meets inventory: a released wave triggers
replenishment of the forward faces it will drain (`on_wave_released`), then
reserves every pick at its slotted face; completing the wave picks the
reservations and lands the top-ups. Everything is plain data in, ledger
writes out — no robots, no clocks.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from wms.catalog import Catalog
from wms.inventory_types import STORAGE_KINDS, Condition, LocationKind
from wms.layout import Floor
from wms.ledger import InsufficientStock, Ledger
from wms.ledger.floor_locations import floor_locations
from wms.opening_stock import ledger_sku
from wms.orders.model import Order, OrderException
from wms.picking.plan import Batch, Pick, PlannedWave, WavePlan
from wms.planning import SlottingOutcome
from wms.replenishment import ReplenishmentParams, ReplenishmentPlan, on_wave_released
from wms.slotting.storage import allowed_location_ids
from wms.travel import TravelModel


@dataclass(frozen=True, slots=True)
class StockingParams:
    """How a fresh ledger is stocked for a plan.

    A forward face holds ``forward_waves`` of its SKU's largest wave demand;
    its trigger is ``min_share`` of that; reserve holds ``reserve_factor`` ×
    the plan's total demand, so replenishment always has a source.
    """

    forward_waves: float = 2.0
    min_share: float = 0.3
    reserve_factor: float = 3.0


@dataclass(frozen=True, slots=True)
class WaveRelease:
    wave_id: str
    reservations: tuple[int, ...]
    reserved_units: int
    waiting_picks: tuple[Pick, ...]
    replenishment: ReplenishmentPlan


@dataclass(frozen=True, slots=True)
class WaveOutcome:
    units_picked: int
    lines_picked: int
    short_picks: tuple[Pick, ...]


@dataclass(frozen=True, slots=True)
class DayReport:
    waves: int
    lines_picked: int
    lines_waited_for_topup: int
    lines_short: int
    units_picked: int
    topups: int
    topup_units: int
    balanced: bool

    def to_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__slots__}


def ledger_slotting(
    ledger: Ledger, outcome: SlottingOutcome, travel: TravelModel
) -> SlottingOutcome:
    """The slotting as the ledger has it: each SKU picked from its (first) forward face.

    A plan released into a ledger that already holds stock must pick where
    the stock is, not where a fresh slotting would put it. SKUs without a
    forward face on this floor get no location (their orders become
    exceptions).
    """
    faces: dict[str, int] = {}
    for slot in ledger.forward_slots():
        index = travel.location_index.get(slot.location_id)
        if index is not None and travel.reachable[index]:
            faces.setdefault(slot.sku, index)
    return replace(outcome, faces=faces)


def stock_exceptions(
    ledger: Ledger, orders: Sequence[Order]
) -> tuple[list[Order], list[OrderException]]:
    """Split orders into those the ledger's stock covers and "no stock at release" exceptions.

    Orders are served in release order (cut-off, priority, arrival), each
    claiming its units from the SKU's available new stock (forward and
    reserve; reserve tops the forward face up); an order any line of which
    the remaining stock cannot cover is an exception naming the SKU, and
    claims nothing.
    """
    known = {record.sku for record in ledger.skus()}
    slotted = {slot.sku for slot in ledger.forward_slots()}
    storage = {
        r.location_id
        for r in ledger.locations()
        if r.kind in (LocationKind.FORWARD, LocationKind.RESERVE)
    }
    left: dict[str, int] = {}

    def available(sku: str) -> int:
        if sku not in left:
            left[sku] = sum(
                row.available
                for row in ledger.stock(sku=sku)
                if row.location_id in storage and row.condition is Condition.NEW
            )
        return left[sku]

    covered: list[Order] = []
    refused: list[OrderException] = []
    ranked = sorted(orders, key=lambda o: (o.due, o.priority.rank, o.arrival or o.due, o.order_id))
    for order in ranked:
        reason = None
        for line in order.lines:
            if line.sku not in known:
                reason = f"no stock at release: SKU {line.sku} is not in the ledger"
            elif line.sku not in slotted:
                reason = f"no stock at release: SKU {line.sku} has no forward face in the ledger"
            elif available(line.sku) < line.qty:
                reason = (
                    f"no stock at release: SKU {line.sku} needs {line.qty}, "
                    f"the ledger has {available(line.sku)} left"
                )
            if reason is not None:
                break
        if reason is not None:
            refused.append(OrderException(order.order_id, reason))
            continue
        for line in order.lines:
            left[line.sku] -= line.qty
        covered.append(order)
    return covered, refused


def wave_demand(batches: Iterable[Batch]) -> Counter[str]:
    demand: Counter[str] = Counter()
    for batch in batches:
        for pick in batch.picks:
            demand[pick.sku] += pick.qty
    return demand


def register_slotted(
    ledger: Ledger, floor: Floor, catalog: Catalog, slotted: dict[str, str]
) -> list[str]:
    """Register the slotted SKUs and the floor's locations: the faces slotting filled are
    forward, every other storage face reserve. Returns the reserve location ids."""
    forward_ids = set(slotted.values())
    locations = [
        replace(
            record,
            kind=LocationKind.FORWARD
            if record.location_id in forward_ids
            else LocationKind.RESERVE,
        )
        if record.kind in STORAGE_KINDS
        else record
        for record in floor_locations(floor)
    ]
    ledger.add_skus(ledger_sku(catalog, sku) for sku in sorted(slotted))
    ledger.add_locations(locations)
    return [r.location_id for r in locations if r.kind is LocationKind.RESERVE]


def stock_for_plan(
    ledger: Ledger,
    floor: Floor,
    catalog: Catalog,
    plan: WavePlan,
    params: StockingParams | None = None,
) -> None:
    """Register SKUs and locations, set forward slots where slotting put each SKU, stock them.

    Forward faces are the ones the plan picks from; every other face is
    reserve. A SKU's reserve stock goes to a reserve face of its storage
    area (a lithium SKU's to the fire-safe zone). One transaction: a failure
    leaves the ledger as it was.
    """
    params = params or StockingParams()
    slotted: dict[str, str] = {}
    for batch in plan.batches:
        for pick in batch.picks:
            slotted.setdefault(pick.sku, pick.location_id)
    peak: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for wave in plan.waves:
        demand = wave_demand(wave.batches)
        total.update(demand)
        for sku, qty in demand.items():
            peak[sku] = max(peak[sku], qty)
    storage = allowed_location_ids(floor, catalog, sorted(slotted))
    with ledger.transaction():
        reserve = register_slotted(ledger, floor, catalog, slotted)
        for i, (sku, location_id) in enumerate(sorted(slotted.items())):
            max_qty = max(1, math.ceil(params.forward_waves * peak[sku]))
            min_qty = max(0, math.floor(params.min_share * max_qty))
            ledger.set_forward_slot(location_id, sku, min_qty, max_qty)
            ledger.receive(sku, location_id, max_qty, ref="opening stock")
            own = [r for r in reserve if r in storage[sku]]
            if own:
                reserve_qty = max(1, math.ceil(params.reserve_factor * total[sku]))
                ledger.receive(sku, own[i % len(own)], reserve_qty, ref="opening stock")


def _reserve_all(ledger: Ledger, picks: Iterable[Pick]) -> tuple[list[int], int, list[Pick]]:
    """Reserve each pick at its face; the ones stock cannot cover yet come back short."""
    reservations: list[int] = []
    units = 0
    short: list[Pick] = []
    for pick in picks:
        try:
            reservations.append(
                ledger.reserve(pick.sku, pick.location_id, pick.qty, ref=pick.order_id)
            )
            units += pick.qty
        except InsufficientStock:
            short.append(pick)
    return reservations, units, short


def release_wave(
    ledger: Ledger,
    wave: PlannedWave,
    params: ReplenishmentParams | None = None,
    storage: Mapping[str, frozenset[str]] | None = None,
) -> WaveRelease:
    """Trigger replenishment for the wave's demand, then reserve every pick stock covers.

    Picks the forward face cannot cover yet wait for the top-ups that the
    release has just put in transit (`complete_wave`). ``storage`` keeps
    top-ups inside each SKU's storage area (`plan_replenishment`).
    """
    replenishment = on_wave_released(
        ledger, dict(wave_demand(wave.batches)), params, ref=wave.wave_id, storage=storage
    )
    picks = [pick for batch in wave.batches for pick in batch.picks]
    reservations, units, waiting = _reserve_all(ledger, picks)
    return WaveRelease(wave.wave_id, tuple(reservations), units, tuple(waiting), replenishment)


def complete_wave(ledger: Ledger, release: WaveRelease) -> WaveOutcome:
    """Land the top-ups, reserve the picks that waited for them, pick everything.

    One transaction; picks still short after the top-ups are reported, not
    picked (the forward face and reserve are both empty).
    """
    with ledger.transaction():
        for task in release.replenishment.tasks:
            if task.transfer_id is not None:
                ledger.arrive(task.transfer_id)
        late, late_units, short = _reserve_all(ledger, release.waiting_picks)
        for reservation_id in (*release.reservations, *late):
            ledger.pick_reserved(reservation_id)
    return WaveOutcome(
        units_picked=release.reserved_units + late_units,
        lines_picked=len(release.reservations) + len(late),
        short_picks=tuple(short),
    )


def release_plan(
    ledger: Ledger,
    floor: Floor,
    catalog: Catalog,
    plan: WavePlan,
    params: ReplenishmentParams | None = None,
) -> list[WaveRelease]:
    """Release every wave of a plan into the ledger in one transaction.

    An empty ledger is first stocked for the plan (`stock_for_plan`); a
    ledger that lacks a planned SKU or location refuses the whole release and
    is left exactly as it was.
    """
    skus = sorted(wave_demand(plan.batches))
    storage = allowed_location_ids(floor, catalog, skus)
    with ledger.transaction():
        if not ledger.skus():
            stock_for_plan(ledger, floor, catalog, plan)
        return [release_wave(ledger, wave, params, storage) for wave in plan.waves]


def run_waves(
    ledger: Ledger, plan: WavePlan, params: ReplenishmentParams | None = None
) -> DayReport:
    """Release and complete every wave in order, as a day on the floor would."""
    releases = []
    outcomes = []
    for wave in plan.waves:
        release = release_wave(ledger, wave, params)
        outcomes.append(complete_wave(ledger, release))
        releases.append(release)
    tasks = [t for r in releases for t in r.replenishment.tasks]
    return DayReport(
        waves=len(releases),
        lines_picked=sum(o.lines_picked for o in outcomes),
        lines_waited_for_topup=sum(len(r.waiting_picks) for r in releases),
        lines_short=sum(len(o.short_picks) for o in outcomes),
        units_picked=sum(o.units_picked for o in outcomes),
        topups=len(tasks),
        topup_units=sum(t.qty for t in tasks),
        balanced=ledger.balance_check().ok,
    )
