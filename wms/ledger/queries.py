"""Read side of the ledger: every query, and the balance check, over one connection.

`Ledger` (the write side) extends this class; code that only reports (the
stock report, ageing, replenishment planning) needs nothing more than these
methods. Multi-statement reads run in one read transaction so they see a
single consistent state while another process writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

from wms.inventory_types import Condition, LocationKind, MovementKind, StorageClass
from wms.layout import ZoneKind
from wms.ledger.balance import balance_check
from wms.ledger.errors import UnknownLocation, UnknownSku
from wms.ledger.records import (
    BalanceReport,
    ForwardSlot,
    LocationRecord,
    Lot,
    LotStockRow,
    Movement,
    Reservation,
    SkuRecord,
    StockRow,
    Transfer,
)
from wms.ledger.schema import TABLES
from wms.ledger.storage import Database

Clock = Callable[[], datetime]

IN_TRANSIT_LOTS_SQL = (
    "SELECT l.sku, l.lot, l.received_on, l.expires_on, x.qty FROM ("
    " SELECT COALESCE(ml.lot, m.lot) AS lot,"
    f" SUM(CASE m.kind WHEN '{MovementKind.DISPATCH.value}' THEN COALESCE(ml.qty, m.qty)"
    " ELSE -COALESCE(ml.qty, m.qty) END) AS qty"
    " FROM movements m LEFT JOIN movement_lots ml ON ml.movement_id = m.movement_id"
    " WHERE m.transfer_id = ? GROUP BY COALESCE(ml.lot, m.lot)"
    ") AS x JOIN lots l ON l.sku = ? AND l.lot = x.lot WHERE x.qty > 0"
    " ORDER BY l.expires_on IS NULL, l.expires_on, l.received_on, x.lot"
)
"""The lots still in transit on one transfer, FEFO."""

MOVEMENT_LOTS_SQL = (
    "SELECT ml.movement_id, ml.lot, ml.qty FROM movement_lots ml"
    " JOIN movements m ON m.movement_id = ml.movement_id"
    " JOIN lots l ON l.sku = m.sku AND l.lot = ml.lot WHERE ml.movement_id > ?"
    " ORDER BY ml.movement_id, l.expires_on IS NULL, l.expires_on, l.received_on, ml.lot"
)
"""The lots of the movements that touched several (or were booked before lots), FEFO."""


def utc_now() -> datetime:
    return datetime.now(UTC)


class LedgerView:
    """Queries over a ledger database; not thread-safe: one per thread."""

    def __init__(self, db: Database, clock: Clock = utc_now):
        self._db = db
        self.url = db.url
        self._clock = clock
        self._depth = 0
        self._in_read = False
        # SKUs and locations are never deleted nor changed once stored, so what a read
        # found is remembered; `Ledger` forgets it when it rolls back (the read may have
        # seen its own uncommitted insert). Saves two statements, on PostgreSQL two round
        # trips, on every booking.
        self._sku_classes: dict[str, StorageClass] = {}
        self._location_records: dict[str, LocationRecord] = {}
        self._lots: dict[tuple[str, str], Lot] = {}

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """A read transaction: several SELECTs see one consistent state (no write lock).
        Inside a write transaction or another read, the enclosing one is that state."""
        if self._depth > 0 or self._in_read:
            yield
            return
        self._db.begin_read()
        self._in_read = True
        try:
            yield
        finally:
            self._in_read = False
            self._db.commit()

    # ------------------------------------------------------------------ queries

    def sku(self, sku: str) -> SkuRecord:
        found = self._sku_or_none(sku)
        if found is None:
            raise UnknownSku(f"sku {sku!r}", "not in the ledger")
        return found

    def skus(self) -> list[SkuRecord]:
        return [_sku(r) for r in self._db.execute(SKU_SQL + " ORDER BY sku")]

    def locations(self, kind: LocationKind | None = None) -> list[LocationRecord]:
        query = LOCATION_SQL
        params: tuple[Any, ...] = ()
        if kind is not None:
            query += " WHERE kind = ?"
            params = (kind.value,)
        return [_location(r) for r in self._db.execute(query + " ORDER BY location_id", params)]

    def location(self, location_id: str) -> LocationRecord:
        """One location; `UnknownLocation` when the ledger does not hold it."""
        found = self._location_records.get(location_id)
        if found is not None:
            return found
        row = self._db.execute(LOCATION_SQL + " WHERE location_id = ?", (location_id,)).fetchone()
        if row is None:
            raise UnknownLocation(f"location {location_id!r}", "not in the ledger")
        found = self._location_records[location_id] = _location(row)
        return found

    def may_store(self, sku: str, location_id: str) -> bool:
        """Whether the storage class of ``sku`` lets it be put away at ``location_id``
        (`LocationRecord.may_hold`): what every inflow of the ledger is checked against."""
        return self.location(location_id).may_hold(self._storage_class(sku))

    def forward_slots(self) -> list[ForwardSlot]:
        return [
            ForwardSlot(*tuple(r))
            for r in self._db.execute(
                "SELECT location_id, sku, min_qty, max_qty FROM forward_slots ORDER BY location_id"
            )
        ]

    def stock(
        self, sku: str | None = None, location_id: str | None = None, include_empty: bool = False
    ) -> list[StockRow]:
        clauses, params = [], []
        if sku is not None:
            clauses.append("sku = ?")
            params.append(sku)
        if location_id is not None:
            clauses.append("location_id = ?")
            params.append(location_id)
        if not include_empty:
            clauses.append("on_hand > 0")
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        return [
            StockRow(r[0], r[1], Condition(r[2]), r[3], r[4])
            for r in self._db.execute(
                "SELECT sku, location_id, condition, on_hand, reserved FROM stock"
                + where
                + " ORDER BY sku, location_id, condition",
                params,
            )
        ]

    def on_hand(self, sku: str, location_id: str, condition: Condition = Condition.NEW) -> int:
        return self._stock_cell(sku, location_id, condition)[0]

    def available(self, sku: str, location_id: str, condition: Condition = Condition.NEW) -> int:
        on_hand, reserved = self._stock_cell(sku, location_id, condition)
        return on_hand - reserved

    def lots(self, sku: str | None = None) -> list[Lot]:
        """Every lot (of one SKU), first-expired-first-out then first-in-first-out."""
        where, params = (" WHERE sku = ?", (sku,)) if sku is not None else ("", ())
        found = [
            _lot(r)
            for r in self._db.execute(
                "SELECT sku, lot, received_on, expires_on FROM lots" + where, params
            )
        ]
        return sorted(found, key=lambda lot: (lot.sku, lot.fefo_key()))

    def lot_stock(
        self, sku: str | None = None, location_id: str | None = None
    ) -> list[LotStockRow]:
        """Units per lot and stock cell (only lots with units), each cell's lots FEFO."""
        clauses, params = ["s.on_hand > 0"], []
        if sku is not None:
            clauses.append("s.sku = ?")
            params.append(sku)
        if location_id is not None:
            clauses.append("s.location_id = ?")
            params.append(location_id)
        rows = [
            LotStockRow(r[0], r[1], Condition(r[2]), _lot((r[0], r[3], r[5], r[6])), int(r[4]))
            for r in self._db.execute(
                "SELECT s.sku, s.location_id, s.condition, s.lot, s.on_hand,"
                " l.received_on, l.expires_on FROM lot_stock s"
                " JOIN lots l ON l.sku = s.sku AND l.lot = s.lot WHERE " + " AND ".join(clauses),
                params,
            )
        ]
        return sorted(
            rows, key=lambda r: (r.sku, r.location_id, r.condition.value, r.lot.fefo_key())
        )

    def transfer_lots(self, transfer: Transfer) -> list[tuple[Lot, int]]:
        """The lots still in transit on an internal transfer, FEFO (a supplier's have none yet)."""
        return [
            (_lot(r), int(r[4]))
            for r in self._db.execute(IN_TRANSIT_LOTS_SQL, (transfer.transfer_id, transfer.sku))
        ]

    def first_lots(self, sku: str, condition: Condition = Condition.NEW) -> dict[str, Lot]:
        """Per location, the lot of ``sku`` that leaves it next (its FEFO-first lot with units).

        Replenishment takes reserve stock from the location whose first lot is
        earliest, so the lots that expire (or arrived) first reach the pick faces first.
        """
        first: dict[str, Lot] = {}
        for row in self.lot_stock(sku):
            if row.condition is condition and row.location_id not in first:
                first[row.location_id] = row.lot
        return first

    def reservations(self, open_only: bool = True) -> list[Reservation]:
        where = " WHERE qty > 0" if open_only else ""
        return [
            Reservation(r[0], r[1], r[2], Condition(r[3]), r[4], r[5])
            for r in self._db.execute(
                "SELECT reservation_id, sku, location_id, condition, qty, ref FROM reservations"
                + where
                + " ORDER BY reservation_id"
            )
        ]

    def transfers(self, open_only: bool = True) -> list[Transfer]:
        where = " WHERE qty > 0" if open_only else ""
        return [
            transfer_of_row(r)
            for r in self._db.execute(TRANSFER_SQL + where + " ORDER BY transfer_id")
        ]

    def in_transit_to(self, location_id: str, sku: str) -> int:
        row = self._db.execute(
            "SELECT COALESCE(SUM(qty), 0) FROM transfers WHERE to_location = ? AND sku = ?",
            (location_id, sku),
        ).fetchone()
        return int(row[0])

    def movements(self, after_id: int = 0) -> list[Movement]:
        """The history after ``after_id``, in order, each movement with the lots it touched."""
        with self._reading():
            return self._movements(after_id)

    def _movements(self, after_id: int) -> list[Movement]:
        splits: dict[int, list[tuple[str, int]]] = {}
        for movement_id, lot, qty in self._db.execute(MOVEMENT_LOTS_SQL, (after_id,)):
            splits.setdefault(int(movement_id), []).append((lot, int(qty)))
        return [
            Movement(
                movement_id=r[0],
                at=datetime.fromisoformat(r[1]),
                kind=MovementKind(r[2]),
                sku=r[3],
                condition=Condition(r[4]),
                qty=r[5],
                from_location=r[6],
                to_location=r[7],
                reservation_id=r[8],
                transfer_id=r[9],
                ref=r[10],
                to_condition=None if r[11] is None else Condition(r[11]),
                lots=((r[12], int(r[5])),) if r[12] is not None else tuple(splits.get(r[0], ())),
            )
            for r in self._db.execute(
                "SELECT movement_id, at, kind, sku, condition, qty, from_location, to_location,"
                " reservation_id, transfer_id, ref, to_condition, lot FROM movements"
                " WHERE movement_id > ?"
                " ORDER BY movement_id",
                (after_id,),
            )
        ]

    def sold_qty(self, sku: str) -> int:
        return self._sum_movements(sku, MovementKind.PICK)

    def returned_qty(self, sku: str) -> int:
        return self._sum_movements(sku, MovementKind.RETURN_IN)

    def daily_picks(self, sku: str) -> dict[date, int]:
        """Units picked per calendar day (UTC), the demand history forecasts smooth."""
        return {
            date.fromisoformat(r[0]): int(r[1])
            for r in self._db.execute(
                "SELECT substr(at, 1, 10) AS day, SUM(qty) FROM movements"
                " WHERE sku = ? AND kind = ? GROUP BY day ORDER BY day",
                (sku, MovementKind.PICK.value),
            )
        }

    def now(self) -> datetime:
        return _aware(self._clock())

    def balance_check(self) -> BalanceReport:
        """Recompute every quantity from the movements and compare with the stored state."""
        with self._reading():
            return balance_check(self._db)

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table in a stable order: equal snapshots, unchanged database."""
        with self._reading():
            return {
                table: [tuple(r) for r in self._db.execute(f"SELECT * FROM {table} ORDER BY 1, 2")]
                for table in TABLES
            }

    def is_empty(self) -> bool:
        return self._db.execute("SELECT COUNT(*) FROM skus").fetchone()[0] == 0

    # ------------------------------------------------------------------ internals

    def _sku_or_none(self, sku: str) -> SkuRecord | None:
        row = self._db.execute(SKU_SQL + " WHERE sku = ?", (sku,)).fetchone()
        return None if row is None else _sku(row)

    def _storage_class(self, sku: str) -> StorageClass:
        """The SKU's storage class; `UnknownSku` when the ledger does not know it."""
        found = self._sku_classes.get(sku)
        if found is not None:
            return found
        row = self._db.execute("SELECT storage_class FROM skus WHERE sku = ?", (sku,)).fetchone()
        if row is None:
            raise UnknownSku(f"sku {sku!r}", "not in the ledger")
        found = self._sku_classes[sku] = StorageClass(row[0])
        return found

    def _require_sku(self, sku: str) -> None:
        self._storage_class(sku)

    def _location_kind(self, location_id: str) -> LocationKind:
        return self.location(location_id).kind

    def _lot_or_none(self, sku: str, lot: str) -> Lot | None:
        found = self._lots.get((sku, lot))
        if found is not None:
            return found
        row = self._db.execute(
            "SELECT sku, lot, received_on, expires_on FROM lots WHERE sku = ? AND lot = ?",
            (sku, lot),
        ).fetchone()
        if row is None:
            return None
        found = self._lots[(sku, lot)] = _lot(row)
        return found

    def _forget(self) -> None:
        """Drop what reads remembered: after a rollback they may name rows that are gone."""
        self._sku_classes.clear()
        self._location_records.clear()
        self._lots.clear()

    def _stock_cell(self, sku: str, location_id: str, condition: Condition) -> tuple[int, int]:
        row = self._db.execute(
            "SELECT on_hand, reserved FROM stock"
            " WHERE sku = ? AND location_id = ? AND condition = ?",
            (sku, location_id, condition.value),
        ).fetchone()
        return (0, 0) if row is None else (int(row[0]), int(row[1]))

    def _sum_movements(self, sku: str, kind: MovementKind) -> int:
        row = self._db.execute(
            "SELECT COALESCE(SUM(qty), 0) FROM movements WHERE sku = ? AND kind = ?",
            (sku, kind.value),
        ).fetchone()
        return int(row[0])


SKU_SQL = "SELECT sku, description, category, unit_price, storage_class FROM skus"
LOCATION_SQL = "SELECT location_id, kind, cell_row, cell_col, zone FROM locations"


TRANSFER_SQL = (
    "SELECT transfer_id, sku, condition, from_location, to_location, qty, ref, lot, expires_on"
    " FROM transfers"
)


def transfer_of_row(row: Any) -> Transfer:
    expires = None if row[8] is None else date.fromisoformat(row[8])
    return Transfer(
        row[0], row[1], Condition(row[2]), row[3], row[4], row[5], row[6], row[7], expires
    )


def _sku(row: Any) -> SkuRecord:
    return SkuRecord(row[0], row[1], row[2], row[3], StorageClass(row[4]))


def _location(row: Any) -> LocationRecord:
    cell = None if row[2] is None else (int(row[2]), int(row[3]))
    return LocationRecord(
        row[0], LocationKind(row[1]), cell, None if row[4] is None else ZoneKind(row[4])
    )


def _lot(row: Any) -> Lot:
    return Lot(
        row[0],
        row[1],
        date.fromisoformat(row[2]),
        None if row[3] is None else date.fromisoformat(row[3]),
    )


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is UTC:  # the clocks' usual answer: nothing to convert
        return moment
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
