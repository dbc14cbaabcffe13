"""A schema-2 ledger (before lots) is upgraded in place on open, or refused unchanged.

The schema-2 database is made the way it was laid out: a ledger's history is
booked, then the lot tables and the ``movements.lot`` column are removed and
the version set back to 2 — exactly the tables, rows and triggers schema 2 had.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from wms.inventory_types import Condition
from wms.ledger import Ledger, LedgerError, ManualClock
from wms.ledger.demo import DEMO_END, tiny_ledger
from wms.ledger.ledger import default_lot_code


def history(ledger: Ledger, clock: ManualClock) -> None:
    """Every kind of on-hand movement, over several days."""
    ledger.receive("A", "R1", 10)
    clock.advance(timedelta(days=1))
    ledger.receive("A", "R1", 10)
    ledger.move("A", "R1", "F1", 12)  # both days' units
    ledger.pick("A", "F1", 3)
    res = ledger.reserve("A", "F1", 2)
    ledger.pick_reserved(res)
    clock.advance(timedelta(days=1))
    ledger.return_in("A", "RET", 2, Condition.USED_GOOD)
    ledger.regrade("A", "RET", 1, Condition.USED_GOOD, Condition.NEW)
    internal = ledger.dispatch("A", "F2", 4, from_location="R1")
    ledger.arrive(internal, 3)
    supplier = ledger.dispatch("B", "R2", 6)
    clock.advance(timedelta(days=1))
    ledger.arrive(supplier)
    ledger.adjust("B", "R2", -1)
    ledger.adjust("C", "R1", 5)


def downgrade_to_2(ledger: Ledger) -> None:
    """Remove what schema 3 added, leaving a schema-2 database."""
    db = ledger._db
    cascade = " CASCADE" if db.backend == "postgresql" else ""
    for table in ("movement_lots", "lot_stock", "lots"):
        db.execute(f"DROP TABLE {table}{cascade}")
    db.execute("DROP INDEX movements_by_transfer")
    db.execute("ALTER TABLE movements DROP COLUMN lot")
    db.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")


def schema_2_ledger(url: str) -> tuple[dict, list]:
    clock = ManualClock(DEMO_END)
    with tiny_ledger(url, clock) as ledger:
        history(ledger, clock)
        stock = {(r.sku, r.location_id, r.condition): r.on_hand for r in ledger.stock()}
        movements = ledger.movements()
        downgrade_to_2(ledger)
    return stock, movements


def test_schema_2_is_upgraded_in_place(ledger_url: str) -> None:
    stock, movements = schema_2_ledger(ledger_url)
    with Ledger.open(ledger_url, ManualClock(DEMO_END + timedelta(days=5))) as ledger:
        assert ledger._db.scalar("SELECT value FROM meta WHERE key = 'schema_version'") == "3"
        assert ledger.movements() == movements
        assert {(r.sku, r.location_id, r.condition): r.on_hand for r in ledger.stock()} == stock
        report = ledger.balance_check()
        assert report.ok, report.problems
        # the first day's units were moved and picked first
        day0, day1 = (default_lot_code((DEMO_END + timedelta(days=d)).date()) for d in (0, 1))
        face = {r.lot.lot: r.on_hand for r in ledger.lot_stock("A", "F1")}
        assert face == {day0: 5, day1: 2}
        ledger.pick("A", "F1", 6)
        assert {r.lot.lot: r.on_hand for r in ledger.lot_stock("A", "F1")} == {day1: 1}
        assert ledger.balance_check().ok
    with Ledger.open(ledger_url) as again:  # a second open finds schema 3: nothing to do
        assert again.balance_check().ok


def test_schema_2_that_does_not_balance_is_refused_unchanged(ledger_url: str) -> None:
    schema_2_ledger(ledger_url)
    with Ledger(*_raw(ledger_url)) as raw:  # the database as it is, not upgraded
        raw._db.execute(
            "UPDATE stock SET on_hand = on_hand + 7 WHERE sku = 'A' AND location_id = 'F1'"
        )
    with pytest.raises(LedgerError, match="cannot upgrade schema 2 to 3"):
        Ledger.open(ledger_url)
    with pytest.raises(LedgerError, match="cannot upgrade"):
        Ledger.open(ledger_url)  # still version 2, still refused: nothing was half-written


def _raw(url: str):
    from wms.ledger.storage import open_database
    from wms.ledger.url import parse_url

    return open_database(parse_url(url)), ManualClock(DEMO_END)
