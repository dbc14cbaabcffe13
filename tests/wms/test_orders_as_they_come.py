"""Orders as they really come: split over totes, exceptions, storage classes (property tests)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from warehouse.config import load_config
from wms.catalog import Catalog, Sku, StorageClass, synthetic_catalog
from wms.layout import ZoneKind
from wms.layout.zones import make_zone
from wms.orders import Order, OrderBook, OrderLine, Tote, tote_loads
from wms.picking import PickingParams
from wms.planning import floor_model, plan_book, slot_book
from wms.slotting import SlottingParams, StorageClassError, slot, storage_areas
from wms.slotting.demand import demand_from_orders

CATALOG = synthetic_catalog(120, seed=2)
SKUS = list(CATALOG)
DUE = datetime(2026, 1, 5, 16)

line_lists = st.lists(
    st.tuples(st.sampled_from(SKUS), st.integers(1, 400)),
    min_size=1,
    max_size=6,
    unique_by=lambda t: t[0],
)


@pytest.fixture(scope="module")
def model():
    return floor_model(load_config(None).floor)


@given(lines=line_lists, volume=st.floats(5.0, 60.0), weight=st.floats(3.0, 30.0))
@settings(max_examples=150, deadline=None)
def test_tote_loads_conserve_every_line_and_unit_and_fit_the_tote(lines, volume, weight) -> None:
    """Splitting keeps every unit of every line exactly once; no load is over the tote."""
    tote = Tote(volume, weight)
    order = Order("X", tuple(OrderLine(s, q) for s, q in lines), DUE)
    if any(not tote.holds(CATALOG[s].volume_l, CATALOG[s].weight_kg) for s, _ in lines):
        with pytest.raises(Exception, match="one unit of"):
            tote_loads(order, CATALOG, tote)
        return
    loads = tote_loads(order, CATALOG, tote)
    units: Counter[str] = Counter()
    for load in loads:
        assert load.customer_id == "X"
        assert tote.holds(load.volume_l(CATALOG), load.weight_kg(CATALOG))
        for line in load.lines:
            assert line.qty > 0
            units[line.sku] += line.qty
    assert units == Counter(dict(lines))
    if len(loads) == 1:
        assert loads[0] is order


@given(
    sizes=st.lists(line_lists, min_size=1, max_size=12),
    totes=st.integers(1, 6),
    batch_kg=st.floats(15.0, 80.0),
)
@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_planned_day_accounts_for_every_order_line_and_unit(model, sizes, totes, batch_kg):
    """Every order planned or excepted; planned picks equal the order's units; capacity kept."""
    orders = tuple(
        Order(f"O{i}", tuple(OrderLine(s, q) for s, q in lines), DUE)
        for i, lines in enumerate(sizes)
    )
    book = OrderBook(orders, CATALOG, "synthetic")
    outcome = slot_book(book, model, SlottingParams())
    params = PickingParams(totes_per_batch=totes, batch_max_kg=batch_kg, wave_max_orders=5)
    plan = plan_book(orders, CATALOG, outcome, model, params, with_baselines=False)
    excepted = {e.order_id for e in plan.exceptions}
    assert plan.orders + len(plan.exceptions) == plan.orders_in == len(orders)
    picked: dict[str, Counter[str]] = {}
    batches_of: dict[str, list[int]] = {}
    for number, batch in enumerate(plan.batches):
        assert len(batch.totes) <= totes
        assert batch.weight_kg <= batch_kg + 1e-6 or len(batch.totes) == 1
        tote_units: dict[str, tuple[float, float]] = {}
        for pick in batch.picks:
            picked.setdefault(pick.order_id, Counter())[pick.sku] += pick.qty
            vol, kg = tote_units.get(pick.tote, (0.0, 0.0))
            sku = CATALOG[pick.sku]
            tote_units[pick.tote] = (vol + sku.volume_l * pick.qty, kg + sku.weight_kg * pick.qty)
        for vol, kg in tote_units.values():
            assert params.tote.holds(vol, kg)
        for order_id in batch.orders:
            batches_of.setdefault(order_id, []).append(number)
    for order in orders:
        if order.order_id in excepted:
            assert order.order_id not in picked
            continue
        assert picked[order.order_id] == Counter({line.sku: line.qty for line in order.lines})
        spread = batches_of[order.order_id]
        assert spread == list(range(spread[0], spread[0] + len(spread)))  # consecutive batches


def test_a_unit_too_big_for_any_tote_is_an_exception_and_the_rest_plans(model) -> None:
    """An order with an unknown SKU or a unit bigger than a tote is excepted with its reason."""
    big = Sku("BIG", 60.0, 60.0, 60.0, 5.0)
    catalog = Catalog({**CATALOG.skus, "BIG": big})
    orders = (
        Order("A", (OrderLine(SKUS[0], 1),), DUE, origin="day.csv:2"),
        Order("B", (OrderLine("BIG", 1),), DUE, origin="day.csv:3"),
        Order("C", (OrderLine("NOPE", 1),), DUE, origin="day.csv:4"),
    )
    book = OrderBook(orders[:2], catalog, "own")
    outcome = slot_book(book, model, SlottingParams())
    plan = plan_book(orders, catalog, outcome, model, PickingParams())
    reasons = {e.order_id: e.reason for e in plan.exceptions}
    assert plan.orders == 1 and set(reasons) == {"B", "C"}
    assert reasons["B"].startswith("day.csv:3: order B: one unit of BIG")
    assert reasons["C"].startswith("day.csv:4: unknown SKU 'NOPE'")


def with_storage_zones(floor):
    """The default floor with a fire-safe zone over the west block and a cold one in the east."""
    fire = make_zone(
        "cage", ZoneKind.FIRE_SAFE, [[3, 20], [13, 20], [13, 31], [3, 31]], floor.shape, 1.0
    )
    cold = make_zone(
        "chiller", ZoneKind.COLD, [[27, 20], [37, 20], [37, 31], [27, 31]], floor.shape, 1.0
    )
    return floor.with_zones((*floor.zones, fire, cold))


def classed(catalog: Catalog, classes: list[StorageClass]) -> Catalog:
    skus = {
        sku_id: Sku(
            s.sku_id,
            s.length_cm,
            s.width_cm,
            s.height_cm,
            s.weight_kg,
            s.category,
            s.unit_price,
            classes[i % len(classes)],
        )
        for i, (sku_id, s) in enumerate(catalog.skus.items())
    }
    return Catalog(skus, catalog.synthetic, catalog.note)


@given(
    share=st.lists(st.sampled_from(list(StorageClass)), min_size=1, max_size=12),
    strategy=st.sampled_from(["velocity", "abc", "coi", "random"]),
    seed=st.integers(0, 100),
)
@settings(max_examples=20, deadline=None)
def test_storage_classes_are_never_slotted_outside_their_zones(share, strategy, seed) -> None:
    """Every classed SKU sits in a zone of its kind, every general SKU outside storage zones."""
    floor = with_storage_zones(load_config(None).floor)
    model = floor_model(floor)
    catalog = classed(synthetic_catalog(150, seed=seed), share)
    orders = tuple(
        Order(f"O{i}", (OrderLine(sku, 1),), DUE) for i, sku in enumerate(list(catalog) * 2)
    )
    demand = demand_from_orders(orders, catalog)
    try:
        result = slot(catalog, demand, model.travel, SlottingParams(), strategy, seed)
    except StorageClassError:
        raise
    except Exception as error:  # a zone too small for its class is a clear SlottingError
        assert "make the zone bigger" in str(error) or "only fit reserve" in str(error)
        return
    zones = {
        kind: np.zeros(floor.shape, dtype=bool) for kind in (ZoneKind.FIRE_SAFE, ZoneKind.COLD)
    }
    for zone in floor.zones:
        if zone.kind in zones:
            zones[zone.kind] |= zone.mask
    for sku, loc in zip(demand.skus, result.sku_location, strict=True):
        rack = floor.locations[int(loc)].rack_cell
        kind = catalog[sku].storage_class.zone_kind
        if kind is None:
            assert not any(mask[rack] for mask in zones.values())
        else:
            assert zones[kind][rack]
    assert len(set(result.sku_location.tolist())) == len(demand.skus)


def test_a_class_with_no_zone_on_the_floor_is_a_config_error_naming_the_class() -> None:
    """A lithium SKU on a floor without a fire-safe zone: StorageClassError naming class and SKU."""
    floor = load_config(None).floor
    catalog = classed(synthetic_catalog(20), [StorageClass.GENERAL, StorageClass.LITHIUM])
    with pytest.raises(
        StorageClassError, match=r"storage class lithium: SKU SKU-0002 needs a fire_safe zone"
    ):
        storage_areas(floor, catalog, list(catalog))
