"""Replenishment settings, from the ``[wms.replenishment]`` config table (strictly checked)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from wms.config_tables import check_keys, get_float, get_int
from wms.errors import InputError

MAX_DAYS = 3650
"""Ten years: longer spans overflow date arithmetic or read the whole ledger for nothing."""
MAX_SERVICE_Z = 10.0


@dataclass(frozen=True, slots=True)
class ReplenishmentParams:
    """``alpha`` smoothing weight; ``service_z`` safety factor; lead time and history in days."""

    alpha: float = 0.3
    service_z: float = 1.65
    lead_time_days: float = 0.5
    history_days: int = 28

    def __post_init__(self) -> None:
        if not 0.0 < self.alpha <= 1.0:
            raise InputError("replenishment.alpha", f"must be in (0, 1], got {self.alpha}")
        if self.service_z < 0:
            raise InputError("replenishment.service_z", f"must be >= 0, got {self.service_z}")
        if self.lead_time_days < 0:
            raise InputError(
                "replenishment.lead_time_days", f"must be >= 0, got {self.lead_time_days}"
            )
        if not 1 <= self.history_days <= MAX_DAYS:
            raise InputError(
                "replenishment.history_days", f"must be in 1..{MAX_DAYS}, got {self.history_days}"
            )
        if self.lead_time_days > MAX_DAYS:
            raise InputError(
                "replenishment.lead_time_days",
                f"must be at most {MAX_DAYS}, got {self.lead_time_days}",
            )
        if self.service_z > MAX_SERVICE_Z:
            raise InputError(
                "replenishment.service_z", f"must be at most {MAX_SERVICE_Z}, got {self.service_z}"
            )

    @classmethod
    def from_table(cls, table: Mapping[str, Any], where: str) -> ReplenishmentParams:
        names = [f.name for f in fields(cls)]
        check_keys(table, names, where)
        defaults = cls()
        values = {
            "alpha": get_float(table, "alpha", where, defaults.alpha),
            "service_z": get_float(table, "service_z", where, defaults.service_z),
            "lead_time_days": get_float(table, "lead_time_days", where, defaults.lead_time_days),
            "history_days": get_int(table, "history_days", where, defaults.history_days),
        }
        try:
            return cls(**values)
        except InputError as error:  # name the config file's key, not the bare field
            key = error.source.rsplit(".", 1)[-1]
            raise InputError(f"{where}.{key}", error.problem) from None
