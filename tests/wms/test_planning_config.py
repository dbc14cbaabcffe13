"""``[wms.orders]`` sets every field of the synthetic order profile."""

from __future__ import annotations

from core.config import known_keys, load
from wms.orders.generator import OrderProfile
from wms.planning_config import PROFILE_KEYS, OrdersSection


def test_orders_section_covers_the_profile() -> None:
    """Each `OrderProfile` field a config may set is a key of ``[wms.orders]``, same default."""
    assert set(PROFILE_KEYS) <= set(known_keys(OrdersSection))
    assert OrdersSection().profile == OrderProfile()
    section = load(OrdersSection, {"orders": 30, "cutoff_hours": [9]}, "c.toml: wms.orders")
    assert section.profile.orders == 30 and section.profile.cutoff_hours == (9,)
