"""Lots: receipt dates and expiries, first-expired-first-out then first-in-first-out.

Each test runs on SQLite and on a real PostgreSQL server (conftest.py). The
property test drives random receipts and outflows and checks, after every
outflow, that no lot it drew from expires (or, with equal expiry, was received)
later than a lot still holding stock in that cell.
"""

from __future__ import annotations

import itertools
import sqlite3
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wms.inventory_types import Condition
from wms.ledger import DuplicateRecord, Ledger, LedgerError, ManualClock
from wms.ledger.demo import DEMO_END, tiny_ledger
from wms.ledger.ledger import default_lot_code
from wms.ledger.storage import scratch_schemas

DAY0 = date(2026, 1, 1)


def lots_at(ledger: Ledger, sku: str, location_id: str) -> dict[str, int]:
    return {r.lot.lot: r.on_hand for r in ledger.lot_stock(sku, location_id)}


def test_receive_without_lot_goes_into_the_day_lot(ledger: Ledger) -> None:
    """The old call signature still works: units land in the default lot of the clock's day."""
    ledger.receive("A", "R1", 5)
    ledger.receive("A", "R1", 2)
    code = default_lot_code(ledger.now().date())
    assert lots_at(ledger, "A", "R1") == {code: 7}
    (lot,) = ledger.lots("A")
    assert (lot.received_on, lot.expires_on) == (ledger.now().date(), None)
    assert ledger.balance_check().ok


def test_pick_draws_first_expired_first(ledger: Ledger) -> None:
    """Expiry decides before receipt date; a lot without expiry goes last."""
    ledger.receive("A", "R1", 4, lot="OLD-NOEXP", received_on=DAY0)
    ledger.receive("A", "R1", 4, lot="LATE", received_on=DAY0, expires_on=DAY0 + timedelta(90))
    ledger.receive(
        "A", "R1", 4, lot="SOON", received_on=DAY0 + timedelta(5), expires_on=DAY0 + timedelta(30)
    )
    ledger.pick("A", "R1", 6)
    assert lots_at(ledger, "A", "R1") == {"OLD-NOEXP": 4, "LATE": 2}
    ledger.pick("A", "R1", 3)
    assert lots_at(ledger, "A", "R1") == {"OLD-NOEXP": 3}
    report = ledger.balance_check()
    assert report.ok, report.problems


def test_fifo_breaks_expiry_ties(ledger: Ledger) -> None:
    """Equal expiry (or none): the earlier receipt leaves first, whatever the lot codes."""
    expiry = DAY0 + timedelta(60)
    ledger.receive("A", "R1", 3, lot="Z-first", received_on=DAY0, expires_on=expiry)
    ledger.receive("A", "R1", 3, lot="A-second", received_on=DAY0 + timedelta(1), expires_on=expiry)
    ledger.receive("A", "R1", 3, lot="N1", received_on=DAY0 + timedelta(3))
    ledger.receive("A", "R1", 3, lot="N0", received_on=DAY0 + timedelta(2))
    ledger.pick("A", "R1", 4)
    assert lots_at(ledger, "A", "R1") == {"A-second": 2, "N0": 3, "N1": 3}
    ledger.adjust("A", "R1", -5)  # a count loss draws the same way
    assert lots_at(ledger, "A", "R1") == {"N1": 3}
    assert ledger.balance_check().ok


def test_moves_transfers_and_regrades_carry_their_lots(ledger: Ledger) -> None:
    """Replenishment moves the earliest lots, and the face then serves them first."""
    ledger.receive("A", "R1", 5, lot="L2", received_on=DAY0, expires_on=DAY0 + timedelta(20))
    ledger.receive("A", "R1", 5, lot="L1", received_on=DAY0, expires_on=DAY0 + timedelta(10))
    ledger.move("A", "R1", "F1", 7)
    assert lots_at(ledger, "A", "F1") == {"L1": 5, "L2": 2}
    assert lots_at(ledger, "A", "R1") == {"L2": 3}
    transfer = ledger.dispatch("A", "F2", 6, from_location="F1")
    ledger.arrive(transfer, 4)
    assert lots_at(ledger, "A", "F2") == {"L1": 4}
    ledger.arrive(transfer)
    assert lots_at(ledger, "A", "F2") == {"L1": 5, "L2": 1}
    ledger.regrade("A", "F2", 5, Condition.NEW, Condition.USED_GOOD)
    used = [r for r in ledger.lot_stock("A", "F2") if r.condition is Condition.USED_GOOD]
    assert [(r.lot.lot, r.on_hand) for r in used] == [("L1", 5)]
    report = ledger.balance_check()
    assert report.ok, report.problems


def test_reserved_pick_takes_the_earliest_lot(ledger: Ledger) -> None:
    """A reservation holds units of a cell; the lot is chosen, FEFO, when they leave."""
    ledger.receive("A", "R1", 5, lot="LATER", received_on=DAY0, expires_on=DAY0 + timedelta(50))
    reservation = ledger.reserve("A", "R1", 3)
    ledger.receive("A", "R1", 5, lot="SOONER", received_on=DAY0, expires_on=DAY0 + timedelta(9))
    ledger.pick_reserved(reservation)
    assert lots_at(ledger, "A", "R1") == {"LATER": 5, "SOONER": 2}
    assert ledger.balance_check().ok


def test_a_pick_over_several_lots_balances_and_is_one_movement(ledger: Ledger) -> None:
    ledger.receive("A", "R1", 2, lot="X1", received_on=DAY0)
    ledger.receive("A", "R1", 2, lot="X2", received_on=DAY0 + timedelta(1))
    before = len(ledger.movements())
    assert ledger.confirm_pick("p1", "A", "R1", 3)
    assert not ledger.confirm_pick("p1", "A", "R1", 3)
    assert len(ledger.movements()) == before + 1
    assert lots_at(ledger, "A", "R1") == {"X2": 1}
    assert ledger.balance_check().ok


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lot": "E", "received_on": DAY0, "expires_on": DAY0 - timedelta(1)}, "before receipt"),
        ({"lot": "  "}, "non-empty"),
        ({"lot": "X" * 65}, "at most"),
        ({"lot": "E", "expires_on": "2026-13-01"}, "not a date"),
        ({"received_on": "yesterday"}, "not a date"),
    ],
)
def test_bad_lot_values_are_refused_and_change_nothing(
    ledger: Ledger, kwargs: dict, message: str
) -> None:
    before = ledger.snapshot()
    with pytest.raises(LedgerError, match=message):
        ledger.receive("A", "R1", 1, **kwargs)
    assert ledger.snapshot() == before


def test_an_existing_lot_keeps_its_dates(ledger: Ledger) -> None:
    ledger.receive("A", "R1", 1, lot="K", received_on=DAY0, expires_on=DAY0 + timedelta(5))
    ledger.receive("A", "R2", 1, lot="K")  # naming it without dates is fine
    before = ledger.snapshot()
    with pytest.raises(DuplicateRecord, match="expires"):
        ledger.receive("A", "R1", 1, lot="K", expires_on=DAY0 + timedelta(6))
    with pytest.raises(DuplicateRecord, match="received"):
        ledger.receive("A", "R1", 1, lot="K", received_on=DAY0 + timedelta(1))
    assert ledger.snapshot() == before


def booked_with_lots(ledger: Ledger) -> None:
    ledger.receive("A", "R1", 4, lot="X1", received_on=DAY0)
    ledger.receive("A", "R1", 4, lot="X2", received_on=DAY0 + timedelta(1))
    ledger.pick("A", "R1", 6)  # two lots: a movement_lots split
    assert ledger.balance_check().ok


@pytest.mark.parametrize(
    ("statement", "found"),
    [
        ("UPDATE lot_stock SET on_hand = on_hand + 1 WHERE lot = 'X2'", "lot A/R1/NEW/X2"),
        (
            "INSERT INTO lot_stock (sku, location_id, condition, lot, on_hand)"
            " VALUES ('A', 'F1', 'NEW', 'X1', 3)",
            "lot A/F1/NEW/X1",
        ),
        ("UPDATE lot_stock SET location_id = 'R2' WHERE lot = 'X2'", "lot A/R1/NEW/X2"),
    ],
)
def test_hand_edited_lot_stock_is_found(ledger: Ledger, statement: str, found: str) -> None:
    booked_with_lots(ledger)
    ledger._db.execute(statement)
    report = ledger.balance_check()
    assert not report.ok
    assert any(found in p for p in report.problems), report.problems


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE movement_lots SET qty = 1",
        "DELETE FROM movement_lots",
        "UPDATE lots SET expires_on = '2030-01-01'",
        "DELETE FROM lots WHERE lot = 'X2'",
    ],
)
def test_lot_history_cannot_be_rewritten(ledger: Ledger, statement: str) -> None:
    booked_with_lots(ledger)
    before = ledger.snapshot()
    with pytest.raises(ledger._db.integrity_errors, match="append-only"):
        ledger._db.execute(statement)
    assert ledger.snapshot() == before


def test_a_forged_split_is_found(ledger: Ledger) -> None:
    """An extra lot row for a movement (the triggers allow inserts) breaks its sum."""
    booked_with_lots(ledger)
    receipt = ledger.movements()[0].movement_id
    ledger._db.execute(
        "INSERT INTO movement_lots (movement_id, lot, qty) VALUES (?, 'X2', 1)", (receipt,)
    )
    report = ledger.balance_check()
    assert not report.ok
    assert any(f"movement {receipt}" in p for p in report.problems), report.problems


def test_sqlite_replace_of_a_split_is_refused(tmp_path) -> None:
    with tiny_ledger(f"sqlite:///{tmp_path / 'l.db'}") as ledger:
        booked_with_lots(ledger)
        pick = ledger.movements()[-1].movement_id
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            ledger._db.execute(
                "INSERT OR REPLACE INTO movement_lots (movement_id, lot, qty) VALUES (?, 'X1', 1)",
                (pick,),
            )


# ---------------------------------------------------------------------- property

LOT_DAYS = st.integers(min_value=0, max_value=6)
EXPIRY = st.one_of(st.none(), st.integers(min_value=0, max_value=6))
LOCATION = st.sampled_from(["R1", "R2", "F1"])
STEP = st.one_of(
    st.tuples(st.just("receive"), LOCATION, st.integers(1, 6), LOT_DAYS, EXPIRY),
    st.tuples(st.just("pick"), LOCATION, st.integers(1, 8)),
    st.tuples(st.just("move"), LOCATION, st.integers(1, 8)),
    st.tuples(st.just("loss"), LOCATION, st.integers(1, 4)),
    st.tuples(st.just("transfer"), LOCATION, st.integers(1, 5)),
)


def run_fefo_steps(ledger: Ledger, steps: list[tuple]) -> None:
    """Apply the steps; after each outflow, every lot it drew from must be FEFO-first."""
    for index, step in enumerate(steps):
        kind, location = step[0], step[1]
        if kind == "receive":
            _, _, qty, received, expiry = step
            received_on = DAY0 + timedelta(received)
            expires_on = None if expiry is None else received_on + timedelta(expiry)
            code = f"L{index}"
            ledger.receive(
                "A", location, qty, lot=code, received_on=received_on, expires_on=expires_on
            )
            continue
        before = {r.lot.lot: (r.lot, r.on_hand) for r in ledger.lot_stock("A", location)}
        qty = min(step[2], ledger.available("A", location))
        if qty == 0:
            continue
        target = "F2" if location != "F2" else "R1"
        mark = max((m.movement_id for m in ledger.movements()), default=0)
        if kind == "pick":
            ledger.pick("A", location, qty)
        elif kind == "move":
            ledger.move("A", location, target, qty)
        elif kind == "loss":
            ledger.adjust("A", location, -qty)
        else:
            ledger.arrive(ledger.dispatch("A", target, qty, from_location=location))
        after = lots_at(ledger, "A", location)
        drawn = [lot for code, (lot, had) in before.items() if after.get(code, 0) < had]
        left = [lot for code, (lot, _) in before.items() if after.get(code, 0) > 0]
        assert sum(had - after.get(code, 0) for code, (_, had) in before.items()) == qty
        # the outflow's movement records exactly the lots it drew, in the order they left;
        # a transfer's arrival brings the same lots (it moves lot quantities, makes none)
        booked = ledger.movements(mark)
        taken = {code: had - after.get(code, 0) for code, (_, had) in before.items()}
        assert dict(booked[0].lots) == {code: n for code, n in taken.items() if n > 0}
        keys = [before[code][0].fefo_key() for code, _ in booked[0].lots]
        assert keys == sorted(keys)
        assert all(m.lots == booked[0].lots for m in booked[1:])
        for taken in drawn:
            for kept in left:
                if kept.lot == taken.lot:
                    continue
                # a later-expiring lot was drawn while an earlier one keeps stock: FEFO broken
                assert not (kept.fefo_key() < taken.fefo_key()), (taken, kept)
                if kept.expires_on is not None and taken.expires_on is not None:
                    assert kept.expires_on >= taken.expires_on
                if taken.expires_on is None:
                    assert kept.expires_on is None
    report = ledger.balance_check()
    assert report.ok, report.problems


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(STEP, min_size=1, max_size=30))
def test_fefo_never_draws_a_later_lot_while_an_earlier_one_has_stock(steps: list[tuple]) -> None:
    with tiny_ledger(":memory:", ManualClock(DEMO_END)) as ledger:
        run_fefo_steps(ledger, steps)


def test_fefo_property_on_postgresql(postgres_database: str) -> None:
    names = itertools.count()
    with scratch_schemas(postgres_database) as new_url:

        @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(st.lists(STEP, min_size=1, max_size=20))
        def check(steps: list[tuple]) -> None:
            with tiny_ledger(new_url(f"fefo{next(names)}")) as ledger:
                run_fefo_steps(ledger, steps)

        check()


def test_replenishment_moves_the_earliest_lots(ledger: Ledger) -> None:
    """The top-up takes the reserve whose lot expires first, not the fullest reserve."""
    from wms.replenishment.planner import on_wave_released

    ledger.receive("A", "R1", 50, lot="LATER", received_on=DAY0, expires_on=DAY0 + timedelta(90))
    ledger.receive("A", "R2", 8, lot="SOONER", received_on=DAY0, expires_on=DAY0 + timedelta(20))
    plan = on_wave_released(ledger, {"A": 0}, ref="w1")
    assert [(t.from_location, t.qty) for t in plan.tasks if t.sku == "A"] == [("R2", 8), ("R1", 12)]
    for task in plan.tasks:
        ledger.arrive(task.transfer_id)
    assert lots_at(ledger, "A", "F1") == {"SOONER": 8, "LATER": 12}
    ledger.pick("A", "F1", 9)
    assert lots_at(ledger, "A", "F1") == {"LATER": 11}
    assert ledger.balance_check().ok


def test_a_supplier_transfer_brings_the_lot_it_names(ledger: Ledger) -> None:
    """An advance shipping notice: the lot and expiry named at dispatch are the lot the
    units arrive into, received on the day of the first arrival; later arrivals of the
    same transfer join it; FEFO then picks it before a later-expiring lot."""
    clock = ledger._clock
    today = clock().date()
    ledger.receive("A", "F1", 5, lot="LATE", received_on=today, expires_on=today + timedelta(60))
    asn = ledger.dispatch("A", "F1", 6, lot="ASN-1", expires_on=today + timedelta(30))
    assert "ASN-1" not in {lot.lot for lot in ledger.lots("A")}  # no lot until it arrives
    ledger.arrive(asn, 4)
    clock.advance(timedelta(days=1))
    ledger.arrive(asn)
    arrived = {r.lot.lot: r for r in ledger.lot_stock("A", "F1")}
    assert arrived["ASN-1"].on_hand == 6
    assert arrived["ASN-1"].lot.expires_on == today + timedelta(30)
    assert arrived["ASN-1"].lot.received_on == today
    ledger.pick("A", "F1", 7)
    assert lots_at(ledger, "A", "F1") == {"LATE": 4}
    assert ledger.balance_check().ok


def test_a_lot_is_named_only_on_a_supplier_transfer(ledger: Ledger) -> None:
    """An internal transfer carries the lots it draws; naming one is refused, nothing written."""
    ledger.receive("A", "R1", 5)
    before = ledger.snapshot()
    with pytest.raises(LedgerError, match="internal transfer carries the lots it draws"):
        ledger.dispatch("A", "F2", 2, from_location="R1", lot="X")
    ledger.receive("A", "R1", 1, lot="K", received_on=DAY0, expires_on=DAY0 + timedelta(9))
    before = ledger.snapshot()
    with pytest.raises(LedgerError, match="lot 'K' expires"):
        ledger.dispatch("A", "R2", 2, lot="K", expires_on=DAY0 + timedelta(10))
    assert ledger.snapshot() == before
