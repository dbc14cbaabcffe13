"""A demo ledger on a floor: seven months of receipts, picks, replenishment and returns.

Seeded and deterministic, so ``warehouse stock`` on a fresh checkout shows a
believable warehouse: popular SKUs picked daily from forward faces and topped
up from reserve, a few dead SKUs ageing in reserve (clearance candidates),
graded returns, open reservations and a transfer still in transit.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from wms.inventory_types import Condition, LocationKind
from wms.layout import Floor
from wms.ledger.clock import ManualClock
from wms.ledger.errors import LedgerError
from wms.ledger.floor_locations import floor_locations
from wms.ledger.ledger import Ledger
from wms.ledger.queries import utc_now
from wms.ledger.records import LocationRecord, SkuRecord

DEMO_END = datetime(2026, 11, 1, 18, 0, tzinfo=UTC)
CATEGORIES = (
    ("general", 12.0),
    ("electronics", 89.0),
    ("hygiene", 7.5),
    ("apparel", 35.0),
    ("toys", 24.0),
    ("books", 15.0),
)


def demo_skus(count: int, rng: random.Random) -> list[SkuRecord]:
    skus = []
    for i in range(count):
        category, base = CATEGORIES[i % len(CATEGORIES)]
        price = round(base * rng.uniform(0.5, 2.0), 2)
        skus.append(SkuRecord(f"SKU-{i + 1:04d}", f"demo {category} item {i + 1}", category, price))
    return skus


def seed_demo(
    url: str,
    floor: Floor,
    *,
    seed: int = 0,
    skus: int = 40,
    days: int = 200,
    end: datetime | None = None,
    progress: Callable[[int], object] | None = None,
) -> Ledger:
    """Write the demo history into an empty ledger at ``url``; returns it open.

    The history ends at ``end`` (default: now, so forecasts and ageing see
    recent demand); ``progress`` is called with 1 per simulated day. The last
    fifth of the SKUs are never picked after receipt: they age in reserve and
    show up as slow movers and clearance candidates.
    """
    if end is None:
        end = utc_now().replace(minute=0, second=0, microsecond=0)
    rng = random.Random(seed)
    clock = ManualClock(end - timedelta(days=days))
    ledger = Ledger.open(url, clock)
    if not ledger.is_empty():
        ledger.close()
        raise LedgerError(url, "is not empty; the demo seeds only a new ledger")
    locations = floor_locations(floor)
    forward = [r.location_id for r in locations if r.kind is LocationKind.FORWARD]
    reserve = [r.location_id for r in locations if r.kind is LocationKind.RESERVE]
    returns = [r.location_id for r in locations if r.kind is LocationKind.RETURNS]
    if len(forward) < skus or len(reserve) < skus or not returns:
        raise LedgerError(
            floor.name, "floor too small for the demo (needs forward, reserve and docks)"
        )
    catalogue = demo_skus(skus, rng)
    dead = {s.sku for s in catalogue[skus - skus // 5 :]}
    popularity = {s.sku: 1.0 / (rank + 1) ** 0.8 for rank, s in enumerate(catalogue)}
    slot = {s.sku: forward[i] for i, s in enumerate(catalogue)}
    home = {s.sku: reserve[i * (len(reserve) // skus)] for i, s in enumerate(catalogue)}
    with ledger.transaction():
        ledger.add_skus(catalogue)
        ledger.add_locations(locations)
        for s in catalogue:
            ledger.set_forward_slot(slot[s.sku], s.sku, 8, 40)
            ledger.receive(s.sku, home[s.sku], rng.randint(150, 400), ref="PO-initial")
            ledger.move(s.sku, home[s.sku], slot[s.sku], 40, ref="initial fill")
        for day in range(days):
            clock.advance(timedelta(days=1))
            _demo_day(ledger, rng, catalogue, dead, popularity, slot, home, day, returns[0])
            if progress is not None:
                progress(1)
        # Open work at the end: a wave reserved but not yet picked, a top-up in transit.
        live = [s.sku for s in catalogue if s.sku not in dead]
        for sku in live[:5]:
            if ledger.available(sku, slot[sku]) >= 2:
                ledger.reserve(sku, slot[sku], 2, ref="WAVE-open")
        sku = live[0]
        if ledger.available(sku, home[sku]) >= 10:
            ledger.dispatch(sku, slot[sku], 10, from_location=home[sku], ref="REPL-open")
    return ledger


def _demo_day(
    ledger: Ledger,
    rng: random.Random,
    catalogue: list[SkuRecord],
    dead: set[str],
    popularity: dict[str, float],
    slot: dict[str, str],
    home: dict[str, str],
    day: int,
    returns_location: str,
) -> None:
    for s in catalogue:
        if s.sku in dead:
            continue
        demand = sum(1 for _ in range(12) if rng.random() < popularity[s.sku])
        take = min(demand, ledger.available(s.sku, slot[s.sku]))
        if take > 0:
            ledger.pick(s.sku, slot[s.sku], take, ref=f"ORD-{day:03d}")
        if ledger.on_hand(s.sku, slot[s.sku]) < 8:
            top_up = min(
                40 - ledger.on_hand(s.sku, slot[s.sku]), ledger.available(s.sku, home[s.sku])
            )
            if top_up > 0:
                ledger.move(s.sku, home[s.sku], slot[s.sku], top_up, ref="replenish")
        if ledger.available(s.sku, home[s.sku]) < 30:
            ledger.receive(s.sku, home[s.sku], 200, ref=f"PO-{day:03d}")
        for row in ledger.stock(sku=s.sku, location_id=returns_location):
            if row.condition.used and row.available > 0 and rng.random() < 0.08:
                ledger.pick(s.sku, returns_location, 1, row.condition, ref=f"USED-{day:03d}")
        if (
            day % 9 == 0
            and rng.random() < 0.25
            and ledger.sold_qty(s.sku) > ledger.returned_qty(s.sku)
        ):
            grade = rng.choice([Condition.NEW, Condition.USED_LIKE_NEW, Condition.USED_GOOD])
            ledger.return_in(s.sku, returns_location, 1, grade, ref=f"RMA-{day:03d}-{s.sku}")


TINY_SKUS = (
    SkuRecord("A", "kitchen scale", "general", 10.0),
    SkuRecord("B", "headphones", "electronics", 100.0),
    SkuRecord("C", "toothbrush", "hygiene", 5.0),
)
TINY_LOCATIONS = (
    ("F1", LocationKind.FORWARD),
    ("F2", LocationKind.FORWARD),
    ("R1", LocationKind.RESERVE),
    ("R2", LocationKind.RESERVE),
    ("RET", LocationKind.RETURNS),
    ("D1", LocationKind.DOCK),
)


def tiny_ledger(url: str = ":memory:", clock: ManualClock | None = None) -> Ledger:
    """Three SKUs, six locations, two forward slots, no stock: for examples and tests."""
    ledger = Ledger.open(url, clock or ManualClock(DEMO_END))
    ledger.add_skus(TINY_SKUS)
    ledger.add_locations(LocationRecord(i, k) for i, k in TINY_LOCATIONS)
    ledger.set_forward_slot("F1", "A", 5, 20)
    ledger.set_forward_slot("F2", "B", 2, 10)
    return ledger
