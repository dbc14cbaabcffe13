"""Orders into waves: what must make the earliest truck goes first.

A wave is a set of orders released to the floor together. Orders are grouped
by carrier cut-off (earliest first), then priority (same-day before next-day
before standard), and a group larger than ``max_orders`` is split in arrival
order, so a wave is never so big that its last batch misses the truck.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby

from wms.orders.model import Order, Priority


@dataclass(frozen=True, slots=True)
class Wave:
    wave_id: str
    due: datetime
    priority: Priority
    orders: tuple[Order, ...]


def _arrival_key(order: Order) -> tuple[datetime, str]:
    return (order.arrival or order.due, order.order_id)


def make_waves(orders: Sequence[Order], max_orders: int) -> list[Wave]:
    """Waves in release order; every order is in exactly one wave."""
    if max_orders <= 0:
        raise ValueError("max_orders must be positive")
    ranked = sorted(orders, key=lambda o: (o.due, o.priority.rank, *_arrival_key(o)))
    waves: list[Wave] = []
    for (due, _rank), group in groupby(ranked, key=lambda o: (o.due, o.priority.rank)):
        members = list(group)
        for start in range(0, len(members), max_orders):
            chunk = tuple(members[start : start + max_orders])
            waves.append(Wave(f"W{len(waves) + 1:04d}", due, chunk[0].priority, chunk))
    return waves
