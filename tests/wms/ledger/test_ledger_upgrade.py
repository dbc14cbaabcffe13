"""A schema-2 (before lots) or schema-3 (before storage classes) ledger is upgraded in
place on open, or refused unchanged.

The old database is made the way it was laid out: a ledger's history is booked,
then what later schemas added is removed and the version set back — exactly the
tables, rows and triggers the old schema had.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from wms.inventory_types import Condition, LocationKind, StorageClass
from wms.layout import ZoneKind
from wms.ledger import (
    Ledger,
    LedgerError,
    LocationRecord,
    ManualClock,
    SkuRecord,
    WrongStorageZone,
)
from wms.ledger.demo import DEMO_END, TINY_SKUS, tiny_ledger
from wms.ledger.ledger import default_lot_code
from wms.ledger.schema import SCHEMA_VERSION


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


def downgrade_to_3(ledger: Ledger) -> None:
    """Remove what schema 4 added (storage classes, supplier transfer lots): schema 3."""
    db = ledger._db
    db.execute("ALTER TABLE skus DROP COLUMN storage_class")
    db.execute("ALTER TABLE locations DROP COLUMN zone")
    db.execute("ALTER TABLE transfers DROP COLUMN lot")
    db.execute("ALTER TABLE transfers DROP COLUMN expires_on")
    db.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")


def downgrade_to_2(ledger: Ledger) -> None:
    """Remove what schemas 3 and 4 added, leaving a schema-2 database."""
    downgrade_to_3(ledger)
    db = ledger._db
    cascade = " CASCADE" if db.backend == "postgresql" else ""
    for table in ("movement_lots", "lot_stock", "lots"):
        db.execute(f"DROP TABLE {table}{cascade}")
    db.execute("DROP INDEX movements_by_transfer")
    db.execute("ALTER TABLE movements DROP COLUMN lot")
    db.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")


def schema_2_ledger(url: str, downgrade=downgrade_to_2) -> tuple[dict, list]:
    clock = ManualClock(DEMO_END)
    with tiny_ledger(url, clock) as ledger:
        history(ledger, clock)
        stock = {(r.sku, r.location_id, r.condition): r.on_hand for r in ledger.stock()}
        movements = ledger.movements()
        downgrade(ledger)
    return stock, movements


def test_schema_2_is_upgraded_in_place(ledger_url: str) -> None:
    stock, movements = schema_2_ledger(ledger_url)
    with Ledger.open(ledger_url, ManualClock(DEMO_END + timedelta(days=5))) as ledger:
        assert ledger._db.scalar("SELECT value FROM meta WHERE key = 'schema_version'") == str(
            SCHEMA_VERSION
        )
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
    with Ledger.open(ledger_url) as again:  # a second open finds the schema: nothing to do
        assert again.balance_check().ok


def test_schema_2_that_does_not_balance_is_refused_unchanged(ledger_url: str) -> None:
    schema_2_ledger(ledger_url)
    with Ledger(*_raw(ledger_url)) as raw:  # the database as it is, not upgraded
        raw._db.execute(
            "UPDATE stock SET on_hand = on_hand + 7 WHERE sku = 'A' AND location_id = 'F1'"
        )
    with pytest.raises(LedgerError, match=f"cannot upgrade schema 2 to {SCHEMA_VERSION}"):
        Ledger.open(ledger_url)
    with pytest.raises(LedgerError, match="cannot upgrade"):
        Ledger.open(ledger_url)  # still version 2, still refused: nothing was half-written


def _raw(url: str):
    from wms.ledger.storage import open_database
    from wms.ledger.url import parse_url

    return open_database(parse_url(url)), ManualClock(DEMO_END)


def test_schema_3_gains_storage_classes_without_changing_stock(ledger_url: str) -> None:
    """Schema 3 -> 4: every SKU general, every location general storage, the same stock and
    lots; registering zones and classes afterwards fills them in, under the zone rule."""
    stock, movements = schema_2_ledger(ledger_url, downgrade_to_3)
    with Ledger.open(ledger_url, ManualClock(DEMO_END + timedelta(days=5))) as ledger:
        assert ledger._db.scalar("SELECT value FROM meta WHERE key = 'schema_version'") == str(
            SCHEMA_VERSION
        )
        assert ledger.movements() == movements
        assert {(r.sku, r.location_id, r.condition): r.on_hand for r in ledger.stock()} == stock
        assert {r.storage_class for r in ledger.skus()} == {StorageClass.GENERAL}
        assert {r.zone for r in ledger.locations()} == {None}
        assert ledger.balance_check().ok
        # A stocked SKU cannot become lithium while its units stand in general storage ...
        a = next(r for r in TINY_SKUS if r.sku == "A")
        with pytest.raises(WrongStorageZone, match="cannot become lithium"):
            ledger.add_skus(
                [SkuRecord(a.sku, a.description, a.category, a.unit_price, StorageClass.LITHIUM)]
            )
        # ... but a location may be placed in a zone, and then an unstocked SKU classed.
        r2 = next(r for r in ledger.locations() if r.location_id == "R2")
        ledger.add_locations([LocationRecord("R2", r2.kind, r2.cell, ZoneKind.FIRE_SAFE)])
        assert ledger.location("R2").zone is ZoneKind.FIRE_SAFE
        ledger.add_skus([SkuRecord("LI", "cells", "electronics", 3.0, StorageClass.LITHIUM)])
        ledger.receive("LI", "R2", 4)
        with pytest.raises(WrongStorageZone):
            ledger.receive("LI", "R1", 4)
        # a zone, once set, is not taken away by a record without it
        with pytest.raises(LedgerError, match="other data"):
            ledger.add_locations([LocationRecord("R2", LocationKind.RESERVE, r2.cell)])
