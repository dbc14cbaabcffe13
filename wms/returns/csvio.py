"""Reading the returns CSV: one inspected return line per row, strictly checked.

Columns (header row required, order free, names case-insensitive):

- ``return_id`` (required, unique), ``sku`` (required)
- ``reason``: unwanted_item | defective | not_as_described | damaged_by_carrier | missing_parts
- ``packaging``: intact | opened | damaged
- ``cosmetic``: as_new | light_wear | moderate_wear | heavy_wear | damaged
- ``functional``: pass | fail | not_tested
- ``qty`` (optional, default 1): positive whole number of identical units
- ``missing_parts`` (optional, default 0): whole number of missing parts
- ``category``, ``new_price`` (optional when a ledger is used: the SKU's own
  category and unit price are taken from it; required without a ledger)

Any other column is an error, so a misspelt column is not silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from wms.csv_rows import read_csv_rows, table_rows
from wms.errors import InputError
from wms.ledger.ledger import MAX_QTY
from wms.returns.inspection import Cosmetic, FunctionalTest, Packaging, ReturnReason

E = TypeVar("E", ReturnReason, Packaging, Cosmetic, FunctionalTest)

REQUIRED = ("return_id", "sku", "reason", "packaging", "cosmetic", "functional")
OPTIONAL = ("qty", "missing_parts", "category", "new_price")


@dataclass(frozen=True, slots=True)
class ReturnLine:
    """A CSV row, parsed; ``category``/``new_price`` may still come from the ledger."""

    where: str
    return_id: str
    sku: str
    reason: ReturnReason
    packaging: Packaging
    cosmetic: Cosmetic
    functional: FunctionalTest
    qty: int
    missing_parts: int
    category: str | None
    new_price: float | None


def read_returns_csv(path: str | Path) -> list[ReturnLine]:
    path = Path(path)
    rows = read_csv_rows(path)
    return parse_returns_rows(rows, str(path))


def parse_returns_rows(rows: list[list[str]], source: str) -> list[ReturnLine]:
    lines: list[ReturnLine] = []
    seen: set[str] = set()
    for where, cells in table_rows(rows, source, REQUIRED, OPTIONAL):
        line = _parse_row(cells, where)
        if line.return_id in seen:
            raise InputError(where, f"return_id {line.return_id!r} appears twice")
        seen.add(line.return_id)
        lines.append(line)
    if not lines:
        raise InputError(source, "no returns (only a header row)")
    return lines


def _parse_row(cells: dict[str, str], where: str) -> ReturnLine:
    for column in ("return_id", "sku"):
        if not cells[column]:
            raise InputError(where, f"column {column}: must not be empty")
    price_text = cells.get("new_price", "")
    return ReturnLine(
        where=where,
        return_id=cells["return_id"],
        sku=cells["sku"],
        reason=_choice(ReturnReason, cells, "reason", where),
        packaging=_choice(Packaging, cells, "packaging", where),
        cosmetic=_choice(Cosmetic, cells, "cosmetic", where),
        functional=_choice(FunctionalTest, cells, "functional", where),
        qty=_whole(cells.get("qty", ""), "qty", where, default=1, minimum=1),
        missing_parts=_whole(
            cells.get("missing_parts", ""), "missing_parts", where, default=0, minimum=0
        ),
        category=cells.get("category") or None,
        new_price=_price(price_text, where) if price_text else None,
    )


def _choice(enum_type: type[E], cells: dict[str, str], column: str, where: str) -> E:
    try:
        return enum_type.parse(cells[column])
    except ValueError as error:
        raise InputError(where, f"column {column}: {error}") from None


def _whole(text: str, column: str, where: str, *, default: int, minimum: int) -> int:
    if text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise InputError(where, f"column {column}: {text!r} is not a whole number") from None
    if value < minimum:
        raise InputError(where, f"column {column}: must be at least {minimum}, got {value}")
    if value > MAX_QTY:
        raise InputError(where, f"column {column}: {value} is larger than {MAX_QTY}")
    return value


def _price(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(where, f"column new_price: {text!r} is not a number") from None
    if not value >= 0 or value == float("inf"):
        raise InputError(where, f"column new_price: must be a finite number >= 0, got {text!r}")
    return value
