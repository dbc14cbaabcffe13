"""Storage classes in the ledger: a lithium, flammable or cold SKU enters storage only in a
zone of its kind, whichever operation puts it there (receipt, return, count gain, move,
transfer, forward slot), and a refused operation writes nothing."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from warehouse.config import load_config
from wms.catalog import synthetic_catalog
from wms.inventory_types import STORAGE_KINDS, Condition, LocationKind, StorageClass
from wms.layout import ZoneKind
from wms.layout.zones import make_zone
from wms.ledger import (
    LedgerError,
    LocationRecord,
    ManualClock,
    SkuRecord,
    WrongStorageZone,
    floor_locations,
    open_ledger,
)
from wms.opening_stock import ledger_sku

FIRE, COLD = ZoneKind.FIRE_SAFE, ZoneKind.COLD
LOCATIONS = (
    LocationRecord("F-GEN", LocationKind.FORWARD),
    LocationRecord("F-FIRE", LocationKind.FORWARD, zone=FIRE),
    LocationRecord("F-COLD", LocationKind.FORWARD, zone=COLD),
    LocationRecord("R-GEN", LocationKind.RESERVE),
    LocationRecord("R-FIRE", LocationKind.RESERVE, zone=FIRE),
    LocationRecord("R-COLD", LocationKind.RESERVE, zone=COLD),
    LocationRecord("RET", LocationKind.RETURNS),
    LocationRecord("DOCK", LocationKind.DOCK),
)
SKUS = tuple(SkuRecord(f"S-{c.value}", storage_class=c) for c in StorageClass)
BY_ID = {r.location_id: r for r in LOCATIONS}


def allowed(sku: SkuRecord, location_id: str) -> bool:
    """The rule, said independently of the ledger's code."""
    location = BY_ID[location_id]
    need = sku.storage_class.zone_kind
    return need is None or location.kind not in STORAGE_KINDS or location.zone is need


def zoned_ledger(locations=LOCATIONS):
    ledger = open_ledger(":memory:", ManualClock(datetime(2026, 3, 2, 8)))
    ledger.add_skus(SKUS)
    ledger.add_locations(locations)
    return ledger


def test_each_inflow_is_refused_outside_the_zone_and_writes_nothing() -> None:
    """Receipt, move, transfer, return, count gain and forward slot: refused into general
    storage for a lithium SKU, with the reason; allowed into its fire-safe zone."""
    ledger = zoned_ledger()
    li = "S-lithium"
    ledger.receive(li, "R-FIRE", 10)
    ledger.pick(li, "R-FIRE", 2)  # sold, so a return is possible
    before = ledger.snapshot()
    refused = [
        lambda: ledger.receive(li, "R-GEN", 1),
        lambda: ledger.receive(li, "R-COLD", 1),
        lambda: ledger.move(li, "R-FIRE", "F-GEN", 1),
        lambda: ledger.dispatch(li, "F-GEN", 1, from_location="R-FIRE"),
        lambda: ledger.dispatch(li, "R-GEN", 1),  # from a supplier
        lambda: ledger.return_in(li, "R-GEN", 1, Condition.USED_GOOD),
        lambda: ledger.adjust(li, "F-COLD", 1),
        lambda: ledger.set_forward_slot("F-GEN", li, 1, 5),
        lambda: ledger.confirm_move("m1", li, "R-FIRE", "F-GEN", 1),
    ]
    for operation in refused:
        with pytest.raises(WrongStorageZone, match=r"storage class lithium.*fire_safe zone"):
            operation()
        assert ledger.snapshot() == before
    ledger.move(li, "R-FIRE", "F-FIRE", 3)
    ledger.set_forward_slot("F-FIRE", li, 1, 5)
    ledger.arrive(ledger.dispatch(li, "F-FIRE", 2, from_location="R-FIRE"))
    ledger.return_in(li, "RET", 1, Condition.USED_GOOD)  # returns staging: not storage
    ledger.receive(li, "DOCK", 1)  # the dock: goods pass through
    ledger.move(li, "RET", "R-FIRE", 1, Condition.USED_GOOD)
    # general goods are not restricted by the ledger
    ledger.receive("S-general", "R-FIRE", 1)
    assert ledger.balance_check().ok


def test_the_message_says_when_the_ledger_has_no_zone_of_that_kind() -> None:
    """A cold SKU in a ledger with no cold location: the error names the class and the zone."""
    ledger = zoned_ledger(tuple(r for r in LOCATIONS if r.zone is not COLD))
    with pytest.raises(
        WrongStorageZone,
        match=r"S-cold has storage class cold .* no location in a cold zone",
    ):
        ledger.receive("S-cold", "R-GEN", 1)


def test_floor_locations_carry_the_zone_of_their_rack_cell() -> None:
    """Registered from a floor with a fire-safe zone, its faces refuse general-storage
    lithium and take it in the zone; without the zone the floor is a StorageClassError."""
    floor = load_config(None).floor
    fire = make_zone("cage", FIRE, [[3, 20], [13, 20], [13, 31], [3, 31]], floor.shape, 1.0)
    zoned = floor.with_zones((*floor.zones, fire))
    records = floor_locations(zoned)
    inside = [r for r in records if r.zone is FIRE]
    outside = [r for r in records if r.kind in STORAGE_KINDS and r.zone is None]
    assert inside and outside
    assert all(
        fire.mask[loc.rack_cell]
        for loc in zoned.locations
        if loc.location_id in {r.location_id for r in inside}
    )
    ledger = open_ledger(":memory:")
    ledger.add_skus([SkuRecord("LI", storage_class=StorageClass.LITHIUM)])
    ledger.add_locations(records)
    ledger.receive("LI", inside[0].location_id, 1)
    with pytest.raises(WrongStorageZone):
        ledger.receive("LI", outside[0].location_id, 1)


def test_opening_stock_refuses_a_class_without_its_zone_naming_the_class() -> None:
    """`stock_ledger` with a catalogue whose lithium SKU has no fire-safe zone on the floor."""
    from wms.catalog import Catalog, Sku
    from wms.opening_stock import StockRow, stock_ledger
    from wms.slotting import StorageClassError

    floor = load_config(None).floor
    base = synthetic_catalog(2)
    first = base[next(iter(base))]
    lithium = Sku(
        *[
            getattr(first, f)
            for f in ("sku_id", "length_cm", "width_cm", "height_cm", "weight_kg", "category")
        ],
        storage_class=StorageClass.LITHIUM,
    )
    catalog = Catalog({lithium.sku_id: lithium})
    assert ledger_sku(catalog, lithium.sku_id).storage_class is StorageClass.LITHIUM
    row = StockRow("stock.csv:2", lithium.sku_id, floor.locations[0].location_id, 5, None)
    ledger = open_ledger(":memory:")
    with pytest.raises(StorageClassError, match="storage class lithium"):
        stock_ledger(ledger, floor, [row], catalog)
    assert ledger.is_empty()


STEP = st.tuples(
    st.sampled_from(["receive", "move", "transfer", "return", "gain", "supply"]),
    st.sampled_from(SKUS),
    st.sampled_from([r.location_id for r in LOCATIONS]),
    st.sampled_from([r.location_id for r in LOCATIONS]),
    st.integers(1, 5),
)


@given(steps=st.lists(STEP, min_size=1, max_size=40))
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_storage_classes_are_never_placed_outside_their_zones(steps) -> None:
    """Over random receipts, replenishment transfers, moves and returns: an operation is
    refused for its zone exactly when its destination breaks the rule, and afterwards no
    unit (on hand or in transit) of a classed SKU is in storage outside its zone."""
    ledger = zoned_ledger()
    for action, sku, source, target, qty in steps:
        ok = allowed(sku, target)
        try:
            if action == "receive":
                ledger.receive(sku.sku, target, qty)
            elif action == "gain":
                ledger.adjust(sku.sku, target, qty)
            elif action == "return":
                ledger.pick(sku.sku, source, qty)  # the units sold, then one comes back
                ledger.return_in(sku.sku, target, 1, Condition.USED_GOOD)
            elif action == "move":
                ledger.move(sku.sku, source, target, qty)
            elif action == "supply":
                ledger.arrive(ledger.dispatch(sku.sku, target, qty))
            else:
                ledger.arrive(ledger.dispatch(sku.sku, target, qty, from_location=source))
        except WrongStorageZone:
            assert not ok
        except LedgerError as error:
            # no stock at the source, same location: refused for another reason
            assert "storage class" not in str(error)
        else:
            assert ok
    for row in ledger.stock():
        assert allowed(next(s for s in SKUS if s.sku == row.sku), row.location_id), row
    for transfer in ledger.transfers():
        assert allowed(next(s for s in SKUS if s.sku == transfer.sku), transfer.to_location)
    assert ledger.balance_check().ok
