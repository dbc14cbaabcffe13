"""Picking: routes visit every pick over free cells, batches respect capacity, bounds hold."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from warehouse.config import load_config
from wms.catalog import synthetic_catalog
from wms.orders import OrderBook, OrderProfile, generate_orders
from wms.picking import (
    BatchCapacity,
    PickingParams,
    RouteSearch,
    exact_tour_length,
    make_waves,
    one_tree_bound,
    route_path,
    seed_closest_batches,
    solve_tour,
    tour_length,
)
from wms.planning import floor_model, plan_book, slot_book
from wms.slotting import SlottingParams

CATALOG = synthetic_catalog(150, seed=5)


@pytest.fixture(scope="module")
def model():
    return floor_model(load_config(None).floor)


def plan_for(model, orders, params: PickingParams):
    book = OrderBook(tuple(orders), CATALOG, "synthetic")
    outcome = slot_book(book, model, SlottingParams())
    return plan_book(book.orders, CATALOG, outcome, model, params)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 10_000),
    count=st.integers(1, 40),
    totes=st.integers(1, 6),
    max_kg=st.floats(15.0, 60.0),
)
def test_routes_are_valid_and_batches_fit(model, seed, count, totes, max_kg) -> None:
    """Every pick visited, path connected over free cells and as long as reported, capacity kept."""
    orders = generate_orders(CATALOG, OrderProfile(orders=count), seed=seed)
    params = PickingParams(totes_per_batch=totes, batch_max_kg=max_kg, wave_max_orders=15)
    plan = plan_for(model, orders, params)
    seen = []
    navigable = model.floor.navigable
    for batch in plan.batches:
        seen += batch.orders
        assert len(batch.orders) <= totes
        assert batch.weight_kg <= max_kg + 1e-6
        stops = set(batch.stops)
        assert {p.cell for p in batch.picks} <= stops
        visit = [batch.stops.index(p.cell) for p in batch.picks]
        assert visit == sorted(visit)
        path = route_path(model.travel.tables, batch.route)
        assert path[0] == path[-1] == batch.station_cell
        assert len(path) - 1 == batch.travel
        for a, b in itertools.pairwise(path):
            assert abs(a[0] - b[0]) + abs(a[1] - b[1]) == 1
        assert all(navigable[r, c] for r, c in path)
        assert stops <= set(path)
        assert batch.lower_bound <= batch.travel
    assert sorted(seen) == sorted(o.order_id for o in orders)
    assert plan.lower_bound <= plan.travel <= plan.baseline_batched_sshape_travel


def test_batching_and_routing_beat_single_order_sshape(model) -> None:
    """On the default floor, our plan needs at most 0.6x the single-order S-shape travel."""
    orders = generate_orders(CATALOG, OrderProfile(orders=300), seed=1)
    plan = plan_for(model, orders, PickingParams())
    assert plan.travel <= 0.6 * plan.baseline_single_order_sshape_travel
    assert plan.travel <= 1.05 * plan.lower_bound


def test_waves_respect_cutoff_then_priority(model) -> None:
    """Waves come out in cut-off order, same-day before standard at one cut-off, size capped."""
    orders = generate_orders(CATALOG, OrderProfile(orders=200), seed=9)
    waves = make_waves(orders, max_orders=30)
    keys = [(w.due, w.priority.rank) for w in waves]
    assert keys == sorted(keys)
    assert all(1 <= len(w.orders) <= 30 for w in waves)
    assert sum(len(w.orders) for w in waves) == len(orders)


@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), min_size=2, max_size=8))
@settings(max_examples=30, deadline=None)
def test_bounds_and_ortools_agree_with_brute_force(points) -> None:
    """Exact DP equals brute force; the 1-tree bound never exceeds it; OR-Tools never beats it."""
    p = np.array(points)
    dist = np.abs(p[:, None, :] - p[None, :, :]).sum(axis=2)
    n = len(points) - 1
    brute = min(tour_length(dist, list(perm)) for perm in itertools.permutations(range(1, n + 1)))
    assert exact_tour_length(dist) == brute
    assert one_tree_bound(dist) <= brute
    assert tour_length(dist, solve_tour(dist, RouteSearch())) >= brute


def test_seed_closest_batches_group_nearby_orders() -> None:
    """Two clusters of orders far apart end up in separate batches."""
    coords = np.array([[0, 0], [0, 1], [0, 2], [50, 0], [50, 1], [50, 2]])
    matrix = np.abs(coords[:, None, :] - coords[None, :, :]).sum(axis=2)
    picks = [np.array([i]) for i in range(6)]
    batches = seed_closest_batches(
        picks, np.ones(6), matrix, np.array([0, 1, 2, 50, 51, 52.0]), BatchCapacity(3, 10.0)
    )
    assert sorted(sorted(b) for b in batches) == [[0, 1, 2], [3, 4, 5]]


@given(
    sizes=st.lists(st.integers(1, 4), min_size=1, max_size=30),
    weights=st.lists(st.floats(0.1, 20.0), min_size=30, max_size=30),
    totes=st.integers(1, 5),
    max_kg=st.floats(20.0, 60.0),
    seed=st.integers(0, 1000),
)
@settings(max_examples=40, deadline=None)
def test_batches_partition_orders_within_capacity(sizes, weights, totes, max_kg, seed) -> None:
    """Every order lands in exactly one batch; no batch exceeds tote count or payload."""
    rng = np.random.default_rng(seed)
    coords = rng.integers(0, 40, size=(25, 2))
    matrix = np.abs(coords[:, None, :] - coords[None, :, :]).sum(axis=2)
    picks = [np.unique(rng.integers(0, 25, size=k)) for k in sizes]
    w = np.array(weights[: len(sizes)])
    far = np.array([float(matrix[p, 0].max()) for p in picks])
    batches = seed_closest_batches(picks, w, matrix, far, BatchCapacity(totes, max_kg))
    flat = sorted(i for b in batches for i in b)
    assert flat == list(range(len(sizes)))
    for b in batches:
        assert 1 <= len(b) <= totes
        assert w[b].sum() <= max_kg + 1e-9


def test_sshape_visits_every_stop_and_walks_whole_aisles(model) -> None:
    """S-shape passes every stop and traverses each used aisle end to end (the last may return)."""
    from wms.picking import sshape_waypoints
    from wms.picking.heuristics import matrix_distance

    cells = sorted({loc.access_cell for loc in model.floor.locations})
    rng = np.random.default_rng(3)
    stops = [cells[i] for i in rng.choice(len(cells), size=15, replace=False)]
    station = model.floor.stations[0].cell
    distance = matrix_distance(model.travel.matrix, model.travel.index)
    waypoints = sshape_waypoints(stops, model.aisles, station, distance)
    assert set(stops) <= set(waypoints)
    aisles = model.aisles
    used = [aisles.segment_of[c] for c in waypoints if aisles.segment_of.get(c) in aisles.block_of]
    used = list(dict.fromkeys(used))
    for s in used[:-1]:
        assert set(aisles.segments[s].ends) <= set(waypoints)
    assert set(aisles.segments[used[-1]].ends) & set(waypoints)
    path = route_path(model.travel.tables, [station, *waypoints, station])
    assert all(abs(a[0] - b[0]) + abs(a[1] - b[1]) == 1 for a, b in itertools.pairwise(path))


def test_too_short_time_limit_still_routes() -> None:
    """A time limit that expires before OR-Tools' first solution falls back to plain descent."""
    rng = np.random.default_rng(0)
    p = rng.integers(0, 50, size=(150, 2))
    dist = np.abs(p[:, None, :] - p[None, :, :]).sum(axis=2)
    order = solve_tour(dist, RouteSearch(time_limit_ms=1))
    assert sorted(order) == list(range(1, 150))


@given(
    sizes=st.lists(st.integers(1, 4), min_size=2, max_size=24),
    totes=st.integers(1, 5),
    seed=st.integers(0, 1000),
)
@settings(max_examples=30, deadline=None)
def test_batch_improvement_keeps_partition_capacity_and_never_worsens(sizes, totes, seed) -> None:
    """Exchanges keep every order exactly once, within capacity, and never lengthen the trees."""
    from wms.picking.batching import _with_depot, improve_batches
    from wms.picking.spanning import spanning_costs

    rng = np.random.default_rng(seed)
    coords = rng.integers(0, 40, size=(30, 2))
    matrix = np.abs(coords[:, None, :] - coords[None, :, :]).sum(axis=2)
    depot = np.abs(coords - np.array([0, 20])).sum(axis=1).astype(np.float64)
    picks = [np.unique(rng.integers(0, 30, size=k)) for k in sizes]
    weights = rng.uniform(1.0, 10.0, size=len(sizes))
    capacity = BatchCapacity(totes, 25.0)
    far = np.array([depot[p].max() for p in picks])
    start = seed_closest_batches(picks, weights, matrix, far, capacity)

    def total(batches: list[list[int]]) -> float:
        result = 0.0
        for b in batches:
            cells = np.unique(np.concatenate([picks[i] for i in b]))
            local = _with_depot(matrix, depot, cells)
            result += float(spanning_costs(local, np.ones((1, len(cells)), dtype=bool))[0])
        return result

    better = improve_batches(start, picks, weights, matrix, depot, capacity, 3, 3)
    assert sorted(i for b in better for i in b) == list(range(len(sizes)))
    for b in better:
        assert 1 <= len(b) <= totes
        assert weights[b].sum() <= 25.0 + 1e-9 or len(b) == 1
    assert total(better) <= total(start) + 1e-6


@given(n=st.integers(2, 15), seed=st.integers(0, 1000))
@settings(max_examples=30, deadline=None)
def test_numpy_spanning_trees_match_scipy(n, seed) -> None:
    """Our vectorised Prim and single-tree Prim give scipy's minimum spanning tree length."""
    from scipy.sparse.csgraph import minimum_spanning_tree

    from wms.picking.spanning import spanning_costs, spanning_tree

    rng = np.random.default_rng(seed)
    coords = rng.integers(0, 30, size=(n + 1, 2))
    dist = np.abs(coords[:, None, :] - coords[None, :, :]).sum(axis=2).astype(np.float64)
    members = rng.random((5, n)) < 0.7
    got = spanning_costs(dist, members)
    for row, mask in zip(got, members, strict=True):
        nodes = [*np.flatnonzero(mask), n]
        sub = dist[np.ix_(nodes, nodes)] + 1e-3
        expected = minimum_spanning_tree(np.triu(sub, 1)).sum() - 1e-3 * (len(nodes) - 1)
        assert row == pytest.approx(expected, abs=1e-6)
    length, degree = spanning_tree(dist)
    full = minimum_spanning_tree(np.triu(dist + 1e-3, 1)).sum() - 1e-3 * n
    assert length == pytest.approx(full, abs=1e-6)
    assert degree.sum() == 2 * n
