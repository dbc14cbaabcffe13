"""Seeded synthetic orders: the embedded default order stream.

Shaped like e-commerce fulfilment so the planners are tested on the right
problem:

- **Skewed popularity**: SKU demand follows a Zipf law over a seeded random
  ranking (a few SKUs take most lines — what ABC slotting exploits).
- **Affinity**: SKUs come in small families (a product and its accessories);
  a further line is drawn from the first line's family with probability
  ``affinity`` — what affinity slotting and batching exploit.
- **Lines per order**: 1 + a geometric tail (mean ``mean_lines``), mostly one
  or two lines, occasionally a dozen; quantities mostly 1.
- **Arrival profile**: orders arrive over a day with a morning and an evening
  peak; each gets a priority and the carrier cut-off it must make.
- **Bulk orders** (``bulk_share``, off by default): a share of orders from
  business customers, each line ``BULK_FACTOR`` times larger — the orders
  that need several totes. Drawn from a separate seeded stream, so turning
  them on changes no other order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from wms.catalog import Catalog
from wms.errors import InputError
from wms.orders.model import Order, OrderLine, Priority

# Relative order intake per hour of the day (00..23): quiet night, peaks
# late morning and evening.
HOURLY_PROFILE = (
    1, 1, 1, 1, 1, 2, 3, 5, 7, 9, 10, 10, 9, 8, 8, 8, 8, 9, 10, 11, 11, 9, 6, 3,
)  # fmt: skip
PRIORITY_SHARE = {Priority.SAME_DAY: 0.2, Priority.NEXT_DAY: 0.3, Priority.STANDARD: 0.5}
BULK_FACTOR = (8, 30)  # a bulk order's lines are this many times larger (uniform, inclusive)
LEAD_TIME = {
    Priority.SAME_DAY: timedelta(hours=2),
    Priority.NEXT_DAY: timedelta(hours=24),
    Priority.STANDARD: timedelta(hours=48),
}


@dataclass(frozen=True, slots=True)
class OrderProfile:
    """Shape of the synthetic stream; see the module docstring."""

    orders: int = 2000
    mean_lines: float = 2.5
    max_lines: int = 12
    zipf_exponent: float = 1.0
    family_size: int = 4
    affinity: float = 0.5
    cutoff_hours: tuple[int, ...] = (11, 15, 19)
    start: datetime = datetime(2026, 1, 5)
    bulk_share: float = 0.0

    def validate(self, source: str = "orders") -> None:
        if not 0 < self.orders <= 1_000_000:
            raise InputError(f"{source}.orders", f"must be within 1..1000000, got {self.orders}")
        if not 1.0 <= self.mean_lines <= self.max_lines:
            raise InputError(
                f"{source}.mean_lines", f"must be within 1..max_lines ({self.max_lines})"
            )
        if self.zipf_exponent < 0:
            raise InputError(f"{source}.zipf_exponent", "must be >= 0")
        if self.family_size < 1:
            raise InputError(f"{source}.family_size", "must be >= 1")
        if not 0.0 <= self.affinity <= 1.0:
            raise InputError(f"{source}.affinity", "must be within 0..1")
        if not self.cutoff_hours or any(not 0 <= h <= 23 for h in self.cutoff_hours):
            raise InputError(f"{source}.cutoff_hours", "must be hours 0..23, at least one")
        if not 0.0 <= self.bulk_share <= 1.0:
            raise InputError(f"{source}.bulk_share", "must be within 0..1")


def carrier_cutoff(arrival: datetime, lead: timedelta, cutoff_hours: tuple[int, ...]) -> datetime:
    """The first cut-off at one of ``cutoff_hours`` no earlier than ``arrival + lead``."""
    earliest = arrival + lead
    day = earliest.replace(hour=0, minute=0, second=0, microsecond=0)
    for offset in range(2):
        for hour in sorted(cutoff_hours):
            cutoff = day + timedelta(days=offset, hours=hour)
            if cutoff >= earliest:
                return cutoff
    raise AssertionError("unreachable: a cut-off exists every day")


def popularity(count: int, exponent: float, rng: np.random.Generator) -> np.ndarray:
    """Zipf probabilities assigned to SKUs in a seeded random order."""
    weights = 1.0 / np.arange(1, count + 1, dtype=np.float64) ** exponent
    probs = weights / weights.sum()
    return probs[rng.permutation(count)]


def generate_orders(catalog: Catalog, profile: OrderProfile, seed: int = 0) -> tuple[Order, ...]:
    """``profile.orders`` orders over one day, in arrival order; same seed, same orders."""
    profile.validate()
    rng = np.random.default_rng(seed)
    skus = list(catalog)
    probs = popularity(len(skus), profile.zipf_exponent, rng)
    hourly = np.asarray(HOURLY_PROFILE, dtype=np.float64)
    hours = rng.choice(24, size=profile.orders, p=hourly / hourly.sum())
    seconds = np.sort(hours * 3600 + rng.integers(0, 3600, size=profile.orders))
    extra_mean = profile.mean_lines - 1.0
    p_stop = 1.0 / (1.0 + extra_mean)
    priorities = list(PRIORITY_SHARE)
    shares = np.asarray(list(PRIORITY_SHARE.values()))
    bulk = np.random.default_rng([seed, 1])
    orders = []
    for i in range(profile.orders):
        n_lines = 1 + min(int(rng.geometric(p_stop)) - 1, profile.max_lines - 1)
        n_lines = min(n_lines, len(skus))
        chosen: dict[int, int] = {}
        first = int(rng.choice(len(skus), p=probs))
        chosen[first] = _quantity(rng)
        family = first - first % profile.family_size
        attempts = 0
        while len(chosen) < n_lines and attempts < 50 * n_lines:
            attempts += 1
            if rng.random() < profile.affinity:
                pick = family + int(rng.integers(profile.family_size))
                if pick >= len(skus):
                    continue
            else:
                pick = int(rng.choice(len(skus), p=probs))
            if pick not in chosen:
                chosen[pick] = _quantity(rng)
        if profile.bulk_share > 0 and bulk.random() < profile.bulk_share:
            factor = int(bulk.integers(BULK_FACTOR[0], BULK_FACTOR[1] + 1))
            chosen = {k: q * factor for k, q in chosen.items()}
        arrival = profile.start + timedelta(seconds=int(seconds[i]))
        priority = priorities[int(rng.choice(len(priorities), p=shares))]
        due = carrier_cutoff(arrival, LEAD_TIME[priority], profile.cutoff_hours)
        orders.append(
            Order(
                order_id=f"O{i + 1:06d}",
                lines=tuple(OrderLine(skus[k], q) for k, q in chosen.items()),
                due=due,
                priority=priority,
                arrival=arrival,
                origin=f"synthetic order {i + 1} (seed {seed})",
            )
        )
    return tuple(orders)


def _quantity(rng: np.random.Generator) -> int:
    """Mostly one unit, sometimes a few."""
    return int(min(rng.geometric(0.7), 6))
