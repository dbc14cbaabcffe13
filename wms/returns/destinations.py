"""Where a graded return goes: the policy names a location id or a location kind.

For a kind, the unit joins the location of that kind already holding the SKU
in the same condition (the most units), else the least-filled location of the
kind (ties by id), so graded stock consolidates instead of scattering.
Location lists and fill levels are read once per batch and kept up to date as
units are booked, so a large returns file does not rescan the stock per row.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from wms.inventory_types import Condition, LocationKind
from wms.ledger import Ledger
from wms.returns.disposition import Disposition
from wms.returns.policy import PolicyError, ReturnsPolicy, destination_kind


class DestinationPicker:
    def __init__(self, ledger: Ledger, policy: ReturnsPolicy) -> None:
        self._policy = policy
        self._ids = {r.location_id for r in ledger.locations()}
        self._by_kind: dict[LocationKind, list[str]] = defaultdict(list)
        for record in ledger.locations():
            self._by_kind[record.kind].append(record.location_id)
        self._load: Counter[str] = Counter()
        self._holding: dict[tuple[str, Condition], Counter[str]] = defaultdict(Counter)
        for row in ledger.stock():
            self._load[row.location_id] += row.on_hand
            self._holding[(row.sku, row.condition)][row.location_id] += row.on_hand

    def pick(self, disposition: Disposition, sku: str, grade: Condition) -> str:
        key = disposition.value
        target = self._policy.destinations[key]
        where = f"{self._policy.source}: destinations.{key}"
        kind = destination_kind(target)
        if kind is None:
            if target not in self._ids:
                raise PolicyError(where, f"location {target!r} is not in the ledger")
            return target
        candidates = sorted(self._by_kind.get(kind, ()))
        if not candidates:
            raise PolicyError(where, f"the ledger has no {kind.value} location")
        holding = self._holding[(sku, grade)]
        holders = [loc for loc in candidates if holding[loc] > 0]
        if holders:
            return max(holders, key=lambda loc: holding[loc])
        return min(candidates, key=lambda loc: self._load[loc])

    def booked(self, location_id: str, sku: str, grade: Condition, qty: int) -> None:
        self._load[location_id] += qty
        self._holding[(sku, grade)][location_id] += qty
