"""Slotting: constraints hold, the objective beats random, affinity and re-slotting behave."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from warehouse.config import load_config
from wms.catalog import Catalog, Sku, synthetic_catalog
from wms.orders import OrderProfile, generate_orders
from wms.planning import floor_model
from wms.slotting import (
    STRATEGIES,
    SlottingError,
    SlottingParams,
    abc_classes,
    demand_from_orders,
    random_expected_travel_per_line,
    reslot_moves,
    slot,
)
from wms.slotting.assign import (
    forward_mask,
    location_distances,
    optimal_assignment,
    velocity_assignment,
)


@pytest.fixture(scope="module")
def model():
    return floor_model(load_config(None).floor)


@pytest.fixture(scope="module")
def book():
    catalog = synthetic_catalog(200, seed=2)
    return catalog, generate_orders(catalog, OrderProfile(orders=600), seed=2)


def test_every_strategy_slots_each_sku_once_within_constraints(model, book) -> None:
    """Each SKU gets its own reachable location; oversize SKUs only in reserve."""
    catalog, orders = book
    big = Sku("BIG", 80, 60, 50, 30.0)
    catalog = Catalog({**dict(catalog.skus), "BIG": big})
    demand = demand_from_orders(orders, catalog)
    params = SlottingParams()
    forward = forward_mask(model.travel, params)
    for strategy in STRATEGIES:
        result = slot(catalog, demand, model.travel, params, strategy)
        locs = result.sku_location
        assert len(set(locs.tolist())) == len(catalog)
        assert model.travel.reachable[locs].all()
        assert not forward[locs[demand.skus.index("BIG")]]


def test_velocity_slotting_beats_random_by_a_quarter(model, book) -> None:
    """The default strategy cuts expected travel per line by at least 25% against random."""
    catalog, orders = book
    demand = demand_from_orders(orders, catalog)
    best = slot(catalog, demand, model.travel)
    random_line = random_expected_travel_per_line(model.travel)
    assert best.expected_travel_per_line <= 0.75 * random_line
    for strategy in ("abc", "coi", "random"):
        other = slot(catalog, demand, model.travel, strategy=strategy)
        assert best.expected_travel_per_line <= other.expected_travel_per_line + 1e-9


def test_affinity_refinement_keeps_travel_and_cuts_copick_distance(model, book) -> None:
    """Affinity swaps leave the per-line objective unchanged and bring co-picked SKUs closer."""
    catalog, orders = book
    demand = demand_from_orders(orders, catalog)
    plain = slot(catalog, demand, model.travel, SlottingParams(affinity_passes=0))
    refined = slot(catalog, demand, model.travel, SlottingParams(affinity_passes=3))
    assert refined.expected_travel_per_line == pytest.approx(plain.expected_travel_per_line)
    assert refined.affinity_distance < plain.affinity_distance


def test_abc_classes_follow_cumulative_line_share() -> None:
    """A holds the fastest movers up to 80% of lines, C the tail."""
    lines = np.array([50, 30, 10, 5, 3, 1, 1])
    classes = abc_classes(lines, SlottingParams())
    assert classes == ("A", "A", "B", "B", "C", "C", "C")


def test_too_many_skus_is_a_clear_error(model) -> None:
    """More SKUs than locations is refused, naming the floor."""
    catalog = synthetic_catalog(len(model.floor.locations) + 1)
    demand = demand_from_orders([], catalog)
    with pytest.raises(SlottingError, match="bigger layout"):
        slot(catalog, demand, model.travel)


def test_reslot_moves_are_ranked_and_worth_it(model, book) -> None:
    """Moves go from random to the target, best net first, each with positive net."""
    catalog, orders = book
    demand = demand_from_orders(orders, catalog)
    target = slot(catalog, demand, model.travel)
    current = slot(catalog, demand, model.travel, strategy="random")
    moves = reslot_moves(
        current.sku_location,
        target.sku_location,
        demand,
        model.travel,
        SlottingParams(max_moves=20),
    )
    assert 0 < len(moves) <= 20
    nets = [m.net for m in moves]
    assert nets == sorted(nets, reverse=True)
    assert all(m.net > 0 for m in moves)
    dist = location_distances(model.travel)
    assert dist.shape == (len(model.floor.locations),) * 2


@given(
    lines=st.lists(st.integers(0, 50), min_size=1, max_size=12),
    trips=st.lists(st.integers(2, 60), min_size=12, max_size=16),
    misfit=st.lists(st.booleans(), min_size=12, max_size=12),
    share=st.floats(0.2, 1.0),
)
@settings(max_examples=60, deadline=None)
def test_velocity_assignment_is_optimal(lines, trips, misfit, share) -> None:
    """The sorting assignment scores exactly as well as the Hungarian solver under constraints."""
    lines_a = np.array(lines)
    trips_a = np.array(sorted(trips))
    n, m = len(lines_a), len(trips_a)
    forward = np.zeros(m, dtype=bool)
    forward[: max(1, round(share * m))] = True
    fits = ~np.array(misfit[:n])
    reachable = np.ones(m, dtype=bool)
    assume(int((~fits).sum()) <= int((~forward).sum()))
    allowed = fits[:, None] | ~forward[None, :]
    ours = velocity_assignment(lines_a, fits, forward, reachable, trips_a)
    best = optimal_assignment(lines_a, allowed, trips_a)
    assert len(set(ours.tolist())) == n
    assert allowed[np.arange(n), ours].all()
    assert (lines_a * trips_a[ours]).sum() == (lines_a * trips_a[best]).sum()
