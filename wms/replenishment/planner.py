"""Forward-location replenishment, triggered by a released wave.

For each forward slot (a pick face holding one SKU, with its min and max) the
inventory position after the wave is

    position = on hand - reserved - wave demand + in transit to the face

Stock already travelling to the face counts as available, so releasing the
same wave twice does not order its top-up twice. The trigger is the larger of
the slot's static min and the forecast reorder point (smoothed daily demand
over the lead time plus ``z * sigma * sqrt(lead time)``), capped at the face's
max; below it, the face is topped up to max from reserve stock: the reserve
whose next lot expires (then arrived) first, so stock reaches the faces FEFO;
among equal lots the largest available first (one robot trip usually covers
the whole top-up).
With ``dispatch`` the tasks are written to the ledger as transfers in transit,
all in one transaction.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from wms.inventory_types import Condition, LocationKind
from wms.ledger import ForwardSlot, InvalidQuantity, Ledger
from wms.ledger.ledger import MAX_QTY
from wms.replenishment.forecast import Forecast, reorder_point, smooth
from wms.replenishment.params import ReplenishmentParams

NO_LOT = (True, date.max, date.max, "")
"""Sorts after every lot (a reserve cell whose lots are unknown goes last)."""


@dataclass(frozen=True, slots=True)
class ReplenishmentTask:
    """Move ``qty`` of ``sku`` from a reserve location to a forward face."""

    sku: str
    from_location: str
    to_location: str
    qty: int
    reason: str
    transfer_id: int | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "sku": self.sku,
            "from": self.from_location,
            "to": self.to_location,
            "qty": self.qty,
            "reason": self.reason,
            "transfer_id": self.transfer_id,
        }


@dataclass(frozen=True, slots=True)
class SlotStatus:
    """Why a face was or was not replenished."""

    location_id: str
    sku: str
    position: int
    trigger: int
    target: int
    forecast: Forecast


@dataclass(frozen=True)
class ReplenishmentPlan:
    tasks: tuple[ReplenishmentTask, ...]
    slots: tuple[SlotStatus, ...]
    shortfalls: Mapping[str, int] = field(default_factory=dict)
    unslotted: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "tasks": [t.to_dict() for t in self.tasks],
            "slots": [
                {
                    "location": s.location_id,
                    "sku": s.sku,
                    "position": s.position,
                    "trigger": s.trigger,
                    "target": s.target,
                    "forecast_per_day": round(s.forecast.level, 3),
                    "sigma_per_day": round(s.forecast.sigma, 3),
                }
                for s in self.slots
            ],
            "shortfalls": dict(self.shortfalls),
            "unslotted": list(self.unslotted),
        }


def demand_series(history: Mapping[date, int], today: date, days: int) -> list[int]:
    """Daily picks for the ``days`` completed days before today, zeros where nothing was picked.

    Today is left out: its picks so far are part of a day, and smoothing
    them as a full day's demand would pull the forecast (and the trigger)
    down every morning.
    """
    start = today - timedelta(days=days)
    return [history.get(start + timedelta(days=i), 0) for i in range(days)]


def check_demand(ledger: Ledger, demand: Mapping[str, int]) -> dict[str, int]:
    """Plain ``sku -> units`` with every SKU known and every quantity a whole number >= 0."""
    clean: dict[str, int] = {}
    for sku, qty in demand.items():
        ledger.sku(sku)
        if isinstance(qty, bool) or not isinstance(qty, int) or not 0 <= qty <= MAX_QTY:
            raise InvalidQuantity(
                f"demand {sku}", f"must be a whole number in 0..{MAX_QTY}, got {qty!r}"
            )
        clean[sku] = qty
    return clean


def plan_replenishment(
    ledger: Ledger,
    demand: Mapping[str, int],
    params: ReplenishmentParams | None = None,
    storage: Mapping[str, frozenset[str]] | None = None,
) -> ReplenishmentPlan:
    """Tasks that bring every forward face at or below its trigger back up to max.

    ``storage`` (SKU → the location ids its storage class may occupy, see
    `wms.slotting.storage`) keeps a lithium or cold SKU's top-ups inside its
    zone: reserve stock elsewhere is never a source, and a face outside the
    zone is never topped up.
    """
    params = params or ReplenishmentParams()
    wave = check_demand(ledger, demand)
    slots_by_sku: dict[str, list[ForwardSlot]] = defaultdict(list)
    for slot in ledger.forward_slots():
        slots_by_sku[slot.sku].append(slot)
    today = ledger.now().date()
    reserve = {r.location_id for r in ledger.locations(LocationKind.RESERVE)}
    tasks: list[ReplenishmentTask] = []
    statuses: list[SlotStatus] = []
    shortfalls: dict[str, int] = {}
    for sku in sorted(slots_by_sku):
        inside = storage.get(sku) if storage is not None else None
        slots = [s for s in slots_by_sku[sku] if inside is None or s.location_id in inside]
        if not slots:
            continue
        forecast = smooth(
            demand_series(ledger.daily_picks(sku), today, params.history_days), params.alpha
        )
        rop = reorder_point(forecast, params.lead_time_days, params.service_z) / len(slots)
        first_lot = {loc: lot.fefo_key() for loc, lot in ledger.first_lots(sku).items()}
        sources = sorted(
            (
                (row.available, row.location_id)
                for row in ledger.stock(sku=sku)
                if row.location_id in reserve
                and row.condition is Condition.NEW
                and (inside is None or row.location_id in inside)
            ),
            key=lambda item: (first_lot.get(item[1], NO_LOT), -item[0], item[1]),
        )
        supply = [[loc, qty] for qty, loc in sources if qty > 0]
        remaining_demand = wave.get(sku, 0)
        for index, slot in enumerate(slots):
            available = ledger.available(sku, slot.location_id)
            charged = (
                remaining_demand
                if index == len(slots) - 1
                else min(remaining_demand, max(available, 0))
            )
            remaining_demand -= charged
            position = available - charged + ledger.in_transit_to(slot.location_id, sku)
            trigger = min(max(slot.min_qty, math.ceil(rop - 1e-9)), slot.max_qty)
            statuses.append(
                SlotStatus(slot.location_id, sku, position, trigger, slot.max_qty, forecast)
            )
            if position >= trigger:
                continue
            need = slot.max_qty - position
            reason = (
                f"position {position} below trigger {trigger} (min {slot.min_qty}, "
                f"forecast {forecast.level:.2f}/day, sigma {forecast.sigma:.2f})"
            )
            for source in supply:
                if need == 0:
                    break
                take = min(need, source[1])
                if take > 0:
                    tasks.append(ReplenishmentTask(sku, source[0], slot.location_id, take, reason))
                    source[1] -= take
                    need -= take
            if need > 0:
                shortfalls[sku] = shortfalls.get(sku, 0) + need
    unslotted = tuple(sorted(s for s, q in wave.items() if q > 0 and s not in slots_by_sku))
    return ReplenishmentPlan(tuple(tasks), tuple(statuses), shortfalls, unslotted)


def on_wave_released(
    ledger: Ledger,
    demand: Mapping[str, int],
    params: ReplenishmentParams | None = None,
    *,
    dispatch: bool = True,
    ref: str = "wave",
    storage: Mapping[str, frozenset[str]] | None = None,
) -> ReplenishmentPlan:
    """The hook a wave release calls: plan, and (by default) put the top-ups in transit.

    ``demand`` is plain data: SKU id -> units the wave will pick from forward
    faces and that are not yet reserved in the ledger.
    """
    plan = plan_replenishment(ledger, demand, params, storage)
    if not dispatch or not plan.tasks:
        return plan
    dispatched = []
    with ledger.transaction():
        for task in plan.tasks:
            transfer = ledger.dispatch(
                task.sku,
                task.to_location,
                task.qty,
                from_location=task.from_location,
                ref=f"REPL {ref}",
            )
            dispatched.append(
                ReplenishmentTask(
                    task.sku, task.from_location, task.to_location, task.qty, task.reason, transfer
                )
            )
    return ReplenishmentPlan(tuple(dispatched), plan.slots, plan.shortfalls, plan.unslotted)
