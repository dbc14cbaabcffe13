"""Replenishment settings, the ``[wms.replenishment]`` config table (read by `core.config`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from core.config import Between, Positive

MAX_DAYS = 3650
"""Ten years: longer spans overflow date arithmetic or read the whole ledger for nothing."""
MAX_SERVICE_Z = 10.0


@dataclass(frozen=True, slots=True)
class ReplenishmentParams:
    """``alpha`` smoothing weight; ``service_z`` safety factor; lead time and history in days.

    The bounds hold for every instance read from a config; code that builds one
    by hand uses the same ranges.
    """

    alpha: Annotated[float, Positive, Between(0.0, 1.0)] = 0.3
    service_z: Annotated[float, Between(0.0, MAX_SERVICE_Z)] = 1.65
    lead_time_days: Annotated[float, Between(0.0, MAX_DAYS)] = 0.5
    history_days: Annotated[int, Between(1, MAX_DAYS)] = 28
