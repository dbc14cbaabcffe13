"""The inventory ledger: state tables plus an append-only history of movements.

Every public operation validates its input first, then writes the state change
and its movement row inside one transaction; any failure rolls the whole
transaction back, so a refused operation leaves every table exactly as it was.
The same code runs on SQLite and PostgreSQL (`wms.ledger.storage`).

A SKU of a storage class (lithium, flammable, cold: `SkuRecord.storage_class`)
enters storage only in locations of a zone of its kind (`LocationRecord.zone`):
every inflow — receipt, return, count gain, move, transfer — is checked in
`_put`, and a transfer's destination again at dispatch, so no caller (putaway,
replenishment, returns, a CSV of receipts) can store it elsewhere.

Stock is held in lots (`Lot`: receipt date, optional expiry). Every outflow
(pick, move, count loss, dispatch, regrade) draws the lots at that location
first-expired-first-out, then first-in-first-out; moves, transfers and regrades
carry their lots along. Reservations hold units of a stock cell, not of a lot:
the lot is chosen when the units leave, so a pick always takes the earliest
lot there. A receipt without a lot goes into the default lot of its day
(`default_lot_code`), dated by the ledger clock.
`Ledger.transaction` groups several operations (a whole returns file, a wave's
replenishment) into one all-or-nothing unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from wms.inventory_types import STORAGE_KINDS, Condition, LocationKind, MovementKind, StorageClass
from wms.layout.floor import STORAGE_ZONE_KINDS
from wms.ledger.errors import (
    DuplicateRecord,
    InsufficientStock,
    InvalidQuantity,
    LedgerError,
    NotSold,
    UnknownReservation,
    UnknownTransfer,
    UnsupportedDatabase,
    WrongStorageZone,
)
from wms.ledger.queries import TRANSFER_SQL, Clock, LedgerView, transfer_of_row, utc_now
from wms.ledger.records import LocationRecord, Lot, Reservation, SkuRecord, Transfer
from wms.ledger.schema import SCHEMA_VERSION
from wms.ledger.storage import open_database
from wms.ledger.url import parse_url

MAX_QTY = 10**12
"""Larger quantities are typos; 64-bit integers would overflow long before sums do."""


def _positive(qty: Any, source: str) -> int:
    if isinstance(qty, bool) or not isinstance(qty, int) or qty <= 0:
        raise InvalidQuantity(source, f"quantity must be a positive whole number, got {qty!r}")
    if qty > MAX_QTY:
        raise InvalidQuantity(source, f"quantity {qty} is larger than {MAX_QTY}")
    return qty


MAX_LOT_LEN = 64

Splits = list[tuple[str, int]]
"""The lots one movement touched, with the units of each (in FEFO order)."""


def default_lot_code(day: date, expires_on: date | None = None) -> str:
    """The lot a receipt goes into when it names none: one per SKU and receipt day."""
    code = f"R{day.isoformat()}"
    return code if expires_on is None else f"{code}-E{expires_on.isoformat()}"


def _day(value: date | str | None, source: str, what: str) -> date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise LedgerError(source, f"{what} {value!r} is not a date (YYYY-MM-DD)") from None


def _lot_code(value: str | None, source: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise LedgerError(source, f"lot must be a non-empty text, got {value!r}")
    code = value.strip()
    if len(code) > MAX_LOT_LEN or not code.isprintable():
        raise LedgerError(source, f"lot {code[:20]!r}... must be printable, at most {MAX_LOT_LEN}")
    return code


CELL_LOTS_SQL = (
    "SELECT lot, on_hand FROM lot_stock"
    " WHERE sku = ? AND location_id = ? AND condition = ? AND on_hand > 0"
)
CELL_WITH_LOTS_SQL = (
    "SELECT s.on_hand, s.reserved, l.lot, l.on_hand FROM stock s LEFT JOIN lot_stock l"
    " ON l.sku = s.sku AND l.location_id = s.location_id AND l.condition = s.condition"
    " AND l.on_hand > 0 WHERE s.sku = ? AND s.location_id = ? AND s.condition = ?"
)
"""A stock cell's on hand and reserved, one row per lot with units (one row with no lot
when it has none): what an outflow checks and draws from, in one statement."""
"""The lots with units in one stock cell, unordered: a primary-key range, no join and no
sort (`Ledger._take_lots` orders them by `Lot.fefo_key`, lots being immutable and cached;
0.8 µs less per outflow than ordering in SQL)."""


ZONED_STORAGE_SQL = (
    "SELECT 1 FROM locations WHERE zone = ? AND kind IN ("
    + ", ".join(f"'{k.value}'" for k in sorted(STORAGE_KINDS, key=lambda k: k.value))
    + ") LIMIT 1"
)
"""Is there any storage location in a zone of this kind?"""


def _condition(value: Condition | str, source: str) -> Condition:
    if isinstance(value, Condition):
        return value
    try:
        return Condition.parse(str(value))
    except ValueError as error:
        raise LedgerError(source, str(error)) from None


class Transaction:
    """``with ledger.transaction():`` — the outermost one begins and commits a write
    transaction, a nested one is a savepoint; an exception undoes the block and
    propagates, a refused constraint as a `LedgerError`.

    A class rather than a ``@contextmanager`` generator: every booking enters one,
    and the generator protocol costs about 1 µs more per booking (bench/ledger_cpu.py).
    """

    __slots__ = ("_ledger",)

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def __enter__(self) -> None:
        ledger = self._ledger
        if ledger._depth == 0:
            ledger._db.begin_write()
        else:
            ledger._db.savepoint(f"sp{ledger._depth}")
        ledger._depth += 1

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _tb: Any
    ) -> bool:
        ledger = self._ledger
        db = ledger._db
        if kind is None:
            ledger._depth -= 1
            if ledger._depth == 0:
                db.commit()
            else:
                db.release(f"sp{ledger._depth}")
            return False
        ledger._undo()
        if isinstance(error, db.integrity_errors):
            reason = str(error).strip().splitlines()[0]
            raise LedgerError("ledger", f"constraint refused the change ({reason})") from None
        return False


class Ledger(LedgerView):
    """One inventory ledger database: the queries of `LedgerView` plus every write."""

    @classmethod
    def open(
        cls, url: str | Path = ":memory:", clock: Clock = utc_now, *, must_exist: bool = False
    ) -> Ledger:
        """Open the ledger a URL names, creating file and schema unless ``must_exist``."""
        parsed = parse_url(url)
        if must_exist and not parsed.exists():
            raise LedgerError(parsed.text, "no ledger database there")
        db = open_database(parsed, must_exist=must_exist)
        try:
            version = db.ensure_schema()
        except (sa.exc.SQLAlchemyError, *db.errors) as error:
            db.close()
            reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
            raise UnsupportedDatabase(
                parsed.display, f"cannot set up the ledger ({reason})"
            ) from None
        ledger = cls(db, clock)
        if version == str(SCHEMA_VERSION):
            return ledger
        from wms.ledger.migrate import UPGRADABLE, upgrade

        if version not in UPGRADABLE:
            db.close()
            raise LedgerError(
                parsed.display,
                f"ledger schema version {version}, this build needs {SCHEMA_VERSION} and "
                f"upgrades only versions {' and '.join(UPGRADABLE)}: export its stock "
                "and recreate it",
            )
        try:
            upgrade(ledger, version)
        except LedgerError as error:
            db.close()
            raise LedgerError(
                parsed.display, f"cannot upgrade schema {version} to {SCHEMA_VERSION}: {error}"
            ) from None
        return ledger

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ transactions

    def transaction(self) -> Transaction:
        """All writes inside happen or none do; nests via savepoints (see `Transaction`)."""
        return Transaction(self)

    def _undo(self) -> None:
        self._forget()
        self._depth -= 1
        if self._depth == 0:
            self._db.rollback()
        else:
            self._db.rollback_to(f"sp{self._depth}")

    # ------------------------------------------------------------------ master data

    def add_skus(self, records: Iterable[SkuRecord]) -> None:
        """Register SKUs; re-adding an identical record is a no-op, a different one an error.

        One exception: a ``general`` SKU may be given a storage class (a ledger
        upgraded from before storage classes) when none of its stock, nor any
        transfer of it, is outside the zones of that class.
        """
        with self.transaction():
            for rec in records:
                source = f"sku {rec.sku!r}"
                if not rec.sku or rec.unit_price < 0:
                    raise LedgerError(source, "needs an id and a price >= 0")
                if not isinstance(rec.storage_class, StorageClass):
                    raise LedgerError(source, f"unknown storage class {rec.storage_class!r}")
                existing = self._sku_or_none(rec.sku)
                clean = SkuRecord(
                    rec.sku, rec.description, rec.category, float(rec.unit_price), rec.storage_class
                )
                if existing is None:
                    self._db.write(
                        "INSERT INTO skus (sku, description, category, unit_price, storage_class)"
                        " VALUES (?, ?, ?, ?, ?)",
                        (
                            rec.sku,
                            rec.description,
                            rec.category,
                            clean.unit_price,
                            rec.storage_class.value,
                        ),
                    )
                elif existing == clean:
                    continue
                elif (
                    existing.storage_class is StorageClass.GENERAL
                    and replace(existing, storage_class=rec.storage_class) == clean
                ):
                    self._classify(rec.sku, rec.storage_class, source)
                else:
                    raise DuplicateRecord(source, "already exists with other data")

    def _classify(self, sku: str, storage: StorageClass, source: str) -> None:
        """Give a general SKU a storage class, refused while any of it stands outside its zones."""
        places = (
            {r.location_id for r in self.stock(sku=sku)}
            | {t.to_location for t in self.transfers() if t.sku == sku}
            | {f.location_id for f in self.forward_slots() if f.sku == sku}
        )
        for location_id in sorted(places):
            if not self.location(location_id).may_hold(storage):
                raise WrongStorageZone(
                    source,
                    f"cannot become {storage.value}: it has stock or a forward slot at "
                    f"{location_id}, outside every {getattr(storage.zone_kind, 'value', '')} zone",
                )
        self._db.write("UPDATE skus SET storage_class = ? WHERE sku = ?", (storage.value, sku))
        self._sku_classes.pop(sku, None)

    def add_locations(self, records: Iterable[LocationRecord]) -> None:
        """Register locations; re-adding an identical one is a no-op, a different one an error.

        One exception: a location stored as general storage may be placed in a
        storage zone (a ledger upgraded from before storage classes): no SKU of a
        storage class can be in it, so nothing stored breaks the rule.
        """
        with self.transaction():
            for rec in records:
                if not rec.location_id:
                    raise LedgerError("location", "needs an id")
                source = f"location {rec.location_id!r}"
                if rec.zone is not None and rec.zone not in STORAGE_ZONE_KINDS:
                    raise LedgerError(source, f"{rec.zone.value} is not a storage zone kind")
                row = self._db.execute(
                    "SELECT kind, cell_row, cell_col, zone FROM locations WHERE location_id = ?",
                    (rec.location_id,),
                ).fetchone()
                cell = rec.cell if rec.cell is not None else (None, None)
                zone = None if rec.zone is None else rec.zone.value
                if row is None:
                    self._db.write(
                        "INSERT INTO locations (location_id, kind, cell_row, cell_col, zone)"
                        " VALUES (?, ?, ?, ?, ?)",
                        (rec.location_id, rec.kind.value, *cell, zone),
                    )
                elif tuple(row) == (rec.kind.value, *cell, zone):
                    continue
                elif tuple(row) == (rec.kind.value, *cell, None):
                    self._db.write(
                        "UPDATE locations SET zone = ? WHERE location_id = ?",
                        (zone, rec.location_id),
                    )
                    self._location_records.pop(rec.location_id, None)
                else:
                    raise DuplicateRecord(source, "already exists with other data")

    def set_forward_slot(self, location_id: str, sku: str, min_qty: int, max_qty: int) -> None:
        """Make a forward location the pick face of one SKU with its min/max."""
        source = f"forward slot {location_id}"
        if isinstance(min_qty, bool) or not isinstance(min_qty, int) or min_qty < 0:
            raise InvalidQuantity(source, f"min must be a whole number >= 0, got {min_qty!r}")
        _positive(max_qty, source)
        if max_qty < min_qty:
            raise InvalidQuantity(source, f"max {max_qty} is below min {min_qty}")
        with self.transaction():
            if self._location_kind(location_id) is not LocationKind.FORWARD:
                raise LedgerError(source, "is not a forward location")
            self._require_storage(sku, location_id, source)
            self._db.write(
                "INSERT INTO forward_slots (location_id, sku, min_qty, max_qty) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (location_id) DO UPDATE SET sku = excluded.sku,"
                " min_qty = excluded.min_qty, max_qty = excluded.max_qty",
                (location_id, sku, min_qty, max_qty),
            )

    # ------------------------------------------------------------------ movements

    def receive(
        self,
        sku: str,
        location_id: str,
        qty: int,
        condition: Condition = Condition.NEW,
        ref: str | None = None,
        *,
        lot: str | None = None,
        received_on: date | str | None = None,
        expires_on: date | str | None = None,
    ) -> int:
        """Goods arriving into a location; returns the movement id.

        ``lot`` names the lot (created with ``received_on``, default the ledger
        clock's day, and ``expires_on``, default none); an existing lot must be
        named with the dates it already has. Without a lot the units go into the
        default lot of the receipt day (`default_lot_code`).
        """
        source = f"receive {sku}@{location_id}"
        qty = _positive(qty, source)
        cond = _condition(condition, source)
        with self.transaction():
            self._require_sku(sku)
            self._location_kind(location_id)
            code = self._receipt_lot(sku, lot, received_on, expires_on, source)
            splits = [(code, qty)]
            self._put(sku, location_id, cond, splits, source)
            return self._record(
                MovementKind.RECEIPT, sku, cond, qty, to_location=location_id, ref=ref, lots=splits
            )

    def reserve(
        self,
        sku: str,
        location_id: str,
        qty: int,
        condition: Condition = Condition.NEW,
        ref: str | None = None,
    ) -> int:
        """Hold available units for an order; returns the reservation id."""
        source = f"reserve {sku}@{location_id}"
        qty = _positive(qty, source)
        cond = _condition(condition, source)
        with self.transaction():
            self._require_available(sku, location_id, cond, qty, source)
            self._add_reserved(sku, location_id, cond, qty)
            reservation_id = int(
                self._db.insert_key(
                    "INSERT INTO reservations (sku, location_id, condition, qty, ref)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (sku, location_id, cond.value, qty, ref),
                    "reservation_id",
                )
            )
            self._record(
                MovementKind.RESERVE,
                sku,
                cond,
                qty,
                from_location=location_id,
                reservation_id=reservation_id,
                ref=ref,
            )
            return reservation_id

    def release(self, reservation_id: int, qty: int | None = None) -> int:
        """Give reserved units back to available; all that is still open by default."""
        return self._close_reserved(reservation_id, qty, MovementKind.RELEASE, "release")

    def pick(
        self,
        sku: str,
        location_id: str,
        qty: int,
        condition: Condition = Condition.NEW,
        ref: str | None = None,
    ) -> int:
        """Units leave the building from available (unreserved) stock."""
        source = f"pick {sku}@{location_id}"
        qty = _positive(qty, source)
        cond = _condition(condition, source)
        with self.transaction():
            splits = self._take_available(sku, location_id, cond, qty, source)
            return self._record(
                MovementKind.PICK, sku, cond, qty, from_location=location_id, ref=ref, lots=splits
            )

    def pick_reserved(self, reservation_id: int, qty: int | None = None) -> int:
        """Units leave the building against a reservation (all still open by default)."""
        return self._close_reserved(reservation_id, qty, MovementKind.PICK, "pick reservation")

    def confirm_pick(
        self,
        pick_id: str,
        sku: str,
        location_id: str,
        qty: int,
        reservation_id: int | None = None,
        condition: Condition = Condition.NEW,
    ) -> bool:
        """Book a pick line that was physically done, exactly once per ``pick_id``.

        Returns False, booking nothing, when that line was confirmed before (a
        replayed or duplicated report); a unique index backs the check, so even two
        writers cannot book it twice. Against a reservation when one is given.
        """
        ref = f"confirm:{pick_id}"
        with self.transaction():
            seen = self._db.execute(
                "SELECT 1 FROM movements WHERE kind = ? AND ref = ?",
                (MovementKind.PICK.value, ref),
            ).fetchone()
            if seen:
                return False
            if reservation_id is not None:
                self._close_reserved(reservation_id, qty, MovementKind.PICK, "pick", ref=ref)
            else:
                self.pick(sku, location_id, qty, condition, ref=ref)
            return True

    def confirm_move(
        self, move_id: str, sku: str, from_location: str, to_location: str, qty: int
    ) -> bool:
        """Book a move that was physically done (a robot's replenishment), once per id.

        False, booking nothing, for a repeat; a unique index backs the check.
        """
        ref = f"confirm:{move_id}"
        with self.transaction():
            seen = self._db.execute(
                "SELECT 1 FROM movements WHERE kind = ? AND ref = ?",
                (MovementKind.MOVE.value, ref),
            ).fetchone()
            if seen:
                return False
            self.move(sku, from_location, to_location, qty, ref=ref)
            return True

    def _close_reserved(
        self,
        reservation_id: int,
        qty: int | None,
        kind: MovementKind,
        action: str,
        ref: str | None = None,
    ) -> int:
        """Take units off a reservation: back to available (release) or out (pick)."""
        source = f"{action} {reservation_id}"
        with self.transaction():
            res = self._open_reservation(reservation_id)
            qty = res.qty if qty is None else _positive(qty, source)
            if qty > res.qty:
                raise InsufficientStock(source, f"only {res.qty} still reserved, asked {qty}")
            self._consume_reservation(res, qty)
            splits: Splits = []
            if kind is MovementKind.PICK:
                splits = self._take(res.sku, res.location_id, res.condition, qty)
            return self._record(
                kind,
                res.sku,
                res.condition,
                qty,
                from_location=res.location_id,
                reservation_id=reservation_id,
                ref=ref if ref is not None else res.ref,
                lots=splits,
            )

    def move(
        self,
        sku: str,
        from_location: str,
        to_location: str,
        qty: int,
        condition: Condition = Condition.NEW,
        ref: str | None = None,
    ) -> int:
        """Relocate available units in one step (no transit)."""
        source = f"move {sku} {from_location}->{to_location}"
        qty = _positive(qty, source)
        cond = _condition(condition, source)
        if from_location == to_location:
            raise LedgerError(source, "source and destination are the same location")
        with self.transaction():
            self._location_kind(to_location)
            splits = self._take_available(sku, from_location, cond, qty, source)
            self._put(sku, to_location, cond, splits, source)
            return self._record(
                MovementKind.MOVE,
                sku,
                cond,
                qty,
                from_location=from_location,
                to_location=to_location,
                ref=ref,
                lots=splits,
            )

    def adjust(
        self,
        sku: str,
        location_id: str,
        delta: int,
        condition: Condition = Condition.NEW,
        ref: str | None = None,
    ) -> int:
        """A count correction; a loss may not eat into reserved units."""
        source = f"adjust {sku}@{location_id}"
        if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0:
            raise InvalidQuantity(source, f"delta must be a non-zero whole number, got {delta!r}")
        _positive(abs(delta), source)
        cond = _condition(condition, source)
        with self.transaction():
            if delta < 0:
                splits = self._take_available(sku, location_id, cond, -delta, source)
            else:
                self._require_sku(sku)
                self._location_kind(location_id)
                splits = [(self._receipt_lot(sku, None, None, None, source), delta)]
                self._put(sku, location_id, cond, splits, source)
            return self._record(
                MovementKind.ADJUST,
                sku,
                cond,
                abs(delta),
                from_location=location_id if delta < 0 else None,
                to_location=location_id if delta > 0 else None,
                ref=ref,
                lots=splits,
            )

    def return_in(
        self,
        sku: str,
        location_id: str,
        qty: int,
        condition: Condition,
        ref: str | None = None,
    ) -> int:
        """A customer return entering stock with its graded condition.

        Refused unless the ledger has picked at least this many more units of
        the SKU than have already come back (a return for a SKU never sold is
        bad input), and when ``ref`` names a return that is already booked.
        """
        source = f"return {sku}" + (f" ({ref})" if ref else "")
        qty = _positive(qty, source)
        cond = _condition(condition, source)
        with self.transaction():
            self._require_sku(sku)
            self._location_kind(location_id)
            if (
                ref is not None
                and self._db.execute(
                    "SELECT 1 FROM movements WHERE kind = ? AND ref = ?",
                    (MovementKind.RETURN_IN.value, ref),
                ).fetchone()
            ):
                raise DuplicateRecord(source, f"return {ref!r} is already booked")
            sold = self.sold_qty(sku)
            if sold == 0:
                raise NotSold(source, f"SKU {sku!r} was never sold (no pick in the ledger)")
            returnable = sold - self.returned_qty(sku)
            if qty > returnable:
                raise NotSold(
                    source, f"returning {qty} but only {returnable} sold units not yet returned"
                )
            splits = [(self._receipt_lot(sku, None, None, None, source), qty)]
            self._put(sku, location_id, cond, splits, source)
            return self._record(
                MovementKind.RETURN_IN,
                sku,
                cond,
                qty,
                to_location=location_id,
                ref=ref,
                lots=splits,
            )

    def dispatch(
        self,
        sku: str,
        to_location: str,
        qty: int,
        from_location: str | None = None,
        condition: Condition = Condition.NEW,
        ref: str | None = None,
        *,
        lot: str | None = None,
        expires_on: date | str | None = None,
    ) -> int:
        """Start a transfer: units leave ``from_location`` (or a supplier when None) in transit.

        Returns the transfer id; `arrive` completes it. Units in transit count
        as available to replenishment, so a second trigger does not order them again.
        An internal transfer carries the lots it draws here (FEFO); a supplier's may
        name the lot it brings (``lot``, ``expires_on``: an advance shipping notice),
        received on the day it arrives — else it arrives into that day's default lot.
        """
        source = f"dispatch {sku}->{to_location}"
        qty = _positive(qty, source)
        cond = _condition(condition, source)
        if from_location == to_location:
            raise LedgerError(source, "source and destination are the same location")
        code = _lot_code(lot, source)
        expires = _day(expires_on, source, "expiry date")
        if from_location is not None and (code is not None or expires is not None):
            raise LedgerError(
                source,
                "an internal transfer carries the lots it draws; only a supplier's names one",
            )
        with self.transaction():
            self._require_storage(sku, to_location, source)
            splits: Splits = []
            if from_location is not None:
                splits = self._take_available(sku, from_location, cond, qty, source)
            elif code is not None:
                known = self._lot_or_none(sku, code)
                if known is not None and expires is not None and known.expires_on != expires:
                    raise DuplicateRecord(
                        source, f"lot {code!r} expires {known.expires_on or 'never'}, not {expires}"
                    )
            transfer_id = int(
                self._db.insert_key(
                    "INSERT INTO transfers"
                    " (sku, condition, from_location, to_location, qty, ref, lot, expires_on)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        sku,
                        cond.value,
                        from_location,
                        to_location,
                        qty,
                        ref,
                        code,
                        None if expires is None else expires.isoformat(),
                    ),
                    "transfer_id",
                )
            )
            self._record(
                MovementKind.DISPATCH,
                sku,
                cond,
                qty,
                from_location=from_location,
                transfer_id=transfer_id,
                ref=ref,
                lots=splits,
            )
            return transfer_id

    def arrive(self, transfer_id: int, qty: int | None = None) -> int:
        """Units of a transfer reach their destination (all still in transit by default)."""
        with self.transaction():
            transfer = self._open_transfer(transfer_id)
            qty = transfer.qty if qty is None else _positive(qty, f"arrive {transfer_id}")
            if qty > transfer.qty:
                raise InsufficientStock(
                    f"arrive {transfer_id}", f"only {transfer.qty} in transit, asked {qty}"
                )
            self._db.write(
                "UPDATE transfers SET qty = qty - ? WHERE transfer_id = ?", (qty, transfer_id)
            )
            source = f"arrive {transfer_id}"
            splits = self._arriving_lots(transfer, qty, source)
            self._put(transfer.sku, transfer.to_location, transfer.condition, splits, source)
            return self._record(
                MovementKind.ARRIVE,
                transfer.sku,
                transfer.condition,
                qty,
                to_location=transfer.to_location,
                transfer_id=transfer_id,
                ref=transfer.ref,
                lots=splits,
            )

    def regrade(
        self,
        sku: str,
        location_id: str,
        qty: int,
        from_condition: Condition,
        to_condition: Condition,
        ref: str | None = None,
    ) -> int:
        """Change the condition of available units in place (a refurbished return)."""
        source = f"regrade {sku}@{location_id}"
        qty = _positive(qty, source)
        old = _condition(from_condition, source)
        new = _condition(to_condition, source)
        if old is new:
            raise LedgerError(source, f"already {old.value}")
        with self.transaction():
            splits = self._take_available(sku, location_id, old, qty, source)
            self._put(sku, location_id, new, splits, source)
            return self._record(
                MovementKind.REGRADE,
                sku,
                old,
                qty,
                from_location=location_id,
                to_location=location_id,
                ref=ref,
                to_condition=new,
                lots=splits,
            )

    # ------------------------------------------------------------------ internals

    def _require_available(
        self, sku: str, location_id: str, condition: Condition, qty: int, source: str
    ) -> None:
        self._require_sku(sku)
        self._location_kind(location_id)
        self._check_available(
            *self._stock_cell(sku, location_id, condition), condition, qty, source
        )

    def _check_available(
        self, on_hand: int, reserved: int, condition: Condition, qty: int, source: str
    ) -> None:
        if on_hand - reserved < qty:
            raise InsufficientStock(
                source,
                f"only {on_hand - reserved} {condition.value} available "
                f"({on_hand} on hand, {reserved} reserved), asked {qty}",
            )

    def _take_available(
        self, sku: str, location_id: str, condition: Condition, qty: int, source: str
    ) -> Splits:
        """`_require_available` then `_take`, reading the stock cell and its lots in one
        statement (`CELL_WITH_LOTS_SQL`): every outflow but a reserved pick starts here."""
        self._require_sku(sku)
        self._location_kind(location_id)
        rows = self._db.execute(CELL_WITH_LOTS_SQL, (sku, location_id, condition.value)).fetchall()
        on_hand, reserved = (int(rows[0][0]), int(rows[0][1])) if rows else (0, 0)
        self._check_available(on_hand, reserved, condition, qty, source)
        lots = [(row[2], row[3]) for row in rows if row[2] is not None]
        return self._take_lots(sku, location_id, condition, qty, lots)

    def _receipt_lot(
        self,
        sku: str,
        lot: str | None,
        received_on: date | str | None,
        expires_on: date | str | None,
        source: str,
        today: date | None = None,
    ) -> str:
        """The lot code units entering stock go into, creating the lot when it is new."""
        if lot is None and received_on is None and expires_on is None:
            code = default_lot_code(today or self.now().date())
            if (sku, code) in self._lots:  # the common case: today's lot, already known
                return code
        code = _lot_code(lot, source)
        received = _day(received_on, source, "receipt date")
        expires = _day(expires_on, source, "expiry date")
        if code is None:
            code = default_lot_code(received or today or self.now().date(), expires)
        existing = self._lot_or_none(sku, code)
        if existing is None:
            received = received or today or self.now().date()
            if expires is not None and expires < received:
                raise LedgerError(
                    source, f"lot {code!r} expires {expires} before receipt {received}"
                )
            self._db.write(
                "INSERT INTO lots (sku, lot, received_on, expires_on) VALUES (?, ?, ?, ?)",
                (sku, code, received.isoformat(), None if expires is None else expires.isoformat()),
            )
            self._lots[(sku, code)] = Lot(sku, code, received, expires)
            return code
        if received is not None and received != existing.received_on:
            raise DuplicateRecord(
                source, f"lot {code!r} was received {existing.received_on}, not {received}"
            )
        if expires is not None and expires != existing.expires_on:
            raise DuplicateRecord(
                source, f"lot {code!r} expires {existing.expires_on or 'never'}, not {expires}"
            )
        return code

    def _take(self, sku: str, location_id: str, condition: Condition, qty: int) -> Splits:
        """Units leave a stock cell, drawn from its lots FEFO; returns what each lot gave.

        Only ``lot_stock`` is written: the database's triggers take the same units
        off ``stock.on_hand`` (`wms.ledger.schema.LOT_STOCK_TRIGGERS`)."""
        return self._take_lots(sku, location_id, condition, qty)

    def _put(
        self, sku: str, location_id: str, condition: Condition, splits: Splits, source: str
    ) -> None:
        """Units enter a stock cell into the given lots; refused outside the SKU's zones.
        ``stock.on_hand`` follows ``lot_stock`` by trigger, as in `_take`."""
        self._require_storage(sku, location_id, source)
        self._put_lots(sku, location_id, condition, splits)

    def _require_storage(self, sku: str, location_id: str, source: str) -> None:
        """`WrongStorageZone` unless the SKU's storage class lets it be stored there."""
        storage = self._storage_class(sku)
        location = self.location(location_id)
        need = storage.zone_kind
        if need is None or location.may_hold(storage):
            return
        here = "general storage" if location.zone is None else f"a {location.zone.value} zone"
        reason = (
            f"SKU {sku} has storage class {storage.value} and may only be stored in a "
            f"{need.value} zone; {location_id} is in {here}"
        )
        zoned = self._db.execute(ZONED_STORAGE_SQL, (need.value,)).fetchone()
        if zoned is None:
            reason += (
                f" (storage class {storage.value}: the ledger has no location in a "
                f"{need.value} zone; add a [[floor.zones]] of kind {need.value!r})"
            )
        raise WrongStorageZone(source, reason)

    def _take_lots(
        self,
        sku: str,
        location_id: str,
        condition: Condition,
        qty: int,
        rows: list[tuple[str, int]] | None = None,
    ) -> Splits:
        """Draw ``qty`` from the cell's lots FEFO (``rows``: its lots with units, when the
        caller has read them already); only ``lot_stock`` is written (see `_take`)."""
        splits: Splits = []
        remaining = qty
        if rows is None:
            rows = self._db.execute(CELL_LOTS_SQL, (sku, location_id, condition.value)).fetchall()
        if len(rows) > 1:
            rows.sort(key=lambda row: self._known_lot(sku, row[0]).fefo_key())
        for lot, on_hand in rows:
            take = min(remaining, int(on_hand))
            splits.append((lot, take))
            remaining -= take
            if remaining == 0:
                break
        if remaining:
            raise InsufficientStock(
                f"{sku}/{location_id}/{condition.value}",
                f"its lots hold {qty - remaining} units, {qty} needed (run the balance check)",
            )
        for lot, take in splits:
            self._db.write(
                "UPDATE lot_stock SET on_hand = on_hand - ?"
                " WHERE sku = ? AND location_id = ? AND condition = ? AND lot = ?",
                (take, sku, location_id, condition.value, lot),
            )
        return splits

    def _put_lots(self, sku: str, location_id: str, condition: Condition, splits: Splits) -> None:
        for lot, qty in splits:
            self._db.write(
                "INSERT INTO lot_stock (sku, location_id, condition, lot, on_hand)"
                " VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (sku, location_id, condition, lot)"
                " DO UPDATE SET on_hand = lot_stock.on_hand + ?",
                (sku, location_id, condition.value, lot, qty, qty),
            )

    def _known_lot(self, sku: str, code: str) -> Lot:
        found = self._lot_or_none(sku, code)
        if found is None:  # pragma: no cover - lot_stock's foreign key names an existing lot
            raise LedgerError(f"lot {sku}/{code}", "has stock but no lot record")
        return found

    def _arriving_lots(
        self, transfer: Transfer, qty: int, source: str, today: date | None = None
    ) -> Splits:
        """The lots ``qty`` arriving units are: a supplier's go into the lot it names
        (created, received today, on its first arrival) or else the day's default lot;
        an internal transfer's are the dispatched lots still in transit, FEFO."""
        if transfer.from_location is None:
            code = self._receipt_lot(
                transfer.sku, transfer.lot, None, transfer.expires_on, source, today
            )
            return [(code, qty)]
        splits: Splits = []
        remaining = qty
        for lot, in_transit in self.transfer_lots(transfer):
            take = min(remaining, in_transit)
            splits.append((lot.lot, take))
            remaining -= take
            if remaining == 0:
                break
        if remaining:
            raise InsufficientStock(source, f"its dispatched lots hold {qty - remaining} units")
        return splits

    def _add_reserved(self, sku: str, location_id: str, condition: Condition, delta: int) -> None:
        self._db.write(
            "UPDATE stock SET reserved = reserved + ?"
            " WHERE sku = ? AND location_id = ? AND condition = ?",
            (delta, sku, location_id, condition.value),
        )

    def _open_reservation(self, reservation_id: int) -> Reservation:
        row = self._db.execute(
            "SELECT reservation_id, sku, location_id, condition, qty, ref FROM reservations"
            " WHERE reservation_id = ? AND qty > 0",
            (reservation_id,),
        ).fetchone()
        if row is None:
            raise UnknownReservation(f"reservation {reservation_id!r}", "not open")
        return Reservation(row[0], row[1], row[2], Condition(row[3]), row[4], row[5])

    def _consume_reservation(self, res: Reservation, qty: int) -> None:
        self._db.write(
            "UPDATE reservations SET qty = qty - ? WHERE reservation_id = ?",
            (qty, res.reservation_id),
        )
        self._add_reserved(res.sku, res.location_id, res.condition, -qty)

    def _open_transfer(self, transfer_id: int) -> Transfer:
        row = self._db.execute(
            TRANSFER_SQL + " WHERE transfer_id = ? AND qty > 0", (transfer_id,)
        ).fetchone()
        if row is None:
            raise UnknownTransfer(f"transfer {transfer_id!r}", "not in transit")
        return transfer_of_row(row)

    def _record(
        self,
        kind: MovementKind,
        sku: str,
        condition: Condition,
        qty: int,
        *,
        from_location: str | None = None,
        to_location: str | None = None,
        reservation_id: int | None = None,
        transfer_id: int | None = None,
        ref: str | None = None,
        to_condition: Condition | None = None,
        lots: Sequence[tuple[str, int]] = (),
    ) -> int:
        """Append one movement; a single lot is stored in its row, several in movement_lots."""
        at = self.now().isoformat(timespec="seconds")
        lot = lots[0][0] if len(lots) == 1 else None
        movement_id = self._db.insert_key(
            "INSERT INTO movements (at, kind, sku, condition, qty, from_location, to_location,"
            " reservation_id, transfer_id, ref, to_condition, lot)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                at,
                kind.value,
                sku,
                condition.value,
                qty,
                from_location,
                to_location,
                reservation_id,
                transfer_id,
                ref,
                None if to_condition is None else to_condition.value,
                lot,
            ),
            "movement_id",
        )
        if len(lots) > 1:
            self._record_lot_splits(movement_id, lots)
        return movement_id

    def _record_lot_splits(self, movement_id: int, splits: Sequence[tuple[str, int]]) -> None:
        """The lots of a movement that touched several (or of one booked before lots)."""
        for lot, qty in splits:
            self._db.write(
                "INSERT INTO movement_lots (movement_id, lot, qty) VALUES (?, ?, ?)",
                (movement_id, lot, qty),
            )


def open_ledger(
    url: str | Path = ":memory:", clock: Clock = utc_now, *, must_exist: bool = False
) -> Ledger:
    return Ledger.open(url, clock, must_exist=must_exist)
