"""What an inspector records about one returned item (the input to grading)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Self


class _Parsed(enum.Enum):
    @classmethod
    def parse(cls, text: str) -> Self:
        """Case-insensitive, ``-`` or space accepted for ``_``; ``ValueError`` names the choices."""
        key = text.strip().upper().replace("-", "_").replace(" ", "_")
        try:
            return cls[key]
        except KeyError:
            known = ", ".join(m.name.lower() for m in cls)
            raise ValueError(f"unknown value {text!r} (known: {known})") from None


class ReturnReason(_Parsed):
    """Why the customer says they sent it back; a claim, which inspection may contradict."""

    UNWANTED_ITEM = "UNWANTED_ITEM"
    DEFECTIVE = "DEFECTIVE"
    NOT_AS_DESCRIBED = "NOT_AS_DESCRIBED"
    DAMAGED_BY_CARRIER = "DAMAGED_BY_CARRIER"
    MISSING_PARTS = "MISSING_PARTS"


class Packaging(_Parsed):
    INTACT = "INTACT"
    OPENED = "OPENED"
    DAMAGED = "DAMAGED"


class Cosmetic(_Parsed):
    """Visible wear, from untouched to broken."""

    AS_NEW = "AS_NEW"
    LIGHT_WEAR = "LIGHT_WEAR"
    MODERATE_WEAR = "MODERATE_WEAR"
    HEAVY_WEAR = "HEAVY_WEAR"
    DAMAGED = "DAMAGED"


class FunctionalTest(_Parsed):
    PASS = "PASS"
    FAIL = "FAIL"
    NOT_TESTED = "NOT_TESTED"


@dataclass(frozen=True, slots=True)
class Inspection:
    """One inspected return line: ``qty`` identical units of one SKU, graded together."""

    return_id: str
    sku: str
    category: str
    new_price: float
    reason: ReturnReason
    packaging: Packaging
    cosmetic: Cosmetic
    functional: FunctionalTest
    missing_parts: int = 0
    qty: int = 1
