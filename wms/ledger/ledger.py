"""The inventory ledger: state tables plus an append-only history of movements.

Every public operation validates its input first, then writes the state change
and its movement row inside one transaction; any failure rolls the whole
transaction back, so a refused operation leaves every table exactly as it was.
The same code runs on SQLite and PostgreSQL (`wms.ledger.storage`).
`Ledger.transaction` groups several operations (a whole returns file, a wave's
replenishment) into one all-or-nothing unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from wms.inventory_types import Condition, LocationKind, MovementKind
from wms.ledger.errors import (
    DuplicateRecord,
    InsufficientStock,
    InvalidQuantity,
    LedgerError,
    NotSold,
    UnknownReservation,
    UnknownTransfer,
    UnsupportedDatabase,
)
from wms.ledger.queries import Clock, LedgerView, utc_now
from wms.ledger.records import LocationRecord, Reservation, SkuRecord, Transfer
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


def _condition(value: Condition | str, source: str) -> Condition:
    if isinstance(value, Condition):
        return value
    try:
        return Condition.parse(str(value))
    except ValueError as error:
        raise LedgerError(source, str(error)) from None


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
        if version != str(SCHEMA_VERSION):
            db.close()
            raise LedgerError(
                parsed.display,
                f"ledger schema version {version}, this build needs {SCHEMA_VERSION} "
                "(no migration: recreate it)",
            )
        return cls(db, clock)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ transactions

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside happen or none do; nests via savepoints."""
        db = self._db
        if self._depth == 0:
            db.begin_write()
        else:
            db.savepoint(f"sp{self._depth}")
        self._depth += 1
        try:
            yield
        except db.integrity_errors as error:
            self._undo()
            reason = str(error).strip().splitlines()[0]
            raise LedgerError("ledger", f"constraint refused the change ({reason})") from None
        except BaseException:
            self._undo()
            raise
        else:
            self._depth -= 1
            if self._depth == 0:
                db.commit()
            else:
                db.release(f"sp{self._depth}")

    def _undo(self) -> None:
        self._forget()
        self._depth -= 1
        if self._depth == 0:
            self._db.rollback()
        else:
            self._db.rollback_to(f"sp{self._depth}")

    # ------------------------------------------------------------------ master data

    def add_skus(self, records: Iterable[SkuRecord]) -> None:
        """Register SKUs; re-adding an identical record is a no-op, a different one an error."""
        with self.transaction():
            for rec in records:
                if not rec.sku or rec.unit_price < 0:
                    raise LedgerError(f"sku {rec.sku!r}", "needs an id and a price >= 0")
                existing = self._sku_or_none(rec.sku)
                if existing is None:
                    self._db.write(
                        "INSERT INTO skus (sku, description, category, unit_price)"
                        " VALUES (?, ?, ?, ?)",
                        (rec.sku, rec.description, rec.category, float(rec.unit_price)),
                    )
                elif existing != SkuRecord(
                    rec.sku, rec.description, rec.category, float(rec.unit_price)
                ):
                    raise DuplicateRecord(f"sku {rec.sku!r}", "already exists with other data")

    def add_locations(self, records: Iterable[LocationRecord]) -> None:
        """Register locations; re-adding an identical one is a no-op, a different one an error."""
        with self.transaction():
            for rec in records:
                if not rec.location_id:
                    raise LedgerError("location", "needs an id")
                row = self._db.execute(
                    "SELECT kind, cell_row, cell_col FROM locations WHERE location_id = ?",
                    (rec.location_id,),
                ).fetchone()
                cell = rec.cell if rec.cell is not None else (None, None)
                if row is None:
                    self._db.write(
                        "INSERT INTO locations (location_id, kind, cell_row, cell_col)"
                        " VALUES (?, ?, ?, ?)",
                        (rec.location_id, rec.kind.value, *cell),
                    )
                elif tuple(row) != (rec.kind.value, *cell):
                    raise DuplicateRecord(
                        f"location {rec.location_id!r}", "already exists with other data"
                    )

    def set_forward_slot(self, location_id: str, sku: str, min_qty: int, max_qty: int) -> None:
        """Make a forward location the pick face of one SKU with its min/max."""
        source = f"forward slot {location_id}"
        if isinstance(min_qty, bool) or not isinstance(min_qty, int) or min_qty < 0:
            raise InvalidQuantity(source, f"min must be a whole number >= 0, got {min_qty!r}")
        _positive(max_qty, source)
        if max_qty < min_qty:
            raise InvalidQuantity(source, f"max {max_qty} is below min {min_qty}")
        with self.transaction():
            self._require_sku(sku)
            if self._location_kind(location_id) is not LocationKind.FORWARD:
                raise LedgerError(source, "is not a forward location")
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
    ) -> int:
        """Goods arriving into a location; returns the movement id."""
        source = f"receive {sku}@{location_id}"
        qty = _positive(qty, source)
        cond = _condition(condition, source)
        with self.transaction():
            self._require_sku(sku)
            self._location_kind(location_id)
            self._add_on_hand(sku, location_id, cond, qty)
            return self._record(
                MovementKind.RECEIPT, sku, cond, qty, to_location=location_id, ref=ref
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
                self._db.write_scalar(
                    "INSERT INTO reservations (sku, location_id, condition, qty, ref)"
                    " VALUES (?, ?, ?, ?, ?) RETURNING reservation_id",
                    (sku, location_id, cond.value, qty, ref),
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
            self._require_available(sku, location_id, cond, qty, source)
            self._add_on_hand(sku, location_id, cond, -qty)
            return self._record(
                MovementKind.PICK, sku, cond, qty, from_location=location_id, ref=ref
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
            if kind is MovementKind.PICK:
                self._add_on_hand(res.sku, res.location_id, res.condition, -qty)
            return self._record(
                kind,
                res.sku,
                res.condition,
                qty,
                from_location=res.location_id,
                reservation_id=reservation_id,
                ref=ref if ref is not None else res.ref,
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
            self._require_available(sku, from_location, cond, qty, source)
            self._add_on_hand(sku, from_location, cond, -qty)
            self._add_on_hand(sku, to_location, cond, qty)
            return self._record(
                MovementKind.MOVE,
                sku,
                cond,
                qty,
                from_location=from_location,
                to_location=to_location,
                ref=ref,
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
                self._require_available(sku, location_id, cond, -delta, source)
            else:
                self._require_sku(sku)
                self._location_kind(location_id)
            self._add_on_hand(sku, location_id, cond, delta)
            return self._record(
                MovementKind.ADJUST,
                sku,
                cond,
                abs(delta),
                from_location=location_id if delta < 0 else None,
                to_location=location_id if delta > 0 else None,
                ref=ref,
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
            self._add_on_hand(sku, location_id, cond, qty)
            return self._record(
                MovementKind.RETURN_IN, sku, cond, qty, to_location=location_id, ref=ref
            )

    def dispatch(
        self,
        sku: str,
        to_location: str,
        qty: int,
        from_location: str | None = None,
        condition: Condition = Condition.NEW,
        ref: str | None = None,
    ) -> int:
        """Start a transfer: units leave ``from_location`` (or a supplier when None) in transit.

        Returns the transfer id; `arrive` completes it. Units in transit count
        as available to replenishment, so a second trigger does not order them again.
        """
        source = f"dispatch {sku}->{to_location}"
        qty = _positive(qty, source)
        cond = _condition(condition, source)
        if from_location == to_location:
            raise LedgerError(source, "source and destination are the same location")
        with self.transaction():
            self._require_sku(sku)
            self._location_kind(to_location)
            if from_location is not None:
                self._require_available(sku, from_location, cond, qty, source)
                self._add_on_hand(sku, from_location, cond, -qty)
            transfer_id = int(
                self._db.write_scalar(
                    "INSERT INTO transfers (sku, condition, from_location, to_location, qty, ref)"
                    " VALUES (?, ?, ?, ?, ?, ?) RETURNING transfer_id",
                    (sku, cond.value, from_location, to_location, qty, ref),
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
            self._add_on_hand(transfer.sku, transfer.to_location, transfer.condition, qty)
            return self._record(
                MovementKind.ARRIVE,
                transfer.sku,
                transfer.condition,
                qty,
                to_location=transfer.to_location,
                transfer_id=transfer_id,
                ref=transfer.ref,
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
            self._require_available(sku, location_id, old, qty, source)
            self._add_on_hand(sku, location_id, old, -qty)
            self._add_on_hand(sku, location_id, new, qty)
            return self._record(
                MovementKind.REGRADE,
                sku,
                old,
                qty,
                from_location=location_id,
                to_location=location_id,
                ref=ref,
                to_condition=new,
            )

    # ------------------------------------------------------------------ internals

    def _require_available(
        self, sku: str, location_id: str, condition: Condition, qty: int, source: str
    ) -> None:
        self._require_sku(sku)
        self._location_kind(location_id)
        on_hand, reserved = self._stock_cell(sku, location_id, condition)
        if on_hand - reserved < qty:
            raise InsufficientStock(
                source,
                f"only {on_hand - reserved} {condition.value} available "
                f"({on_hand} on hand, {reserved} reserved), asked {qty}",
            )

    def _add_on_hand(self, sku: str, location_id: str, condition: Condition, delta: int) -> None:
        key = (sku, location_id, condition.value)
        if delta >= 0:
            self._db.write(
                "INSERT INTO stock (sku, location_id, condition, on_hand, reserved)"
                " VALUES (?, ?, ?, ?, 0)"
                " ON CONFLICT (sku, location_id, condition)"
                " DO UPDATE SET on_hand = stock.on_hand + ?",
                (*key, delta, delta),
            )
            return
        cur = self._db.write(
            "UPDATE stock SET on_hand = on_hand + ? WHERE sku = ? AND location_id = ?"
            " AND condition = ?",
            (delta, *key),
        )
        if cur.rowcount != 1:
            raise InsufficientStock("/".join(key), "no stock to take from")

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
            "SELECT transfer_id, sku, condition, from_location, to_location, qty, ref"
            " FROM transfers WHERE transfer_id = ? AND qty > 0",
            (transfer_id,),
        ).fetchone()
        if row is None:
            raise UnknownTransfer(f"transfer {transfer_id!r}", "not in transit")
        return Transfer(row[0], row[1], Condition(row[2]), row[3], row[4], row[5], row[6])

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
    ) -> int:
        at = self.now().isoformat(timespec="seconds")
        movement_id = self._db.write_scalar(
            "INSERT INTO movements (at, kind, sku, condition, qty, from_location, to_location,"
            " reservation_id, transfer_id, ref, to_condition)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING movement_id",
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
            ),
        )
        return int(movement_id)


def open_ledger(
    url: str | Path = ":memory:", clock: Clock = utc_now, *, must_exist: bool = False
) -> Ledger:
    return Ledger.open(url, clock, must_exist=must_exist)
