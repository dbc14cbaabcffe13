"""Ledger locations from the floor, the demo seed, and the shared condition ladder."""

from __future__ import annotations

import pytest

from warehouse.config import load_config
from wms.inventory_types import Condition, Grade, LocationKind
from wms.layout import DistanceTables
from wms.ledger import RETURNS_PREFIX, floor_locations
from wms.ledger.demo import DEMO_END, seed_demo


@pytest.fixture(scope="module")
def floor():
    return load_config().floor


def test_forward_faces_are_the_nearest_to_stations(floor) -> None:
    """Every forward face is at most as far from a station as any reserve face."""
    records = floor_locations(floor, forward_share=0.25)
    nearest = DistanceTables(floor.navigable).from_cells([p.cell for p in floor.stations]).min(0)
    walk = {r.location_id: int(nearest[r.cell]) for r in records if r.cell is not None}
    forward = [walk[r.location_id] for r in records if r.kind is LocationKind.FORWARD]
    reserve = [walk[r.location_id] for r in records if r.kind is LocationKind.RESERVE]
    assert len(forward) == round(0.25 * len(floor.locations))
    assert max(forward) <= min(reserve)
    docks = {r.location_id for r in records if r.kind is LocationKind.DOCK}
    returns = {r.location_id for r in records if r.kind is LocationKind.RETURNS}
    assert docks == {p.point_id for p in floor.docks}
    assert returns == {RETURNS_PREFIX + d for d in docks}


def test_demo_is_balanced_and_deterministic(floor) -> None:
    """The same seed and end give the same ledger; it balances; dead SKUs never sell."""
    first = seed_demo(":memory:", floor, seed=3, end=DEMO_END, days=60)
    second = seed_demo(":memory:", floor, seed=3, end=DEMO_END, days=60)
    assert first.snapshot() == second.snapshot()
    report = first.balance_check()
    assert report.ok and report.in_transit > 0 and report.reserved > 0
    skus = [s.sku for s in first.skus()]
    assert first.sold_qty(skus[-1]) == 0 and first.sold_qty(skus[0]) > 0
    assert {s.category for s in first.skus()} >= {"hygiene", "electronics"}


def test_condition_ladder() -> None:
    """The ladder orders grades, Grade is Condition, and parsing is case-insensitive."""
    assert Grade is Condition
    assert [c.rank for c in Condition] == list(range(6))
    assert Condition.USED_GOOD.worst(Condition.USED_LIKE_NEW) is Condition.USED_GOOD
    assert Condition.parse(" used_good ") is Condition.USED_GOOD
    assert Condition.USED_ACCEPTABLE.used and not Condition.NEW.used
    assert not Condition.UNSELLABLE.sellable
    with pytest.raises(ValueError, match="known"):
        Condition.parse("MINT")
