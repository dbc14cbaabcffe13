"""Inventory ageing: how old the stock is, what sells slowly, what to clear.

Per lot (what `ledger_ageing` reports): the ledger knows which lots every unit
on hand or in internal transit belongs to, so a unit's age is its lot's age,
counted from the start of its receipt day, and a lot past its expiry date
makes its SKU a clearance candidate. Moves, transfers and regrades keep a
unit's lot, so relocating stock never makes it younger.

Without lots (`fifo_layers`, for histories from before lots, or to check the
lots against), age is reconstructed from the movement history alone, first
in first out per (SKU, condition): receipts, returns, count gains and
arrivals from a supplier add a dated layer; picks and count losses consume the
oldest layer. The two agree on every unit count; they differ in which units
are left when picks at different locations drew different lots.

The result is plain data; `ledger_ageing` is the convenience that reads a
ledger.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any

from wms.inventory_types import Condition, MovementKind
from wms.ledger import Ledger, Movement
from wms.ledger.records import Lot

LotUnits = tuple[str, Condition, Lot, int]
"""Units of one lot of a SKU in one condition (at a location or in transit)."""


@dataclass(frozen=True, slots=True)
class AgeingParams:
    """Bucket edges in days, and the thresholds that make a slow mover or a clearance candidate.

    A SKU is a slow mover when it has stock and either sold nothing in the last
    ``no_sale_days`` or its days of cover (stock / daily sales over
    ``window_days``) exceed ``slow_cover_days``. A slow mover whose oldest unit
    is older than ``clearance_age_days`` is a clearance candidate, and so is
    any used (graded return) stock older than ``used_clearance_age_days``.
    """

    bucket_edges: tuple[int, ...] = (30, 60, 90, 180)
    window_days: int = 90
    no_sale_days: int = 60
    slow_cover_days: float = 120.0
    clearance_age_days: int = 180
    used_clearance_age_days: int = 60
    expiry_warning_days: int = 30

    def __post_init__(self) -> None:
        edges = self.bucket_edges
        if not edges or edges[0] <= 0 or any(b <= a for a, b in pairwise(edges)):
            raise ValueError(f"bucket edges must be increasing positive days, got {edges}")

    def bucket_labels(self) -> list[str]:
        labels, low = [], 0
        for edge in self.bucket_edges:
            labels.append(f"{low}-{edge}")
            low = edge + 1
        labels.append(f"{low}+")
        return labels

    def bucket_of(self, age_days: float) -> int:
        for index, edge in enumerate(self.bucket_edges):
            if age_days <= edge:
                return index
        return len(self.bucket_edges)


@dataclass(frozen=True, slots=True)
class Layer:
    """Units of one (SKU, condition) that entered the building at one time (in one lot)."""

    entered: datetime
    qty: int
    lot: str | None = None
    expires_on: date | None = None


@dataclass(frozen=True, slots=True)
class LotAgeing:
    """One lot's units in one condition: its age and how long until it expires."""

    sku: str
    lot: str
    condition: Condition
    units: int
    received_on: date
    expires_on: date | None
    age_days: float
    days_to_expiry: int | None

    @property
    def expired(self) -> bool:
        return self.days_to_expiry is not None and self.days_to_expiry < 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "lot": self.lot,
            "condition": self.condition.value,
            "units": self.units,
            "received_on": self.received_on.isoformat(),
            "expires_on": None if self.expires_on is None else self.expires_on.isoformat(),
            "age_days": round(self.age_days, 1),
            "days_to_expiry": self.days_to_expiry,
            "expired": self.expired,
        }


@dataclass(frozen=True, slots=True)
class SkuAgeing:
    sku: str
    units: int
    used_units: int
    oldest_days: float
    average_days: float
    sold_in_window: int
    daily_rate: float
    days_of_cover: float | None
    last_sale: datetime | None
    slow_mover: bool
    clearance: bool
    reasons: tuple[str, ...]
    expired_units: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "units": self.units,
            "used_units": self.used_units,
            "expired_units": self.expired_units,
            "oldest_days": round(self.oldest_days, 1),
            "average_days": round(self.average_days, 1),
            "sold_in_window": self.sold_in_window,
            "daily_rate": round(self.daily_rate, 3),
            "days_of_cover": None if self.days_of_cover is None else round(self.days_of_cover, 1),
            "last_sale": None if self.last_sale is None else self.last_sale.isoformat(),
            "slow_mover": self.slow_mover,
            "clearance": self.clearance,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class AgeingReport:
    as_of: datetime
    buckets: dict[str, dict[str, float]]
    skus: tuple[SkuAgeing, ...]
    lots: tuple[LotAgeing, ...] = ()

    @property
    def slow_movers(self) -> list[str]:
        return [s.sku for s in self.skus if s.slow_mover]

    @property
    def clearance_candidates(self) -> list[str]:
        return [s.sku for s in self.skus if s.clearance]

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "buckets": self.buckets,
            "slow_movers": self.slow_movers,
            "clearance_candidates": self.clearance_candidates,
            "skus": [s.to_dict() for s in self.skus],
            "lots": [lot.to_dict() for lot in self.lots],
        }


def fifo_layers(movements: Iterable[Movement]) -> dict[tuple[str, Condition], list[Layer]]:
    """Remaining dated layers per (SKU, condition) after replaying the history FIFO."""
    layers: dict[tuple[str, Condition], deque[list]] = defaultdict(deque)
    supplier_transfers: set[int] = set()
    for m in movements:
        key = (m.sku, m.condition)
        kind = m.kind
        if kind is MovementKind.DISPATCH and m.from_location is None and m.transfer_id:
            supplier_transfers.add(m.transfer_id)
        inflow = (
            kind in (MovementKind.RECEIPT, MovementKind.RETURN_IN)
            or (kind is MovementKind.ADJUST and m.to_location is not None)
            or (kind is MovementKind.ARRIVE and m.transfer_id in supplier_transfers)
        )
        outflow = kind is MovementKind.PICK or (
            kind is MovementKind.ADJUST and m.from_location is not None
        )
        if inflow:
            layers[key].append([m.at, m.qty])
        elif outflow:
            _consume(layers[key], m.qty)
        elif kind is MovementKind.REGRADE:
            _merge(layers[(m.sku, m.condition_in)], _consume(layers[key], m.qty))
    return {k: [Layer(at, q) for at, q in v] for k, v in layers.items() if v}


def lot_layers(units: Iterable[LotUnits]) -> dict[tuple[str, Condition], list[Layer]]:
    """Dated layers per (SKU, condition), one per lot (its units summed over locations)."""
    merged: dict[tuple[str, Condition, Lot], int] = defaultdict(int)
    for sku, condition, lot, qty in units:
        merged[(sku, condition, lot)] += qty
    layers: dict[tuple[str, Condition], list[Layer]] = defaultdict(list)
    for (sku, condition, lot), qty in sorted(
        merged.items(), key=lambda item: (item[0][0], item[0][1].value, item[0][2].fefo_key())
    ):
        if qty > 0:
            entered = datetime.combine(lot.received_on, time(), UTC)
            layers[(sku, condition)].append(Layer(entered, qty, lot.lot, lot.expires_on))
    return dict(layers)


def _consume(queue: deque[list], qty: int) -> list[list]:
    """Take ``qty`` units oldest first; returns the taken ``[entered, qty]`` pieces."""
    taken = []
    while qty > 0 and queue:
        oldest = queue[0]
        take = min(qty, oldest[1])
        taken.append([oldest[0], take])
        oldest[1] -= take
        qty -= take
        if oldest[1] == 0:
            queue.popleft()
    return taken


def _merge(queue: deque[list], pieces: list[list]) -> None:
    """Add regraded units keeping their entry dates, the queue staying oldest first."""
    merged = sorted([*queue, *pieces], key=lambda piece: piece[0])
    queue.clear()
    queue.extend(merged)


def ageing_report(
    movements: Iterable[Movement],
    unit_prices: Mapping[str, float],
    as_of: datetime,
    params: AgeingParams | None = None,
    lot_units: Iterable[LotUnits] | None = None,
) -> AgeingReport:
    """Buckets, slow movers and clearance; per lot when ``lot_units`` are given."""
    params = params or AgeingParams()
    history = list(movements)
    layers = fifo_layers(history) if lot_units is None else lot_layers(lot_units)
    lots = _lot_rows(layers, as_of)
    window_start = as_of - timedelta(days=params.window_days)
    sold: dict[str, int] = defaultdict(int)
    last_sale: dict[str, datetime] = {}
    for m in history:
        if m.kind is MovementKind.PICK:
            last_sale[m.sku] = max(last_sale.get(m.sku, m.at), m.at)
            if m.at > window_start:
                sold[m.sku] += m.qty

    labels = params.bucket_labels()
    buckets = {label: {"units": 0, "value": 0.0} for label in labels}
    per_sku: dict[str, list[tuple[Condition, Layer]]] = defaultdict(list)
    for (sku, condition), sku_layers in layers.items():
        for layer in sku_layers:
            per_sku[sku].append((condition, layer))
            age = _days(as_of - layer.entered)
            bucket = buckets[labels[params.bucket_of(age)]]
            bucket["units"] += layer.qty
            bucket["value"] = round(bucket["value"] + layer.qty * unit_prices.get(sku, 0.0), 2)

    rows = []
    for sku in sorted(per_sku):
        entries = per_sku[sku]
        units = sum(layer.qty for _, layer in entries)
        ages = [(_days(as_of - layer.entered), layer.qty, cond) for cond, layer in entries]
        oldest = max(a for a, _, _ in ages)
        average = sum(a * q for a, q, _ in ages) / units
        used_units = sum(q for _, q, cond in ages if cond is not Condition.NEW)
        rate = sold[sku] / params.window_days
        cover = units / rate if rate > 0 else None
        reasons: list[str] = []
        recent = last_sale.get(sku)
        if recent is None or recent < as_of - timedelta(days=params.no_sale_days):
            reasons.append(f"no sale in the last {params.no_sale_days} days")
        elif cover is not None and cover > params.slow_cover_days:
            reasons.append(f"{cover:.0f} days of cover (> {params.slow_cover_days:g})")
        slow = bool(reasons)
        clearance = False
        if slow and oldest > params.clearance_age_days:
            clearance = True
            reasons.append(f"oldest unit {oldest:.0f} days old (> {params.clearance_age_days})")
        old_used = [
            a
            for a, _, cond in ages
            if cond is not Condition.NEW and a > params.used_clearance_age_days
        ]
        if old_used:
            clearance = True
            reasons.append(
                f"graded return stock {max(old_used):.0f} days old "
                f"(> {params.used_clearance_age_days})"
            )
        sku_lots = [lot for lot in lots if lot.sku == sku]
        expired = [lot for lot in sku_lots if lot.expired]
        if expired:
            clearance = True
            reasons.append(
                f"{sum(lot.units for lot in expired)} units in expired lots "
                + ", ".join(sorted({f"{lot.lot} ({lot.expires_on})" for lot in expired}))
            )
        soon = sorted(
            {
                (lot.days_to_expiry, lot.lot)
                for lot in sku_lots
                if lot.days_to_expiry is not None
                and 0 <= lot.days_to_expiry <= params.expiry_warning_days
            }
        )
        if soon:
            reasons.append(
                "expiring: " + ", ".join(f"{code} in {days} days" for days, code in soon)
            )
        rows.append(
            SkuAgeing(
                sku,
                units,
                used_units,
                oldest,
                average,
                sold[sku],
                rate,
                cover,
                recent,
                slow,
                clearance,
                tuple(reasons),
                sum(lot.units for lot in expired),
            )
        )
    return AgeingReport(as_of, buckets, tuple(rows), tuple(lots))


def _lot_rows(
    layers: Mapping[tuple[str, Condition], list[Layer]], as_of: datetime
) -> list[LotAgeing]:
    """The layers that are lots, oldest age first within each SKU."""
    rows = []
    for (sku, condition), sku_layers in sorted(
        layers.items(), key=lambda i: (i[0][0], i[0][1].value)
    ):
        for layer in sku_layers:
            if layer.lot is None:
                continue
            rows.append(
                LotAgeing(
                    sku,
                    layer.lot,
                    condition,
                    layer.qty,
                    layer.entered.date(),
                    layer.expires_on,
                    _days(as_of - layer.entered),
                    None if layer.expires_on is None else (layer.expires_on - as_of.date()).days,
                )
            )
    return rows


def _days(delta: timedelta) -> float:
    return max(delta.total_seconds() / 86400.0, 0.0)


def ledger_lot_units(ledger: Ledger) -> list[LotUnits]:
    """Every lot's units on hand and in internal transit (they are in the building)."""
    units: list[LotUnits] = [(r.sku, r.condition, r.lot, r.on_hand) for r in ledger.lot_stock()]
    for transfer in ledger.transfers():
        for lot, qty in ledger.transfer_lots(transfer):
            units.append((transfer.sku, transfer.condition, lot, qty))
    return units


def ledger_ageing(ledger: Ledger, params: AgeingParams | None = None) -> AgeingReport:
    """The ageing report of a ledger, per lot, from one consistent read."""
    with ledger._reading():
        prices = {s.sku: s.unit_price for s in ledger.skus()}
        return ageing_report(
            ledger.movements(), prices, ledger.now(), params, ledger_lot_units(ledger)
        )
