"""The planning half of ``[wms]``: ``[wms.orders]``, ``[wms.slotting]``, ``[wms.picking]``.

Each sub-table is read strictly (an unknown key is an error naming it);
other keys of ``[wms]`` belong to other WMS parts and are left to them.

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

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from wms.config_tables import check_keys, get_float, get_int, get_str, require_table
from wms.errors import InputError
from wms.orders.generator import OrderProfile
from wms.picking.plan import PickingParams
from wms.slotting.assign import SlottingParams

ORDERS_KEYS = (
    "skus",
    "orders",
    "mean_lines",
    "max_lines",
    "zipf_exponent",
    "family_size",
    "affinity",
    "cutoff_hours",
    "bulk_share",
    "uci_cutoff_hour",
    "catalog",
)
SUBTABLES = ("orders", "slotting", "picking")


@dataclass(frozen=True)
class PlanningConfig:
    skus: int = 400
    profile: OrderProfile = field(default_factory=OrderProfile)
    uci_cutoff_hour: int = 16
    catalog_path: Path | None = None
    slotting: SlottingParams = field(default_factory=SlottingParams)
    picking: PickingParams = field(default_factory=PickingParams)


def _dataclass_from(table: Mapping[str, Any], cls: type, where: str) -> Any:
    """Fill a frozen dataclass of ints and floats from a strict table."""
    names = [f.name for f in fields(cls)]
    check_keys(table, names, where)
    default = cls()
    values = {}
    for name in names:
        if name not in table:
            continue
        if isinstance(getattr(default, name), int):
            values[name] = get_int(table, name, where)
        else:
            values[name] = get_float(table, name, where)
    result = replace(default, **values)
    result.validate(where)
    return result


def planning_config(section: Mapping[str, Any], base_dir: Path, source: str) -> PlanningConfig:
    """Parse the planning sub-tables of a ``[wms]`` section."""
    where = f"{source}: wms"
    section = require_table(section, where)
    orders = require_table(section.get("orders", {}), f"{where}.orders")
    owhere = f"{where}.orders"
    check_keys(orders, ORDERS_KEYS, owhere)
    base = OrderProfile()
    hours = orders.get("cutoff_hours", list(base.cutoff_hours))
    if not isinstance(hours, list) or not all(
        isinstance(h, int) and not isinstance(h, bool) for h in hours
    ):
        raise InputError(f"{owhere}.cutoff_hours", "must be a list of whole hours")
    profile = OrderProfile(
        orders=get_int(orders, "orders", owhere, base.orders),
        mean_lines=get_float(orders, "mean_lines", owhere, base.mean_lines),
        max_lines=get_int(orders, "max_lines", owhere, base.max_lines),
        zipf_exponent=get_float(orders, "zipf_exponent", owhere, base.zipf_exponent),
        family_size=get_int(orders, "family_size", owhere, base.family_size),
        affinity=get_float(orders, "affinity", owhere, base.affinity),
        cutoff_hours=tuple(hours),
        bulk_share=get_float(orders, "bulk_share", owhere, base.bulk_share),
    )
    profile.validate(owhere)
    skus = get_int(orders, "skus", owhere, 400)
    if skus <= 0:
        raise InputError(f"{owhere}.skus", "must be positive")
    cutoff = get_int(orders, "uci_cutoff_hour", owhere, 16)
    if not 0 <= cutoff <= 23:
        raise InputError(f"{owhere}.uci_cutoff_hour", "must be an hour 0..23")
    catalog_path = None
    if "catalog" in orders:
        catalog_path = Path(get_str(orders, "catalog", owhere))
        if not catalog_path.is_absolute():
            catalog_path = base_dir / catalog_path
    slotting = _dataclass_from(
        require_table(section.get("slotting", {}), f"{where}.slotting"),
        SlottingParams,
        f"{where}.slotting",
    )
    picking = _dataclass_from(
        require_table(section.get("picking", {}), f"{where}.picking"),
        PickingParams,
        f"{where}.picking",
    )
    return PlanningConfig(skus, profile, cutoff, catalog_path, slotting, picking)
