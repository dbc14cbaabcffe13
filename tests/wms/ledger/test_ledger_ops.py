"""Unit tests of the ledger's operations, errors and atomicity."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from wms.errors import InputError, WarehouseError
from wms.inventory_types import Condition, LocationKind, MovementKind
from wms.ledger import (
    DuplicateRecord,
    InsufficientStock,
    InvalidQuantity,
    Ledger,
    LedgerError,
    LocationRecord,
    ManualClock,
    NotSold,
    SkuRecord,
    UnknownLocation,
    UnknownReservation,
    UnknownSku,
    UnknownTransfer,
    UnsupportedDatabase,
    parse_url,
)
from wms.ledger.demo import DEMO_END, tiny_ledger


def test_receive_pick_and_balance(ledger: Ledger) -> None:
    """A receipt then a pick leaves the difference on hand, and the ledger balances."""
    ledger.receive("A", "R1", 10)
    ledger.pick("A", "R1", 3)
    assert ledger.on_hand("A", "R1") == 7
    assert ledger.sold_qty("A") == 3
    report = ledger.balance_check()
    assert report.ok, report.problems
    assert report.on_hand == 7 and report.movements == 2


def test_reservation_lifecycle(ledger: Ledger) -> None:
    """Reserved units are not available; a reserved pick consumes the reservation."""
    ledger.receive("A", "F1", 10)
    rid = ledger.reserve("A", "F1", 6, ref="ORD-1")
    assert ledger.available("A", "F1") == 4
    with pytest.raises(InsufficientStock):
        ledger.pick("A", "F1", 5)
    ledger.pick_reserved(rid, 2)
    ledger.release(rid, 1)
    assert ledger.reservations()[0].qty == 3
    ledger.pick_reserved(rid)
    assert ledger.reservations() == []
    assert ledger.on_hand("A", "F1") == 5 and ledger.available("A", "F1") == 5
    with pytest.raises(UnknownReservation):
        ledger.release(rid)
    assert ledger.balance_check().ok


def test_move_and_transfer_in_transit(ledger: Ledger) -> None:
    """A move is instant; a dispatch holds units in transit until they arrive."""
    ledger.receive("B", "R1", 20)
    ledger.move("B", "R1", "R2", 5)
    tid = ledger.dispatch("B", "F2", 8, from_location="R1")
    assert ledger.on_hand("B", "R1") == 7
    assert ledger.in_transit_to("F2", "B") == 8
    assert ledger.balance_check().in_transit == 8
    ledger.arrive(tid, 3)
    ledger.arrive(tid)
    assert ledger.on_hand("B", "F2") == 8 and ledger.in_transit_to("F2", "B") == 0
    with pytest.raises(UnknownTransfer):
        ledger.arrive(tid)
    supplier = ledger.dispatch("A", "R2", 50)
    assert ledger.transfers()[0].transfer_id == supplier
    assert ledger.balance_check().ok


def test_regrade_changes_condition_in_place(ledger: Ledger) -> None:
    """A refurbished return moves from its inspected grade to the refurbished one."""
    ledger.receive("B", "R1", 3)
    ledger.pick("B", "R1", 2)
    ledger.return_in("B", "RET", 2, Condition.UNSELLABLE, ref="RMA-7")
    ledger.regrade("B", "RET", 1, Condition.UNSELLABLE, Condition.USED_LIKE_NEW, ref="REFURB-1")
    assert ledger.on_hand("B", "RET", Condition.UNSELLABLE) == 1
    assert ledger.on_hand("B", "RET", Condition.USED_LIKE_NEW) == 1
    moves = ledger.movements()
    assert moves[-1].kind is MovementKind.REGRADE
    assert moves[-1].condition_in is Condition.USED_LIKE_NEW
    assert ledger.balance_check().ok
    with pytest.raises(InsufficientStock):
        ledger.regrade("B", "RET", 2, Condition.UNSELLABLE, Condition.USED_GOOD)
    with pytest.raises(LedgerError, match="already"):
        ledger.regrade("B", "RET", 1, Condition.USED_LIKE_NEW, Condition.USED_LIKE_NEW)


def test_old_schema_is_refused(ledger_url: str) -> None:
    """A database written by another schema version is refused, not silently misread."""
    with tiny_ledger(ledger_url) as ledger:
        ledger._db.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    with pytest.raises(LedgerError, match="schema version 1"):
        Ledger.open(ledger_url)


def test_adjust_cannot_eat_reserved_stock(ledger: Ledger) -> None:
    """A count loss may not take units that are reserved for an order."""
    ledger.receive("A", "R1", 5)
    ledger.reserve("A", "R1", 4)
    ledger.adjust("A", "R1", -1)
    with pytest.raises(InsufficientStock):
        ledger.adjust("A", "R1", -1)
    ledger.adjust("A", "R1", +3)
    assert ledger.on_hand("A", "R1") == 7
    assert ledger.balance_check().ok


def test_return_requires_a_sale(ledger: Ledger) -> None:
    """A return for a SKU never picked, or more units than were sold, is refused."""
    ledger.receive("A", "R1", 5)
    with pytest.raises(NotSold, match="never sold"):
        ledger.return_in("A", "RET", 1, Condition.USED_GOOD)
    ledger.pick("A", "R1", 2)
    ledger.return_in("A", "RET", 1, Condition.USED_GOOD, ref="RMA-1")
    ledger.return_in("A", "RET", 1, Condition.NEW)
    with pytest.raises(NotSold, match="only 0"):
        ledger.return_in("A", "RET", 1, Condition.NEW)
    ledger.pick("A", "R1", 1)
    with pytest.raises(DuplicateRecord, match="already booked"):
        ledger.return_in("A", "RET", 1, Condition.NEW, ref="RMA-1")
    assert ledger.on_hand("A", "RET", Condition.USED_GOOD) == 1
    assert ledger.balance_check().ok


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda lg: lg.receive("ZZ", "R1", 1), UnknownSku),
        (lambda lg: lg.receive("A", "NOWHERE", 1), UnknownLocation),
        (lambda lg: lg.receive("A", "R1", 0), InvalidQuantity),
        (lambda lg: lg.receive("A", "R1", -3), InvalidQuantity),
        (lambda lg: lg.receive("A", "R1", 1.5), InvalidQuantity),
        (lambda lg: lg.receive("A", "R1", "2"), InvalidQuantity),
        (lambda lg: lg.receive("A", "R1", True), InvalidQuantity),
        (lambda lg: lg.receive("A", "R1", 2**70), InvalidQuantity),
        (lambda lg: lg.adjust("A", "R1", -(2**70)), InvalidQuantity),
        (lambda lg: lg.receive("A", "R1", 1, "SHINY"), LedgerError),
        (lambda lg: lg.pick("A", "R1", 99), InsufficientStock),
        (lambda lg: lg.pick("C", "R1", 1), InsufficientStock),
        (lambda lg: lg.move("A", "R1", "R1", 1), LedgerError),
        (lambda lg: lg.move("A", "R1", "NOWHERE", 1), UnknownLocation),
        (lambda lg: lg.reserve("A", "R1", 11), InsufficientStock),
        (lambda lg: lg.release(12345), UnknownReservation),
        (lambda lg: lg.adjust("A", "R1", 0), InvalidQuantity),
        (lambda lg: lg.adjust("A", "R1", -11), InsufficientStock),
        (lambda lg: lg.dispatch("A", "F1", 11, from_location="R1"), InsufficientStock),
        (lambda lg: lg.arrive(999), UnknownTransfer),
        (lambda lg: lg.return_in("C", "RET", 1, Condition.NEW), NotSold),
        (lambda lg: lg.set_forward_slot("R1", "A", 1, 5), LedgerError),
        (lambda lg: lg.set_forward_slot("F1", "A", 6, 5), InvalidQuantity),
        (lambda lg: lg.add_skus([SkuRecord("A", "other", "general", 1.0)]), LedgerError),
        (lambda lg: lg.add_locations([LocationRecord("R1", LocationKind.DOCK)]), LedgerError),
    ],
)
def test_bad_operation_leaves_database_unchanged(ledger: Ledger, call, error) -> None:
    """Every refused operation raises a typed InputError and changes no table at all."""
    ledger.receive("A", "R1", 10)
    before = ledger.snapshot()
    with pytest.raises(error) as caught:
        call(ledger)
    assert isinstance(caught.value, InputError) and isinstance(caught.value, WarehouseError)
    assert "\n" not in str(caught.value)
    assert ledger.snapshot() == before


def test_failed_batch_rolls_back_every_earlier_operation(ledger: Ledger) -> None:
    """A transaction that fails half-way leaves nothing of its first half."""
    ledger.receive("A", "R1", 10)
    before = ledger.snapshot()
    with pytest.raises(InsufficientStock), ledger.transaction():
        ledger.pick("A", "R1", 4)
        ledger.receive("B", "R2", 3)
        ledger.pick("A", "R1", 7)
    assert ledger.snapshot() == before


def test_nested_transaction_rolls_back_only_its_part(ledger: Ledger) -> None:
    """A caught failure in a nested block undoes that block, the outer work survives."""
    with ledger.transaction():
        ledger.receive("A", "R1", 10)
        with pytest.raises(InsufficientStock), ledger.transaction():
            ledger.receive("A", "R1", 1)
            ledger.pick("A", "R1", 50)
    assert ledger.on_hand("A", "R1") == 10
    assert ledger.balance_check().ok


def test_balance_check_catches_tampered_stock(ledger: Ledger) -> None:
    """Stock edited behind the ledger's back is reported, with the key at fault."""
    ledger.receive("A", "R1", 10)
    ledger._db.execute("UPDATE stock SET on_hand = 12 WHERE sku = 'A'")
    report = ledger.balance_check()
    assert not report.ok
    assert any("A/R1/NEW" in p and "12" in p for p in report.problems)


def test_schema_constraints_refuse_negative_stock(ledger: Ledger) -> None:
    """Even bypassing the Python checks, the database refuses negative or over-reserved stock."""
    ledger.receive("A", "R1", 1)
    with pytest.raises(ledger._db.integrity_errors):
        ledger._db.execute("UPDATE stock SET on_hand = -1")
    with pytest.raises(ledger._db.integrity_errors):
        ledger._db.execute("UPDATE stock SET reserved = 2")


def test_file_database_persists_and_uses_wal(tmp_path: Path) -> None:
    """A sqlite:/// URL names a file in WAL mode with foreign keys on, reopened intact."""
    url = f"sqlite:///{tmp_path / 'sub' / 'l.db'}"
    with tiny_ledger(url) as ledger:
        ledger.receive("A", "R1", 4)
        assert ledger._db.scalar("PRAGMA journal_mode") == "wal"
        assert ledger._db.scalar("PRAGMA foreign_keys") == 1
        assert ledger._db.scalar("PRAGMA recursive_triggers") == 1
    with Ledger.open(url, must_exist=True) as again:
        assert again.on_hand("A", "R1") == 4
        assert again.balance_check().ok


def test_database_urls() -> None:
    """Plain paths, sqlite and postgresql URLs and :memory: parse; other schemes are refused."""
    assert parse_url(":memory:").in_memory
    assert parse_url("sqlite:///:memory:").in_memory
    assert parse_url("sqlite:///runs/x.db").path == Path("runs/x.db")
    assert parse_url("sqlite:////abs/x.db").path == Path("/abs/x.db")
    assert parse_url("x.db").path == Path("x.db")
    assert parse_url("postgresql://host/db").backend == "postgresql"
    assert parse_url("postgres://u:secret@host/db").display == "postgres://u:***@host/db"
    with pytest.raises(UnsupportedDatabase, match="mysql"):
        parse_url("mysql://host/db")


def test_missing_database_is_an_error_when_it_must_exist(tmp_path: Path) -> None:
    """Opening a named ledger that does not exist fails and creates no file."""
    target = tmp_path / "none.db"
    with pytest.raises(LedgerError):
        Ledger.open(target, must_exist=True)
    assert not target.exists()


def test_movements_carry_clock_time_and_kind() -> None:
    """Each movement records the injected clock's time and its kind, in order."""
    clock = ManualClock(DEMO_END)
    ledger = tiny_ledger(clock=clock)
    ledger.receive("A", "R1", 3)
    clock.advance(timedelta(days=2))
    ledger.pick("A", "R1", 1)
    moves = ledger.movements()
    assert [m.kind for m in moves] == [MovementKind.RECEIPT, MovementKind.PICK]
    assert moves[1].at - moves[0].at == timedelta(days=2)
    assert ledger.daily_picks("A") == {moves[1].at.date(): 1}


def test_readers_see_committed_state_only(ledger_url: str) -> None:
    """A second connection reads the last committed state during a write (WAL on SQLite)."""
    url = ledger_url
    with tiny_ledger(url) as writer, Ledger.open(url, must_exist=True) as reader:
        writer.receive("A", "R1", 5)
        with writer.transaction():
            writer.pick("A", "R1", 2)
            assert reader.on_hand("A", "R1") == 5
            assert reader.balance_check().ok
        assert reader.on_hand("A", "R1") == 3
        assert reader.balance_check().ok
