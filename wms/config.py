"""The ``[wms]`` config section as a whole.

Its tables belong to different parts of the WMS (planning, ledger,
replenishment); each part parses its own table strictly, and this module
checks that nothing else is there, so a misspelt table name is an error
rather than silently ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wms.config_tables import check_keys, require_table
from wms.ledger.config import ledger_url_from_section
from wms.planning_config import PlanningConfig, planning_config
from wms.replenishment import ReplenishmentParams

WMS_TABLES = ("orders", "slotting", "picking", "ledger", "replenishment")


@dataclass(frozen=True)
class WmsConfig:
    planning: PlanningConfig
    ledger_url: str | None
    replenishment: ReplenishmentParams


def wms_config(section: Mapping[str, Any], base_dir: Path, source: str) -> WmsConfig:
    where = f"{source}: wms"
    section = require_table(section, where)
    check_keys(section, WMS_TABLES, where)
    return WmsConfig(
        planning=planning_config(section, base_dir, source),
        ledger_url=ledger_url_from_section(section, where),
        replenishment=ReplenishmentParams.from_table(
            require_table(section.get("replenishment", {}), f"{where}.replenishment"),
            f"{where}.replenishment",
        ),
    )
