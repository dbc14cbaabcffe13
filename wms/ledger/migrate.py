"""Upgrade a schema-2 ledger (no lots) to schema 3 in place, in one transaction.

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

from wms.inventory_types import MovementKind
from wms.ledger.errors import LedgerError
from wms.ledger.schema import BY_TRANSFER, ON_HAND_KINDS, SCHEMA_VERSION

if TYPE_CHECKING:
    from wms.ledger.ledger import Ledger, Splits

INFLOWS = (MovementKind.RECEIPT, MovementKind.RETURN_IN)


def upgrade_from_2(ledger: Ledger) -> None:
    """Add lots to a schema-2 ledger; all or nothing (see the module docstring)."""
    db = ledger._db
    with ledger.transaction():
        columns = {
            r[0]
            for r in db.execute(
                "SELECT * FROM movements WHERE 1 = 0"
            ).description  # portable column list
        }
        if "lot" not in columns:
            db.write("ALTER TABLE movements ADD COLUMN lot TEXT")
        db.write(
            f"CREATE INDEX IF NOT EXISTS {BY_TRANSFER.name} ON movements (transfer_id)"
            " WHERE transfer_id IS NOT NULL"
        )
        transfers = {t.transfer_id: t for t in ledger.transfers(open_only=False)}
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
        db.write("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
        report = ledger.balance_check()
        if not report.ok:
            raise LedgerError("upgrade", f"the ledger does not balance: {report.problems[0]}")
