"""Receipts from a CSV file: goods arriving into locations, optionally by lot.

Columns (header row required, order free, names case-insensitive):

- ``sku``, ``location``, ``qty`` (required): what arrived where, a positive whole number
- ``lot`` (optional): the lot code; empty or absent puts the units into the
  default lot of the receipt day (`wms.ledger.ledger.default_lot_code`)
- ``received_on`` (optional, ``YYYY-MM-DD``): the lot's receipt date, default
  the ledger clock's day
- ``expires_on`` (optional, ``YYYY-MM-DD``): the lot's expiry, default none
- ``condition`` (optional, default NEW), ``ref`` (optional): as in `Ledger.receive`

Any other column is an error, so a misspelt column is not silently ignored.
The whole file is booked in one transaction: a bad row (named ``file:row``)
books nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from wms.csv_rows import read_csv_rows, table_rows
from wms.errors import InputError
from wms.inventory_types import Condition
from wms.ledger.errors import LedgerError
from wms.ledger.ledger import Ledger

REQUIRED = ("sku", "location", "qty")
OPTIONAL = ("lot", "received_on", "expires_on", "condition", "ref")


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    """One CSV row; dates and lot are checked by the ledger when it is booked."""

    where: str
    sku: str
    location: str
    qty: int
    lot: str | None
    received_on: str | None
    expires_on: str | None
    condition: Condition
    ref: str | None


def read_receipts_csv(path: str | Path) -> list[ReceiptLine]:
    path = Path(path)
    return parse_receipt_rows(read_csv_rows(path), str(path))


def parse_receipt_rows(rows: list[list[str]], source: str) -> list[ReceiptLine]:
    lines = []
    for where, cells in table_rows(rows, source, REQUIRED, OPTIONAL):
        for column in REQUIRED:
            if not cells[column]:
                raise InputError(where, f"column {column}: must not be empty")
        try:
            qty = int(cells["qty"])
        except ValueError:
            raise InputError(where, f"column qty: {cells['qty']!r} is not a whole number") from None
        try:
            condition = Condition.parse(cells.get("condition") or Condition.NEW.value)
        except ValueError as error:
            raise InputError(where, f"column condition: {error}") from None
        lines.append(
            ReceiptLine(
                where,
                cells["sku"],
                cells["location"],
                qty,
                cells.get("lot") or None,
                cells.get("received_on") or None,
                cells.get("expires_on") or None,
                condition,
                cells.get("ref") or None,
            )
        )
    if not lines:
        raise InputError(source, "no receipts (only a header row)")
    return lines


def book_receipts(
    ledger: Ledger, lines: list[ReceiptLine], progress: Callable[[int], object] | None = None
) -> list[int]:
    """Book every line in one transaction; returns the movement ids. A refused line
    raises naming its file and row, and nothing of the file is booked."""
    ids = []
    with ledger.transaction():
        for line in lines:
            try:
                ids.append(
                    ledger.receive(
                        line.sku,
                        line.location,
                        line.qty,
                        line.condition,
                        line.ref,
                        lot=line.lot,
                        received_on=line.received_on,
                        expires_on=line.expires_on,
                    )
                )
            except LedgerError as error:
                raise InputError(line.where, str(error)) from None
            if progress is not None:
                progress(1)
    return ids
