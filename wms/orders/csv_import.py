"""Order import from CSV: our own format and the UCI Online Retail columns.

The format is told by the header. Our own format is one row per line,
``order_id, sku, qty, due, priority``, against a known catalogue. The UCI
Online Retail export (``InvoiceNo, StockCode, Description, Quantity,
InvoiceDate, ...``) treats an invoice as an order; cancelled invoices (``C…``)
and non-positive quantities are returns and corrections, so they are skipped
and counted rather than refused. UCI data has no dimensions, so its catalogue
is derived from the stock codes (`wms.catalog.derived_catalog`).

A row that cannot be used (a bad quantity or date, an unknown SKU, a
conflicting due date) does not stop the day: its order is left out with the
reason, naming ``file:row`` (`OrderBook.exceptions`), and every other order
is read; a row with no order id to blame is listed in
`OrderBook.rejected_rows`. A file that is not an order file at all (no
known header, not UTF-8 text, not CSV) is one `InputError`.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from core.files import MiB, read_input_bytes
from wms.catalog import Catalog, derived_catalog
from wms.errors import InputError
from wms.orders.model import Order, OrderException, OrderLine, Priority

_SHORT = "\0short"  # key of the problem on a row with too few fields (never a header name)
OWN_COLUMNS = ("order_id", "sku", "qty", "due", "priority")
UCI_COLUMNS = ("InvoiceNo", "StockCode", "Quantity", "InvoiceDate")
DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
)


class BadQuantityError(InputError):
    """A quantity that is not a positive whole number."""


class BadDateError(InputError):
    """A date or time that does not parse."""


@dataclass(frozen=True)
class OrderBook:
    """Orders read from one source, with what was skipped and why."""

    orders: tuple[Order, ...]
    catalog: Catalog
    source_format: str
    skipped_non_positive: int = 0
    skipped_cancelled: int = 0
    exceptions: tuple[OrderException, ...] = ()
    rejected_rows: tuple[str, ...] = ()

    @property
    def orders_in(self) -> int:
        """Distinct orders the source held: the ones read plus the ones refused."""
        return len(self.orders) + len(self.exceptions)

    @property
    def line_count(self) -> int:
        return sum(len(o.lines) for o in self.orders)

    def summary(self) -> dict[str, object]:
        return {
            "format": self.source_format,
            "orders": len(self.orders),
            "orders_refused": len(self.exceptions),
            "rejected_rows": list(self.rejected_rows),
            "lines": self.line_count,
            "skus": len(self.catalog),
            "skipped_non_positive_qty": self.skipped_non_positive,
            "skipped_cancelled": self.skipped_cancelled,
            "catalog_synthetic": self.catalog.synthetic,
            "catalog_note": self.catalog.note,
        }


def parse_datetime(text: str, where: str) -> datetime:
    value = text.strip()
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    raise BadDateError(where, f"date {text!r} does not parse (use YYYY-MM-DD HH:MM)")


def parse_quantity(text: str, where: str, allow_non_positive: bool = False) -> int:
    value = text.strip()
    try:
        number = float(value)
    except ValueError:
        raise BadQuantityError(where, f"quantity {text!r} is not a number") from None
    if not math.isfinite(number) or number != int(number):
        raise BadQuantityError(where, f"quantity {text!r} is not a whole number")
    if number <= 0 and not allow_non_positive:
        raise BadQuantityError(where, f"quantity must be positive, got {text!r}")
    return int(number)


def next_cutoff(arrival: datetime, cutoff_hour: int) -> datetime:
    """The first carrier cut-off at ``cutoff_hour`` strictly after ``arrival``."""
    cutoff = arrival.replace(hour=cutoff_hour, minute=0, second=0, microsecond=0)
    return cutoff if cutoff > arrival else cutoff + timedelta(days=1)


def read_orders_csv(path: str | Path, catalog: Catalog, cutoff_hour: int = 16) -> OrderBook:
    """Orders from a CSV in either format; ``catalog`` serves our own format only.

    Orders with an unusable row come back in ``exceptions``, each naming the
    file, the row and the reason. A file with no usable order at all is one
    `InputError` (it is not a day's orders).
    """
    path = Path(path)
    rows = _rows(path)
    header = next(rows, None)
    if header is None:
        raise InputError(str(path), "empty file (no header)")
    _, columns = header
    if all(c in columns for c in OWN_COLUMNS):
        book = _read_own(path, rows, catalog)
    elif all(c in columns for c in UCI_COLUMNS):
        book = _read_uci(path, rows, cutoff_hour)
    else:
        raise InputError(
            f"{path}:1",
            "unknown header: expected columns "
            f"{', '.join(OWN_COLUMNS)} or UCI Online Retail ({', '.join(UCI_COLUMNS)}, ...)",
        )
    if not book.orders:
        if book.exceptions or book.rejected_rows:
            first = book.exceptions[0].reason if book.exceptions else book.rejected_rows[0]
            raise InputError(str(path), f"no order in the file can be planned; first: {first}")
        raise InputError(str(path), "no orders after skipping cancelled and non-positive rows")
    return book


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number, row) pairs; the first item is the header as a dict of names.

    A row with fewer fields than the header comes with the missing ones
    empty and an extra `_SHORT` key holding the problem.
    """
    try:
        text = read_input_bytes(path, 256 * MiB).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(str(path), "not a UTF-8 text CSV file") from None
    with io.StringIO(text, newline="") as handle:
        reader = csv.reader(handle)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            return
        except (csv.Error, UnicodeDecodeError) as error:
            raise InputError(f"{path}:1", f"not readable as CSV ({error})") from None
        yield 1, {h: h for h in header}
        line = 1
        try:
            for line, values in enumerate(reader, start=2):
                if not values or all(not v.strip() for v in values):
                    continue
                row = dict(zip(header, values, strict=False))
                if len(values) < len(header):
                    row = {h: row.get(h, "") for h in header}
                    row[_SHORT] = f"{len(values)} fields, the header has {len(header)}"
                yield line, row
        except (csv.Error, UnicodeDecodeError) as error:
            raise InputError(f"{path}:{line + 1}", f"not readable as CSV ({error})") from None


class _Builder:
    """Collects lines per order id, merging repeated SKUs; an order with a bad row is refused."""

    def __init__(self) -> None:
        self.lines: dict[str, dict[str, int]] = {}
        self.meta: dict[str, tuple[datetime, Priority, datetime | None, str]] = {}
        self.refused: dict[str, str] = {}
        self.rejected_rows: list[str] = []

    def refuse(self, order_id: str, error: InputError) -> None:
        """Leave the order out, keeping the first reason (``file:row: problem``)."""
        if not order_id:
            self.rejected_rows.append(str(error))
            return
        self.refused.setdefault(order_id, str(error))

    def add(self, order_id: str, sku: str, qty: int, meta: tuple, where: str) -> None:
        known = self.meta.get(order_id)
        if known is None:
            self.meta[order_id] = meta
            self.lines[order_id] = {}
        elif known[:2] != meta[:2]:
            raise InputError(
                where, f"order {order_id} has a different due date or priority than row {known[3]}"
            )
        lines = self.lines[order_id]
        lines[sku] = lines.get(sku, 0) + qty

    def orders(self) -> tuple[Order, ...]:
        built = []
        for order_id, lines in self.lines.items():
            if order_id in self.refused:
                continue
            due, priority, arrival, origin = self.meta[order_id]
            built.append(
                Order(
                    order_id,
                    tuple(OrderLine(s, q) for s, q in lines.items()),
                    due,
                    priority,
                    arrival,
                    origin,
                )
            )
        return tuple(built)

    def exceptions(self) -> tuple[OrderException, ...]:
        return tuple(OrderException(o, reason) for o, reason in self.refused.items())


def _read_own(
    path: Path, rows: Iterator[tuple[int, dict[str, str]]], catalog: Catalog
) -> OrderBook:
    builder = _Builder()
    for line, row in rows:
        where = f"{path}:{line}"
        order_id = row["order_id"].strip()
        try:
            if _SHORT in row:
                raise InputError(where, row[_SHORT])
            if not order_id:
                raise InputError(where, "empty order_id")
            sku = catalog.require(row["sku"].strip(), where).sku_id
            qty = parse_quantity(row["qty"], where)
            due = parse_datetime(row["due"], where)
            priority_text = row["priority"].strip() or "standard"
            priority = Priority.parse(priority_text, where)
            builder.add(order_id, sku, qty, (due, priority, None, where), where)
        except InputError as error:
            builder.refuse(order_id, error)
    return OrderBook(
        builder.orders(),
        catalog,
        "own",
        exceptions=builder.exceptions(),
        rejected_rows=tuple(builder.rejected_rows),
    )


def _read_uci(
    path: Path, rows: Iterator[tuple[int, dict[str, str]]], cutoff_hour: int
) -> OrderBook:
    builder = _Builder()
    prices: dict[str, float] = {}
    cancelled = non_positive = 0
    for line, row in rows:
        where = f"{path}:{line}"
        invoice = row["InvoiceNo"].strip()
        try:
            if _SHORT in row:
                raise InputError(where, row[_SHORT])
            if not invoice:
                raise InputError(where, "empty InvoiceNo")
            qty = parse_quantity(row["Quantity"], where, allow_non_positive=True)
            if invoice.upper().startswith("C"):
                cancelled += 1
                continue
            if qty <= 0:
                non_positive += 1
                continue
            sku = row["StockCode"].strip()
            if not sku:
                raise InputError(where, "empty StockCode")
            arrival = parse_datetime(row["InvoiceDate"], where)
            price_text = (row.get("UnitPrice") or "").strip()
            if price_text and sku not in prices:
                try:
                    price = float(price_text)
                except ValueError:
                    raise InputError(where, f"UnitPrice {price_text!r} is not a number") from None
                if price > 0:
                    prices[sku] = price
            due = next_cutoff(arrival, cutoff_hour)
            builder.add(invoice, sku, qty, (due, Priority.STANDARD, arrival, where), where)
        except InputError as error:
            builder.refuse(invoice, error)
    orders = builder.orders()
    catalog = derived_catalog(
        dict.fromkeys(line.sku for order in orders for line in order.lines), prices
    )
    return OrderBook(
        orders,
        catalog,
        "uci_online_retail",
        non_positive,
        cancelled,
        builder.exceptions(),
        tuple(builder.rejected_rows),
    )
