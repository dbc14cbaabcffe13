"""Inventory ledger: SQLite state plus an append-only movement history that balances.

Stock is kept by (SKU, location, condition); reservations and transfers in
transit are first-class; every change is one movement in one transaction, and
`Ledger.balance_check` rebuilds every quantity from the movements to prove it.
"""

from wms.ledger.clock import ManualClock
from wms.ledger.errors import (
    DuplicateRecord,
    InsufficientStock,
    InvalidQuantity,
    LedgerError,
    NotSold,
    UnknownLocation,
    UnknownReservation,
    UnknownSku,
    UnknownTransfer,
    UnsupportedDatabase,
)
from wms.ledger.floor_locations import RETURNS_PREFIX, floor_locations
from wms.ledger.ledger import MAX_QTY, Ledger, open_ledger
from wms.ledger.queries import LedgerView, utc_now
from wms.ledger.records import (
    BalanceReport,
    ForwardSlot,
    LocationRecord,
    Movement,
    Reservation,
    SkuRecord,
    StockRow,
    Transfer,
)
from wms.ledger.url import DatabaseUrl, parse_url

__all__ = [
    "MAX_QTY",
    "RETURNS_PREFIX",
    "BalanceReport",
    "DatabaseUrl",
    "DuplicateRecord",
    "ForwardSlot",
    "InsufficientStock",
    "InvalidQuantity",
    "Ledger",
    "LedgerError",
    "LedgerView",
    "LocationRecord",
    "ManualClock",
    "Movement",
    "NotSold",
    "Reservation",
    "SkuRecord",
    "StockRow",
    "Transfer",
    "UnknownLocation",
    "UnknownReservation",
    "UnknownSku",
    "UnknownTransfer",
    "UnsupportedDatabase",
    "floor_locations",
    "open_ledger",
    "parse_url",
    "utc_now",
]
