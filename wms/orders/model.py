"""Orders as the WMS sees them: lines of SKUs, a priority and a carrier cut-off."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from wms.catalog import Catalog
from wms.errors import InputError


class Priority(enum.Enum):
    """Service level bought by the customer; lower ``rank`` is released first."""

    SAME_DAY = "same_day"
    NEXT_DAY = "next_day"
    STANDARD = "standard"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @classmethod
    def parse(cls, text: str, where: str) -> Priority:
        key = text.strip().lower().replace("-", "_").replace(" ", "_")
        try:
            return cls(key)
        except ValueError:
            known = ", ".join(p.value for p in cls)
            raise InputError(where, f"unknown priority {text!r} (known: {known})") from None


_RANK = {Priority.SAME_DAY: 0, Priority.NEXT_DAY: 1, Priority.STANDARD: 2}


@dataclass(frozen=True, slots=True)
class OrderLine:
    sku: str
    qty: int


@dataclass(frozen=True, slots=True)
class Order:
    """A customer order. ``due`` is the carrier cut-off the order must be packed by.

    ``origin`` names where the order came from (``file.csv:12`` — its first
    row — or ``synthetic``) so later errors about the order can point at it.
    """

    order_id: str
    lines: tuple[OrderLine, ...]
    due: datetime
    priority: Priority = Priority.STANDARD
    arrival: datetime | None = None
    origin: str = ""

    @property
    def units(self) -> int:
        return sum(line.qty for line in self.lines)

    def volume_l(self, catalog: Catalog) -> float:
        return sum(catalog[line.sku].volume_l * line.qty for line in self.lines)

    def weight_kg(self, catalog: Catalog) -> float:
        return sum(catalog[line.sku].weight_kg * line.qty for line in self.lines)


class OversizeOrderError(InputError):
    """An order that does not fit in any tote, so no batch can ever carry it."""


@dataclass(frozen=True, slots=True)
class Tote:
    """The container one order is picked into."""

    volume_l: float
    max_weight_kg: float


def check_fits(orders: list[Order] | tuple[Order, ...], catalog: Catalog, tote: Tote) -> None:
    """Raise `OversizeOrderError` naming the first order bigger than the tote."""
    for order in orders:
        volume = order.volume_l(catalog)
        weight = order.weight_kg(catalog)
        if volume > tote.volume_l or weight > tote.max_weight_kg:
            raise OversizeOrderError(
                order.origin or order.order_id,
                f"order {order.order_id} needs {volume:.1f} L and {weight:.1f} kg; "
                f"a tote holds {tote.volume_l:g} L and {tote.max_weight_kg:g} kg",
            )
