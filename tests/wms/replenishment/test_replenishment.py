"""Replenishment: smoothing maths, wave-triggered top-ups, in-transit stock, bad demand."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.config import load
from wms.errors import InputError
from wms.ledger import InvalidQuantity, ManualClock, UnknownSku
from wms.ledger.demo import DEMO_END, tiny_ledger
from wms.replenishment import (
    ReplenishmentParams,
    demand_series,
    on_wave_released,
    plan_replenishment,
    reorder_point,
    safety_stock,
    smooth,
)


def test_smoothing_of_a_constant_series_has_no_error() -> None:
    """Constant demand forecasts itself with zero sigma, so no safety stock."""
    forecast = smooth([7] * 20, 0.3)
    assert forecast.level == pytest.approx(7) and forecast.sigma == 0
    assert reorder_point(forecast, 2.0, 1.65) == pytest.approx(14)


def test_smoothing_by_hand() -> None:
    """Two periods, alpha 0.5: the level and error variance follow the recurrences."""
    forecast = smooth([10, 20], 0.5)
    assert forecast.level == pytest.approx(15)
    assert forecast.sigma == pytest.approx(math.sqrt(0.5 * 100 + 0.5 * 50))


def test_safety_stock_formula() -> None:
    """Safety stock is z * sigma * sqrt(lead time)."""
    assert safety_stock(3.0, 4.0, 2.0) == pytest.approx(12.0)
    with pytest.raises(ValueError):
        safety_stock(-1.0, 1.0, 1.0)


def test_demand_series_is_completed_days_only() -> None:
    """Days without picks are zeros, in date order, ending yesterday: today's partial day is out."""
    today = DEMO_END.date()
    history = {today: 4, today - timedelta(days=1): 3, today - timedelta(days=3): 1}
    assert demand_series(history, today, 4) == [0, 1, 0, 3]


def stocked(f1: int = 10, r1: int = 100, clock: ManualClock | None = None):
    ledger = tiny_ledger(clock=clock)
    if f1:
        ledger.receive("A", "F1", f1)
    if r1:
        ledger.receive("A", "R1", r1)
    return ledger


def test_wave_triggers_top_up_and_in_transit_counts() -> None:
    """A wave taking the face below min orders up to max; releasing it again orders nothing."""
    ledger = stocked()
    plan = on_wave_released(ledger, {"A": 8})
    assert [(t.sku, t.from_location, t.to_location, t.qty) for t in plan.tasks] == [
        ("A", "R1", "F1", 18)
    ]
    assert plan.tasks[0].transfer_id is not None
    assert ledger.in_transit_to("F1", "A") == 18 and ledger.on_hand("A", "R1") == 82
    again = on_wave_released(ledger, {"A": 8})
    assert again.tasks == ()
    assert ledger.balance_check().ok


def test_no_task_above_the_trigger() -> None:
    """A face whose position stays at or above its trigger is left alone."""
    ledger = stocked()
    assert plan_replenishment(ledger, {"A": 5}).tasks == ()


def test_forecast_raises_the_trigger_above_min() -> None:
    """Heavy recent demand lifts the reorder point above the static min."""
    clock = ManualClock(DEMO_END - timedelta(days=30))
    ledger = stocked(f1=0, r1=2000, clock=clock)
    ledger.receive("A", "F1", 20)
    for _ in range(29):
        clock.advance(timedelta(days=1))
        ledger.pick("A", "R1", 12)
    params = ReplenishmentParams(lead_time_days=1.0)
    plan = plan_replenishment(ledger, {}, params)
    status = next(s for s in plan.slots if s.location_id == "F1")
    assert status.forecast.level == pytest.approx(12)
    assert status.trigger == 12
    assert plan.tasks == ()
    ledger.pick("A", "F1", 10)
    plan = plan_replenishment(ledger, {}, params)
    assert [t.qty for t in plan.tasks] == [10]


def test_shortfall_when_reserve_is_short() -> None:
    """Too little reserve stock: everything available is moved and the rest is reported."""
    ledger = stocked(f1=0, r1=6)
    ledger.receive("A", "R2", 4)
    plan = on_wave_released(ledger, {"A": 0})
    assert sorted((t.from_location, t.qty) for t in plan.tasks) == [("R1", 6), ("R2", 4)]
    assert plan.shortfalls["A"] == 10


def test_unslotted_demand_is_reported() -> None:
    """Demand for a SKU without a forward face is listed, not replenished."""
    ledger = stocked()
    assert plan_replenishment(ledger, {"C": 3}).unslotted == ("C",)


@pytest.mark.parametrize(
    ("demand", "error"),
    [({"ZZ": 1}, UnknownSku), ({"A": -1}, InvalidQuantity), ({"A": "3"}, InvalidQuantity)],
)
def test_bad_demand_changes_nothing(demand, error) -> None:
    """Unknown SKU or a bad quantity in the demand: typed error, database unchanged."""
    ledger = stocked(f1=1)
    before = ledger.snapshot()
    with pytest.raises(error):
        on_wave_released(ledger, demand)
    assert ledger.snapshot() == before


def test_params_are_strict() -> None:
    """Unknown or out-of-range replenishment settings are input errors naming the key."""
    where = "c.toml: wms.replenishment"
    assert load(ReplenishmentParams, {"alpha": 0.5}, where).alpha == 0.5
    with pytest.raises(InputError, match=r"c\.toml: wms\.replenishment\.alpah: unknown key"):
        load(ReplenishmentParams, {"alpah": 0.5}, where)
    with pytest.raises(InputError, match=r"wms\.replenishment\.alpha: must be in 0\.\.1"):
        load(ReplenishmentParams, {"alpha": 1.5}, where)
    with pytest.raises(InputError, match=r"wms\.replenishment\.alpha: must be positive"):
        load(ReplenishmentParams, {"alpha": 0}, where)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    f1=st.integers(0, 25),
    f2=st.integers(0, 12),
    r1=st.integers(0, 40),
    r2=st.integers(0, 40),
    reserved=st.integers(0, 5),
    demand_a=st.integers(0, 30),
    demand_b=st.integers(0, 15),
)
def test_after_release_every_face_is_covered_or_short(f1, f2, r1, r2, reserved, demand_a, demand_b):
    """After a release each face is at/above its trigger or its SKU has a shortfall; a second
    release adds nothing; reserve is never overdrawn; the ledger balances."""
    ledger = tiny_ledger()
    for sku, loc, qty in (("A", "F1", f1), ("B", "F2", f2), ("A", "R1", r1), ("B", "R2", r2)):
        if qty:
            ledger.receive(sku, loc, qty)
    if reserved and f1 >= reserved:
        ledger.reserve("A", "F1", reserved)
    demand = {"A": demand_a, "B": demand_b}
    plan = on_wave_released(ledger, demand)
    assert sum(t.qty for t in plan.tasks if t.sku == "A") <= r1
    assert sum(t.qty for t in plan.tasks if t.sku == "B") <= r2
    after = plan_replenishment(ledger, demand)
    for status in after.slots:
        assert status.position >= status.trigger or status.sku in plan.shortfalls
    assert after.tasks == () or all(t.sku in plan.shortfalls for t in after.tasks)
    assert ledger.balance_check().ok


def test_storage_area_bounds_top_up_sources() -> None:
    """A SKU whose storage area holds only R2 is topped up from R2, never from R1 outside it."""
    ledger = stocked(f1=2, r1=100)
    ledger.receive("A", "R2", 5)
    inside = {"A": frozenset({"F1", "R2"})}
    plan = plan_replenishment(ledger, {"A": 1}, storage=inside)
    assert [(t.from_location, t.qty) for t in plan.tasks] == [("R2", 5)]
    assert plan.shortfalls["A"] == 19 - 5  # max 20, position 2 - 1
    assert plan_replenishment(ledger, {"A": 1}, storage={"A": frozenset({"R2"})}).tasks == ()
