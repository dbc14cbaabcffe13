"""Upgrade a schema-2 or schema-3 ledger to the current schema in place, in one transaction.

Schema 3 had no storage classes: the upgrade adds ``skus.storage_class`` (every
SKU ``general``) and ``locations.zone`` (every location general storage), and
``transfers.lot`` / ``transfers.expires_on`` (empty: a supplier transfer already in
transit arrives into the day's default lot, as before), which changes no stock;
registering the floor's locations or the catalogue's SKUs again then fills
the classes and zones in (`Ledger.add_locations`, `Ledger.add_skus`).

Schema 2 kept stock per (SKU, location, condition) only. The upgrade adds
``movements.lot`` and replays the whole history in order, giving every on-hand
movement the lots it would have touched had lots existed: each receipt, return,
count gain and supplier arrival goes into the default lot of the day it was
booked (`default_lot_code`), and every outflow draws FEFO, exactly as the
ledger does now. No movement is rewritten (they are append-only): the lots go
into ``movement_lots``. The replay fills ``lot_stock`` as it goes; the upgrade
commits only if the rebuilt ledger then passes `balance_check`, so a
schema-2 database that did not balance is refused, unchanged, with the reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.schema import CreateColumn

from wms.inventory_types import MovementKind
from wms.ledger.errors import LedgerError
from wms.ledger.schema import (
    BY_TRANSFER,
    LOT_STOCK_TRIGGERS,
    ON_HAND_KINDS,
    SCHEMA_VERSION,
    SQLITE_LOT_STOCK_TRIGGERS,
    locations,
    skus,
    transfers,
)

if TYPE_CHECKING:
    from wms.ledger.ledger import Ledger, Splits

INFLOWS = (MovementKind.RECEIPT, MovementKind.RETURN_IN)


UPGRADABLE = ("2", "3")
"""The stored schema versions `upgrade` brings to `SCHEMA_VERSION`."""


def upgrade(ledger: Ledger, version: str) -> None:
    """Bring a ledger of schema ``version`` (one of `UPGRADABLE`) to `SCHEMA_VERSION`;
    all or nothing (see the module docstring)."""
    with ledger.transaction():
        _add_schema_4_columns(ledger)
        if version == "2":
            _add_lots(ledger)
        ledger._db.write(
            "UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),)
        )
        report = ledger.balance_check()
        if not report.ok:
            raise LedgerError("upgrade", f"the ledger does not balance: {report.problems[0]}")


def _columns(ledger: Ledger, table: str) -> set[str]:
    cursor = ledger._db.execute(f"SELECT * FROM {table} WHERE 1 = 0")  # portable column list
    return {r[0] for r in cursor.description}


def _add_column(ledger: Ledger, table: sa.Table, column: str) -> None:
    if column not in _columns(ledger, table.name):
        ddl = CreateColumn(table.c[column]).compile(dialect=ledger._db.engine.dialect)
        ledger._db.write(f"ALTER TABLE {table.name} ADD COLUMN {ddl}")


def _add_schema_4_columns(ledger: Ledger) -> None:
    """Storage classes, and the lot of a supplier transfer (none for those in transit)."""
    _add_column(ledger, skus, "storage_class")
    _add_column(ledger, locations, "zone")
    _add_column(ledger, transfers, "lot")
    _add_column(ledger, transfers, "expires_on")


def _add_lots(ledger: Ledger) -> None:
    """Give every on-hand movement of a schema-2 history its lots, by replay."""
    db = ledger._db
    if "lot" not in _columns(ledger, "movements"):
        db.write("ALTER TABLE movements ADD COLUMN lot TEXT")
    db.write(
        f"CREATE INDEX IF NOT EXISTS {BY_TRANSFER.name} ON movements (transfer_id)"
        " WHERE transfer_id IS NOT NULL"
    )
    transfers = {t.transfer_id: t for t in ledger.transfers(open_only=False)}
    # ``stock`` already holds the result; the replay fills ``lot_stock`` alone, so the
    # triggers that carry lot changes into ``stock`` are off for it (in this transaction).
    _lot_stock_triggers(ledger, enable=False)
    for m in ledger.movements():
        if m.kind not in ON_HAND_KINDS or (m.from_location is None and m.to_location is None):
            continue
        day = m.at.date()
        source = f"movement {m.movement_id}"
        splits: Splits
        if m.from_location is not None:
            splits = ledger._take_lots(m.sku, m.from_location, m.condition, m.qty)
        elif m.kind is MovementKind.ARRIVE:
            splits = ledger._arriving_lots(transfers[m.transfer_id], m.qty, source, today=day)
        elif m.kind in INFLOWS or m.kind is MovementKind.ADJUST:
            splits = [(ledger._receipt_lot(m.sku, None, None, None, source, today=day), m.qty)]
        else:  # pragma: no cover - every on-hand kind with a location is handled above
            raise LedgerError(source, f"cannot place a {m.kind.value} in a lot")
        if m.to_location is not None:
            ledger._put_lots(m.sku, m.to_location, m.condition_in, splits)
        ledger._record_lot_splits(m.movement_id, splits)
    _lot_stock_triggers(ledger, enable=True)


def _lot_stock_triggers(ledger: Ledger, *, enable: bool) -> None:
    db = ledger._db
    names = LOT_STOCK_TRIGGERS[db.backend]
    if db.backend == "postgresql":
        for name in names:
            db.write(f"ALTER TABLE lot_stock {'ENABLE' if enable else 'DISABLE'} TRIGGER {name}")
        return
    for name in names:
        db.write(SQLITE_LOT_STOCK_TRIGGERS[name] if enable else f"DROP TRIGGER {name}")
