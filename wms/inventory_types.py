"""Inventory vocabulary shared by the ledger, replenishment, returns and ageing.

One definition of a stock unit's condition and of a location's role, so that
the grade a returns inspection gives is exactly the condition the ledger
stores — no translation table between the two that could drift.
"""

from __future__ import annotations

import enum

from wms.errors import InputError
from wms.layout.floor import ZoneKind


class Condition(enum.Enum):
    """The grading ladder, best first; a stock unit's condition in the ledger.

    ``rank`` orders the ladder (0 = NEW), so a cap on a grade is ``max`` of ranks.
    """

    NEW = "NEW"
    USED_LIKE_NEW = "USED_LIKE_NEW"
    USED_VERY_GOOD = "USED_VERY_GOOD"
    USED_GOOD = "USED_GOOD"
    USED_ACCEPTABLE = "USED_ACCEPTABLE"
    UNSELLABLE = "UNSELLABLE"

    @property
    def rank(self) -> int:
        return _LADDER.index(self)

    @property
    def sellable(self) -> bool:
        return self is not Condition.UNSELLABLE

    @property
    def used(self) -> bool:
        return self not in (Condition.NEW, Condition.UNSELLABLE)

    @classmethod
    def parse(cls, text: str) -> Condition:
        """Case-insensitive name; raises ``ValueError`` naming the known grades."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            known = ", ".join(c.value for c in cls)
            raise ValueError(f"unknown condition {text!r} (known: {known})") from None

    def worst(self, other: Condition) -> Condition:
        """The lower of two grades on the ladder."""
        return self if self.rank >= other.rank else other


_LADDER = tuple(Condition)

Grade = Condition
"""Returns grading speaks of grades; the ledger of conditions. Same ladder."""


class LocationKind(enum.Enum):
    """Role of a ledger location.

    Forward locations are the pick faces nearest the stations, replenished from
    reserve; returns locations hold graded returns awaiting relisting; docks are
    where goods arrive and leave.
    """

    FORWARD = "forward"
    RESERVE = "reserve"
    RETURNS = "returns"
    DOCK = "dock"

    @classmethod
    def parse(cls, text: str) -> LocationKind:
        try:
            return cls(text.strip().lower())
        except ValueError:
            known = ", ".join(k.value for k in cls)
            raise ValueError(f"unknown location kind {text!r} (known: {known})") from None


STORAGE_KINDS = frozenset({LocationKind.FORWARD, LocationKind.RESERVE})
"""Where goods are stored (put away, replenished), as against docks and returns points,
where they are staged on their way in or out."""


class MovementKind(enum.Enum):
    """Every change to the ledger is one movement of one of these kinds.

    On-hand effects (``from`` loses, ``to`` gains): RECEIPT (to), PICK (from),
    MOVE (from → to), ADJUST (from = count loss, to = count gain), RETURN_IN (to),
    DISPATCH (from, optional: the units leave into transit), ARRIVE (to: the
    units leave transit), REGRADE (same location, ``condition`` loses and
    ``to_condition`` gains: a refurbished return). RESERVE and RELEASE change
    only the reserved quantity of the stock at ``from``.
    """

    RECEIPT = "receipt"
    RESERVE = "reserve"
    RELEASE = "release"
    PICK = "pick"
    MOVE = "move"
    ADJUST = "adjust"
    RETURN_IN = "return-in"
    DISPATCH = "dispatch"
    ARRIVE = "arrive"
    REGRADE = "regrade"


class StorageClass(enum.Enum):
    """Goods that may only be stored in zones of one kind (`zone_kind`).

    Lithium batteries and flammables go in a fire-safe zone, temperature-
    controlled goods in a cold zone; ``general`` goods anywhere outside
    those (slotting keeps storage zones for their classes). The catalogue
    gives each SKU its class; the ledger refuses to store one outside its zones.
    """

    GENERAL = "general"
    LITHIUM = "lithium"
    FLAMMABLE = "flammable"
    COLD = "cold"

    @property
    def zone_kind(self) -> ZoneKind | None:
        return _ZONE_OF_CLASS[self]

    @classmethod
    def parse(cls, text: str, where: str) -> StorageClass:
        key = text.strip().lower().replace("-", "_").replace(" ", "_") or "general"
        try:
            return cls(key)
        except ValueError:
            known = ", ".join(c.value for c in cls)
            raise InputError(where, f"unknown storage class {text!r} (known: {known})") from None


_ZONE_OF_CLASS = {
    StorageClass.GENERAL: None,
    StorageClass.LITHIUM: ZoneKind.FIRE_SAFE,
    StorageClass.FLAMMABLE: ZoneKind.FIRE_SAFE,
    StorageClass.COLD: ZoneKind.COLD,
}
