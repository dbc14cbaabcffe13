"""The ``[wms]`` config section as a whole.

Its tables belong to different parts of the WMS (planning, ledger,
replenishment); each part describes its own table as a dataclass, and
`WmsConfig` lists them, so `core.config.load` refuses a misspelt table name
rather than silently ignoring it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wms.ledger.config import LedgerSection
from wms.picking.plan import PickingParams
from wms.planning_config import OrdersSection, PlanningConfig
from wms.replenishment import ReplenishmentParams
from wms.slotting.assign import SlottingParams


@dataclass(frozen=True)
class WmsConfig:
    orders: OrdersSection = field(default_factory=OrdersSection)
    slotting: SlottingParams = field(default_factory=SlottingParams)
    picking: PickingParams = field(default_factory=PickingParams)
    ledger: LedgerSection | None = None
    replenishment: ReplenishmentParams = field(default_factory=ReplenishmentParams)

    @property
    def planning(self) -> PlanningConfig:
        return PlanningConfig.from_sections(self.orders, self.slotting, self.picking)

    @property
    def ledger_url(self) -> str | None:
        """The configured ledger URL, or None when the config does not name one."""
        return self.ledger.url if self.ledger is not None else None
