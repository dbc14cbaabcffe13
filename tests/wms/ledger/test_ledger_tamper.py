"""Hand edits behind the ledger's back: refused by the schema, or found by `balance_check`.

Each case runs on SQLite and on a real PostgreSQL server. Movements are the
truth, so every way of rewriting one must fail; the state tables are caches,
so every edit of them that the constraints allow must make the check fail and
name what is wrong.
"""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wms.ledger import Ledger
from wms.ledger.demo import tiny_ledger

MOVEMENT = (
    "(at, kind, sku, condition, qty, from_location, ref)"
    " VALUES ('2026-01-01T00:00:00+00:00', 'pick', 'A', 'NEW', 2, 'R1', 'confirm:p1')"
)


def booked(ledger: Ledger) -> Ledger:
    """Stock, two reservations on one cell, one on another, a transfer and a confirmed pick."""
    ledger.receive("A", "R1", 20)
    ledger.receive("A", "F1", 10)
    ledger.reserve("A", "R1", 3, ref="ORD-1")
    ledger.reserve("A", "R1", 4, ref="ORD-2")
    ledger.reserve("A", "F1", 3, ref="ORD-3")
    ledger.dispatch("B", "F2", 5)
    assert ledger.confirm_pick("p1", "A", "R1", 2)
    assert ledger.balance_check().ok
    return ledger


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE movements SET qty = 5",
        "UPDATE movements SET ref = NULL WHERE ref = 'confirm:p1'",
        "DELETE FROM movements",
        "DELETE FROM movements WHERE ref = 'confirm:p1'",
        "INSERT INTO movements (movement_id, at, kind, sku, condition, qty, to_location)"
        " VALUES (1, 'x', 'receipt', 'A', 'NEW', 99, 'R1')"
        " ON CONFLICT (movement_id) DO UPDATE SET qty = 99",
    ],
)
def test_movements_cannot_be_rewritten(ledger: Ledger, statement: str) -> None:
    """UPDATE, DELETE and an upsert over an existing movement are refused, nothing changes."""
    booked(ledger)
    before = ledger.snapshot()
    with pytest.raises(ledger._db.integrity_errors, match="append-only"):
        ledger._db.execute(statement)
    assert ledger.snapshot() == before
    assert ledger.balance_check().ok


def test_postgresql_refuses_truncate(postgres_database: str) -> None:
    """TRUNCATE skips row triggers, so PostgreSQL has a statement trigger for it."""
    ledger = booked(tiny_ledger(postgres_database))
    with pytest.raises(ledger._db.integrity_errors, match="append-only"):
        ledger._db.execute("TRUNCATE movements CASCADE")
    assert ledger.balance_check().ok
    ledger.close()


def test_replace_of_a_movement_id_is_refused(tmp_path) -> None:
    """SQLite: INSERT OR REPLACE over an existing id is refused, even on a connection of another
    tool (no recursive_triggers, so the delete trigger would not fire)."""
    path = tmp_path / "ledger.db"
    ledger_url = f"sqlite:///{path}"
    with booked(tiny_ledger(ledger_url)) as ledger:
        before = ledger.snapshot()
        first = ledger.movements()[0]
    other = sqlite3.connect(path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        other.execute(
            "INSERT OR REPLACE INTO movements (movement_id, at, kind, sku, condition, qty,"
            " to_location) VALUES (?, ?, 'receipt', 'A', 'NEW', 21, 'R1')",
            (first.movement_id, first.at.isoformat()),
        )
    other.close()
    with Ledger.open(ledger_url, must_exist=True) as again:
        assert again.snapshot() == before
        assert again.balance_check().ok


def test_replace_through_a_unique_ref_is_refused_or_found(tmp_path) -> None:
    """SQLite: a REPLACE that collides on the confirmed-pick ``ref`` deletes the old row silently
    on a plain connection; our connections fire the delete trigger, and the balance
    check finds the hole in the ids even when the new row copies the old one."""
    path = tmp_path / "ledger.db"
    ledger_url = f"sqlite:///{path}"
    with booked(tiny_ledger(ledger_url)) as ledger:
        with pytest.raises(ledger._db.integrity_errors, match="append-only"):
            ledger._db.execute("INSERT OR REPLACE INTO movements " + MOVEMENT)
        assert ledger.balance_check().ok
    other = sqlite3.connect(path)
    other.execute("INSERT OR REPLACE INTO movements " + MOVEMENT)
    other.commit()
    other.close()
    with Ledger.open(ledger_url, must_exist=True) as again:
        report = again.balance_check()
        assert not report.ok
        assert any("deleted or replaced" in p for p in report.problems), report.problems


def test_reserved_units_moved_between_reservations_are_found(ledger: Ledger) -> None:
    """Two reservations on one cell: shifting units between them keeps every sum per cell,
    only rebuilding each reservation from its own movements finds it."""
    booked(ledger)
    first, second = (r.reservation_id for r in ledger.reservations()[:2])
    ledger._db.execute("UPDATE reservations SET qty = qty + 2 WHERE reservation_id = ?", (first,))
    ledger._db.execute("UPDATE reservations SET qty = qty - 2 WHERE reservation_id = ?", (second,))
    report = ledger.balance_check()
    assert not report.ok
    assert any(f"reservation {first}: open 5" in p for p in report.problems), report.problems
    assert any(f"reservation {second}: open 2" in p for p in report.problems), report.problems


def test_reservations_swapped_between_cells_are_found(ledger: Ledger) -> None:
    """Two equal reservations on two cells swapped by hand: every per-cell sum still agrees."""
    booked(ledger)
    on_r1, _, on_f1 = (r.reservation_id for r in ledger.reservations())
    ledger._db.execute(
        "UPDATE reservations SET location_id = 'F1' WHERE reservation_id = ?", (on_r1,)
    )
    ledger._db.execute(
        "UPDATE reservations SET location_id = 'R1' WHERE reservation_id = ?", (on_f1,)
    )
    report = ledger.balance_check()
    assert not report.ok
    assert any(f"reservation {on_r1}: is for A/F1/NEW" in p for p in report.problems)


def test_a_transfer_relabelled_by_hand_is_found(ledger: Ledger) -> None:
    """A transfer in transit whose SKU is edited no longer matches its dispatch movement."""
    booked(ledger)
    (transfer,) = ledger.transfers()
    ledger._db.execute(
        "UPDATE transfers SET sku = 'A' WHERE transfer_id = ?", (transfer.transfer_id,)
    )
    report = ledger.balance_check()
    assert any(f"transfer {transfer.transfer_id}: is for A/NEW" in p for p in report.problems)


class Undo(Exception):
    """Raised to roll a tampering transaction back after looking at it."""


EDITS = st.sampled_from(
    [
        ("stock", "on_hand", "sku = 'A' AND location_id = 'R1'"),
        ("stock", "reserved", "sku = 'A' AND location_id = 'R1'"),
        ("reservations", "qty", "ref = 'ORD-1'"),
        ("reservations", "qty", "ref = 'ORD-3'"),
        ("transfers", "qty", "sku = 'B'"),
    ]
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(edit=EDITS, delta=st.integers(min_value=-3, max_value=3).filter(bool))
def test_any_edit_of_a_cached_quantity_is_found(ledger: Ledger, edit, delta: int) -> None:
    """Property: changing any one quantity in the state tables (within the CHECK
    constraints) makes the balance check fail; the edit is rolled back after."""
    if not ledger.movements():
        booked(ledger)
    table, column, where = edit
    with pytest.raises(Undo), ledger.transaction():
        ledger._db.execute(f"UPDATE {table} SET {column} = {column} + ? WHERE {where}", (delta,))
        report = ledger.balance_check()
        assert not report.ok, (table, column, delta)
        raise Undo
    assert ledger.balance_check().ok
