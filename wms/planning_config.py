"""The planning half of ``[wms]``: ``[wms.orders]``, ``[wms.slotting]``, ``[wms.picking]``.

Each sub-table is a dataclass read by `core.config` (an unknown key is an
error naming it); `wms.config.WmsConfig` holds them with the other WMS parts.

```toml
[wms.orders]          # the synthetic order stream and CSV import
skus = 400            # size of the synthetic catalogue
orders = 2000
mean_lines = 2.5
zipf_exponent = 1.0
affinity = 0.5
cutoff_hours = [11, 15, 19]
bulk_share = 0.0      # share of bulk orders (lines 8-30x larger: several totes)
uci_cutoff_hour = 16  # carrier cut-off given to UCI invoices
catalog = "skus.csv"  # optional measured catalogue for our own CSV format

[wms.slotting]        # see wms.slotting.SlottingParams
[wms.picking]         # see wms.picking.PickingParams
```
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Annotated

from core.config import Between, Positive, Where
from wms.orders.generator import OrderProfile
from wms.picking.plan import PickingParams
from wms.slotting.assign import SlottingParams

_PROFILE = OrderProfile()
PROFILE_KEYS = tuple(f.name for f in fields(OrderProfile) if f.name != "start")
"""The `OrderProfile` fields ``[wms.orders]`` sets (the stream's start date is not one)."""


@dataclass(frozen=True)
class OrdersSection:
    """``[wms.orders]``: the synthetic stream's `OrderProfile` plus the catalogue's size,
    the UCI cut-off hour and an optional catalogue file (relative to the config)."""

    skus: Annotated[int, Positive] = 400
    orders: int = _PROFILE.orders
    mean_lines: float = _PROFILE.mean_lines
    max_lines: int = _PROFILE.max_lines
    zipf_exponent: float = _PROFILE.zipf_exponent
    family_size: int = _PROFILE.family_size
    affinity: float = _PROFILE.affinity
    cutoff_hours: tuple[int, ...] = _PROFILE.cutoff_hours
    bulk_share: float = _PROFILE.bulk_share
    uci_cutoff_hour: Annotated[int, Between(0, 23, "an hour")] = 16
    catalog: Path | None = None

    @property
    def profile(self) -> OrderProfile:
        return OrderProfile(**{key: getattr(self, key) for key in PROFILE_KEYS})

    def validate(self, where: Where) -> None:
        """Called by `core.config.load`: the profile's own ranges."""
        self.profile.validate(str(where))


@dataclass(frozen=True)
class PlanningConfig:
    skus: int = 400
    profile: OrderProfile = field(default_factory=OrderProfile)
    uci_cutoff_hour: int = 16
    catalog_path: Path | None = None
    slotting: SlottingParams = field(default_factory=SlottingParams)
    picking: PickingParams = field(default_factory=PickingParams)

    @classmethod
    def from_sections(
        cls, orders: OrdersSection, slotting: SlottingParams, picking: PickingParams
    ) -> PlanningConfig:
        return cls(
            orders.skus, orders.profile, orders.uci_cutoff_hour, orders.catalog, slotting, picking
        )
