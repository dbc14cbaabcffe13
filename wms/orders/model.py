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
    split_from: str = ""

    @property
    def customer_id(self) -> str:
        """The customer order this is (a tote load of an order split over totes names its order)."""
        return self.split_from or self.order_id

    @property
    def units(self) -> int:
        return sum(line.qty for line in self.lines)

    def volume_l(self, catalog: Catalog) -> float:
        return sum(catalog[line.sku].volume_l * line.qty for line in self.lines)

    def weight_kg(self, catalog: Catalog) -> float:
        return sum(catalog[line.sku].weight_kg * line.qty for line in self.lines)


class OversizeOrderError(InputError):
    """An order line whose single unit fits no tote, so no batch can ever carry it."""


@dataclass(frozen=True, slots=True)
class Tote:
    """The container a tote load of an order is picked into."""

    volume_l: float
    max_weight_kg: float

    def holds(self, volume_l: float, weight_kg: float) -> bool:
        return volume_l <= self.volume_l + 1e-9 and weight_kg <= self.max_weight_kg + 1e-9


@dataclass(frozen=True, slots=True)
class OrderException:
    """An order the day's plan leaves out, and why (a row of the exception list)."""

    order_id: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"order": self.order_id, "reason": self.reason}


def tote_loads(order: Order, catalog: Catalog, tote: Tote) -> tuple[Order, ...]:
    """The order as tote loads: itself when it fits one tote, else split over as few as needed.

    Lines are packed first-fit decreasing by unit volume; a line larger than
    a tote's room is split by quantity, so every line and every unit of the
    order is in exactly one load and no load exceeds the tote. Loads are
    named ``<order>/T1``, ``<order>/T2`` … and carry ``split_from``. Raises
    `OversizeOrderError` when a single unit of a line fits no tote.
    """
    if tote.holds(order.volume_l(catalog), order.weight_kg(catalog)):
        return (order,)
    room: list[list[float]] = []  # [volume left, weight left] per tote
    content: list[dict[str, int]] = []
    lines = sorted(order.lines, key=lambda line: -catalog[line.sku].volume_l)
    for line in lines:
        sku = catalog[line.sku]
        if not tote.holds(sku.volume_l, sku.weight_kg):
            raise OversizeOrderError(
                order.origin or order.order_id,
                f"order {order.order_id}: one unit of {line.sku} is {sku.volume_l:.1f} L and "
                f"{sku.weight_kg:.1f} kg; a tote holds {tote.volume_l:g} L and "
                f"{tote.max_weight_kg:g} kg",
            )
        left = line.qty
        k = 0
        while left > 0:
            if k == len(room):
                room.append([tote.volume_l, tote.max_weight_kg])
                content.append({})
            fit = _units_fitting(room[k], sku.volume_l, sku.weight_kg, left)
            if fit > 0:
                room[k][0] -= fit * sku.volume_l
                room[k][1] -= fit * sku.weight_kg
                content[k][line.sku] = content[k].get(line.sku, 0) + fit
                left -= fit
            k += 1
    return tuple(
        Order(
            f"{order.order_id}/T{k + 1}",
            tuple(OrderLine(s, q) for s, q in lines_of.items()),
            order.due,
            order.priority,
            order.arrival,
            order.origin,
            order.order_id,
        )
        for k, lines_of in enumerate(content)
    )


def _units_fitting(room: list[float], volume_l: float, weight_kg: float, wanted: int) -> int:
    by_volume = int((room[0] + 1e-9) // volume_l) if volume_l > 0 else wanted
    by_weight = int((room[1] + 1e-9) // weight_kg) if weight_kg > 0 else wanted
    return max(0, min(wanted, by_volume, by_weight))
