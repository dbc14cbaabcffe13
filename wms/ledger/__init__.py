"""Inventory ledger: SQLite state plus an append-only movement history that balances.

Stock is kept by (SKU, location, condition) and by lot (receipt date,
optional expiry; every outflow draws first-expired-first-out, then
first-in-first-out); reservations and transfers in transit are first-class;
every change is one movement in one transaction, and `Ledger.balance_check`
rebuilds every quantity from the movements to prove it.
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
    WrongStorageZone,
)
from wms.ledger.floor_locations import RETURNS_PREFIX, floor_locations
from wms.ledger.ledger import MAX_QTY, Ledger, default_lot_code, open_ledger
from wms.ledger.queries import LedgerView, utc_now
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
    "Lot",
    "LotStockRow",
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
    "WrongStorageZone",
    "default_lot_code",
    "floor_locations",
    "open_ledger",
    "parse_url",
    "utc_now",
]
