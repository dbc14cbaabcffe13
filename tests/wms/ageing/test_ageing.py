"""Inventory ageing from the movement history: FIFO layers, buckets, slow movers, clearance."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wms.ageing import AgeingParams, fifo_layers, ledger_ageing, ledger_lot_units, lot_layers
from wms.inventory_types import Condition
from wms.ledger import LedgerError, ManualClock
from wms.ledger.demo import DEMO_END, tiny_ledger


def clocked():
    clock = ManualClock(DEMO_END - timedelta(days=300))
    return tiny_ledger(clock=clock), clock


def test_fifo_consumes_the_oldest_layer_first() -> None:
    """A pick takes the oldest units; what remains carries the newer receipt date."""
    ledger, clock = clocked()
    ledger.receive("A", "R1", 10)
    clock.advance(timedelta(days=10))
    second = clock()
    ledger.receive("A", "R2", 5)
    ledger.pick("A", "R1", 10)
    ledger.pick("A", "R2", 2)
    layers = fifo_layers(ledger.movements())[("A", Condition.NEW)]
    assert [(layer.entered, layer.qty) for layer in layers] == [(second, 3)]


def test_moves_and_internal_transfers_keep_the_age() -> None:
    """Relocating stock does not make it younger; a supplier arrival is a new layer."""
    ledger, clock = clocked()
    start = clock()
    ledger.receive("A", "R1", 10)
    clock.advance(timedelta(days=5))
    ledger.move("A", "R1", "R2", 4)
    transfer = ledger.dispatch("A", "F1", 3, from_location="R1")
    ledger.arrive(transfer)
    supplier = ledger.dispatch("A", "R1", 7)
    clock.advance(timedelta(days=2))
    ledger.arrive(supplier)
    layers = fifo_layers(ledger.movements())[("A", Condition.NEW)]
    assert [(layer.entered, layer.qty) for layer in layers] == [(start, 10), (clock(), 7)]


def test_regrade_keeps_the_entry_date() -> None:
    """Refurbished units move to their new condition with the date they came back."""
    ledger, clock = clocked()
    ledger.receive("B", "R1", 5)
    ledger.pick("B", "R1", 5)
    returned = clock()
    ledger.return_in("B", "RET", 2, Condition.UNSELLABLE)
    clock.advance(timedelta(days=9))
    ledger.regrade("B", "RET", 1, Condition.UNSELLABLE, Condition.USED_LIKE_NEW)
    layers = fifo_layers(ledger.movements())
    assert [(x.entered, x.qty) for x in layers[("B", Condition.USED_LIKE_NEW)]] == [(returned, 1)]
    assert [(x.entered, x.qty) for x in layers[("B", Condition.UNSELLABLE)]] == [(returned, 1)]


def test_buckets_slow_movers_and_clearance() -> None:
    """Dead stock older than the clearance age is a candidate; a daily seller is neither."""
    ledger, clock = clocked()
    ledger.receive("A", "R1", 400)
    ledger.receive("C", "R1", 40)
    for day in range(320):
        clock.advance(timedelta(days=1))
        ledger.pick("A", "R1", 1)
        if day == 249:
            ledger.return_in("A", "RET", 1, Condition.USED_GOOD)
    report = ledger_ageing(ledger)
    rows = {row.sku: row for row in report.skus}
    assert report.slow_movers == ["C"]
    assert set(report.clearance_candidates) == {"A", "C"}
    assert any("graded return" in r for r in rows["A"].reasons)
    # per lot, age counts from the start of the receipt day (received at 18:00)
    assert rows["C"].oldest_days == pytest.approx(320.75)
    assert rows["A"].days_of_cover is not None and rows["C"].days_of_cover is None
    assert report.buckets["181+"]["units"] == 40 + 80
    assert report.buckets["181+"]["value"] == pytest.approx(40 * 5.0 + 80 * 10.0)
    assert report.buckets["61-90"]["units"] == 1
    total_on_hand = sum(r.on_hand for r in ledger.stock())
    assert sum(b["units"] for b in report.buckets.values()) == total_on_hand


def test_bucket_labels_and_bad_edges() -> None:
    """Bucket labels follow the edges; edges must increase."""
    assert AgeingParams().bucket_labels() == ["0-30", "31-60", "61-90", "91-180", "181+"]
    assert AgeingParams().bucket_of(30) == 0 and AgeingParams().bucket_of(30.5) == 1
    with pytest.raises(ValueError):
        AgeingParams(bucket_edges=(30, 30))


OPS = st.lists(
    st.tuples(
        st.sampled_from(
            ["receive", "pick", "move", "adjust", "dispatch", "arrive", "return", "regrade"]
        ),
        st.sampled_from(["A", "B"]),
        st.integers(1, 9),
        st.integers(0, 20),
    ),
    max_size=40,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(OPS)
def test_layers_account_for_every_unit(ops) -> None:
    """FIFO layers always sum to on-hand plus internal transit, per SKU and condition."""
    ledger, clock = clocked()
    for name, sku, qty, days in ops:
        clock.advance(timedelta(days=days))
        try:
            if name == "receive":
                ledger.receive(sku, "R1", qty)
            elif name == "pick":
                ledger.pick(sku, "R1", qty)
            elif name == "move":
                ledger.move(sku, "R1", "R2", qty)
            elif name == "adjust":
                ledger.adjust(sku, "R1", qty if days % 2 else -qty)
            elif name == "dispatch":
                ledger.dispatch(sku, "F1", qty, from_location="R1" if days % 3 else None)
            elif name == "arrive" and ledger.transfers():
                ledger.arrive(ledger.transfers()[0].transfer_id)
            elif name == "return":
                ledger.return_in(sku, "RET", qty, Condition.USED_GOOD)
            elif name == "regrade":
                ledger.regrade(sku, "RET", qty, Condition.USED_GOOD, Condition.USED_LIKE_NEW)
        except LedgerError:
            pass
    expected: dict[tuple, int] = defaultdict(int)
    for row in ledger.stock():
        expected[(row.sku, row.condition)] += row.on_hand
    for transfer in ledger.transfers():
        if transfer.from_location is not None:
            expected[(transfer.sku, transfer.condition)] += transfer.qty
    layers = fifo_layers(ledger.movements())
    assert {k: sum(layer.qty for layer in v) for k, v in layers.items()} == {
        k: v for k, v in expected.items() if v
    }
    by_lot = lot_layers(ledger_lot_units(ledger))
    assert {k: sum(layer.qty for layer in v) for k, v in by_lot.items()} == {
        k: v for k, v in expected.items() if v
    }
    # no lot is younger than the oldest FIFO layer could make it, nor older than the history
    first = min((m.at for m in ledger.movements()), default=None)
    for sku_layers in by_lot.values():
        for layer in sku_layers:
            assert first is not None and layer.entered.date() >= first.date()


def test_report_per_lot_with_expiry() -> None:
    """Each lot is a row with its age and expiry; an expired lot makes its SKU a candidate."""
    ledger, clock = clocked()
    today = clock().date()
    ledger.receive("A", "R1", 6, lot="OLD", received_on=today, expires_on=today + timedelta(10))
    ledger.receive("A", "R2", 4, lot="NEW", received_on=today, expires_on=today + timedelta(40))
    ledger.receive("B", "R1", 3)
    ledger.move("A", "R1", "F1", 2)  # the same lot at two places is one row
    transfer = ledger.dispatch("A", "F2", 1, from_location="R1")  # and in transit, still counted
    clock.advance(timedelta(days=15))
    ledger.pick("A", "F1", 1)
    report = ledger_ageing(ledger)
    lots = {(row.sku, row.lot): row for row in report.lots}
    assert lots[("A", "OLD")].units == 5 and lots[("A", "OLD")].expired
    assert lots[("A", "OLD")].days_to_expiry == -5
    assert lots[("A", "NEW")].days_to_expiry == 25 and not lots[("A", "NEW")].expired
    assert lots[("A", "NEW")].age_days == pytest.approx(15.75)
    rows = {row.sku: row for row in report.skus}
    assert rows["A"].clearance and rows["A"].expired_units == 5
    assert any("expired lots OLD" in r for r in rows["A"].reasons)
    assert any("NEW in 25 days" in r for r in rows["A"].reasons)
    assert not rows["B"].clearance
    ledger.arrive(transfer)
    assert sum(b["units"] for b in ledger_ageing(ledger).buckets.values()) == 12
