"""Plain frozen records the ledger takes and returns (no sqlite types leak out)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from wms.inventory_types import STORAGE_KINDS, Condition, LocationKind, MovementKind, StorageClass
from wms.layout import ZoneKind

Cell = tuple[int, int]


@dataclass(frozen=True, slots=True)
class SkuRecord:
    """What the ledger needs of a SKU: its category (for returns policy), new price and
    storage class (which storage zones it may be put away in)."""

    sku: str
    description: str = ""
    category: str = "general"
    unit_price: float = 0.0
    storage_class: StorageClass = StorageClass.GENERAL


@dataclass(frozen=True, slots=True)
class LocationRecord:
    """A place stock can be: a floor location id (or a dock/returns point) and its role.

    ``zone`` is the storage zone kind a storage location stands in (None: general
    storage); only SKUs of the matching storage class may be put away there, and a
    SKU of a storage class only there (`may_hold`).
    """

    location_id: str
    kind: LocationKind
    cell: Cell | None = None
    zone: ZoneKind | None = None

    def may_hold(self, storage_class: StorageClass) -> bool:
        """May units of a SKU of ``storage_class`` be put here? Docks and returns points
        are staging, not storage: goods pass through them whatever their class."""
        need = storage_class.zone_kind
        return need is None or self.kind not in STORAGE_KINDS or self.zone is need


@dataclass(frozen=True, slots=True)
class ForwardSlot:
    """Min/max for a forward pick face holding one SKU."""

    location_id: str
    sku: str
    min_qty: int
    max_qty: int


@dataclass(frozen=True, slots=True)
class StockRow:
    sku: str
    location_id: str
    condition: Condition
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True, slots=True)
class Lot:
    """A lot of one SKU: when it was received and when (if ever) it expires.

    Stock is drawn first-expired-first-out, then first-in-first-out: `fefo_key`
    is that order (no expiry sorts after every date; the lot code breaks the last tie).
    """

    sku: str
    lot: str
    received_on: date
    expires_on: date | None = None

    def fefo_key(self) -> tuple[bool, date, date, str]:
        return (
            self.expires_on is None,
            self.expires_on or date.max,
            self.received_on,
            self.lot,
        )


@dataclass(frozen=True, slots=True)
class LotStockRow:
    """Units of one lot at one location in one condition."""

    sku: str
    location_id: str
    condition: Condition
    lot: Lot
    on_hand: int


@dataclass(frozen=True, slots=True)
class Reservation:
    reservation_id: int
    sku: str
    location_id: str
    condition: Condition
    qty: int
    ref: str | None


@dataclass(frozen=True, slots=True)
class Transfer:
    """Units in transit to ``to_location`` (from a reserve location, or from a supplier).

    An internal transfer carries the lots it drew at dispatch (`LedgerView.transfer_lots`);
    a supplier's may name the lot it brings (``lot``, ``expires_on``), received into
    stock on the day it arrives.
    """

    transfer_id: int
    sku: str
    condition: Condition
    from_location: str | None
    to_location: str
    qty: int
    ref: str | None
    lot: str | None = None
    expires_on: date | None = None


@dataclass(frozen=True, slots=True)
class Movement:
    movement_id: int
    at: datetime
    kind: MovementKind
    sku: str
    condition: Condition
    qty: int
    from_location: str | None
    to_location: str | None
    reservation_id: int | None
    transfer_id: int | None
    ref: str | None
    to_condition: Condition | None = None
    lots: tuple[tuple[str, int], ...] = ()
    """The lots this movement took or put, with the units of each, in the order they
    left (FEFO, then FIFO); empty for a reservation, a release or a supplier dispatch."""

    @property
    def condition_in(self) -> Condition:
        """The condition of the units arriving at ``to_location`` (changed by a regrade)."""
        return self.to_condition or self.condition


@dataclass(frozen=True, slots=True)
class BalanceReport:
    """Outcome of recomputing the state from the movements; ``problems`` says what differs."""

    ok: bool
    problems: tuple[str, ...]
    movements: int
    stock_rows: int
    on_hand: int
    reserved: int
    in_transit: int

    def to_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "problems": list(self.problems),
            "movements": self.movements,
            "stock_rows": self.stock_rows,
            "on_hand": self.on_hand,
            "reserved": self.reserved,
            "in_transit": self.in_transit,
        }
