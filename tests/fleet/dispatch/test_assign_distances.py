"""FloorDistances: matrices and nearest-target distances agree with an independent BFS."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from fleet.dispatch.distances import FloorDistances
from tests.fleet.dispatch.assign_cases import CELLS, CHARGERS, FLOOR
from tests.helpers import plain_bfs
from wms.layout import UNREACHABLE

cell_lists = st.lists(st.sampled_from([*CELLS, (-1, 0), (0, 99)]), max_size=9)


def reference(navigable: np.ndarray, sources, targets) -> np.ndarray:
    out = np.full((len(sources), len(targets)), int(UNREACHABLE), dtype=np.int64)
    height, width = navigable.shape
    for i, a in enumerate(sources):
        if not (0 <= a[0] < height and 0 <= a[1] < width):
            continue
        table = plain_bfs(navigable, a)
        for j, (r, c) in enumerate(targets):
            if 0 <= r < height and 0 <= c < width and table[r, c] >= 0:
                out[i, j] = table[r, c]
    return out


@given(cell_lists, cell_lists)
@settings(max_examples=100, deadline=None)
def test_matrix_matches_bfs_either_way_round(sources, targets) -> None:
    """Each entry is the BFS distance (UNREACHABLE off-grid or cut off), either side larger."""
    got = FloorDistances(FLOOR).matrix(sources, targets)
    assert got.shape == (len(sources), len(targets))
    assert got.dtype == np.int32
    assert np.array_equal(got, reference(FLOOR, sources, targets))


@given(cell_lists, st.lists(st.sampled_from(CELLS), max_size=4))
@settings(max_examples=60, deadline=None)
def test_extra_blocked_cells_are_impassable(cells, blocked) -> None:
    """Blocking cells gives the distances of the grid without them; blocks accumulate."""
    distances = FloorDistances(FLOOR, blocked[:2]).with_blocked(blocked[2:])
    grid = FLOOR.copy()
    for r, c in blocked:
        grid[r, c] = False
    assert np.array_equal(distances.matrix(cells, cells), reference(grid, cells, cells))


def test_to_nearest_is_the_minimum_over_targets() -> None:
    """Distance to the nearest charger is the row minimum of the matrix; none → UNREACHABLE."""
    distances = FloorDistances(FLOOR)
    cells = [(0, 5), (2, 2), (4, 0), (5, 9)]
    expected = reference(FLOOR, cells, CHARGERS).min(axis=1)
    assert np.array_equal(distances.to_nearest(cells, CHARGERS), expected)
    assert expected[2] == UNREACHABLE  # the cut-off pocket
    assert (distances.to_nearest(cells, []) == UNREACHABLE).all()


def test_matrices_are_private_copies() -> None:
    """Writing into a returned matrix never corrupts the cached tables."""
    distances = FloorDistances(FLOOR)
    first = distances.matrix([(0, 0)], [(0, 3)])
    first[0, 0] = 99
    assert distances.distance((0, 0), (0, 3)) == 3


@given(st.lists(st.lists(st.sampled_from(CELLS), max_size=5), max_size=6))
@settings(max_examples=60, deadline=None)
def test_route_lengths_sum_the_legs(routes) -> None:
    """A route's length is the sum of its BFS legs, UNREACHABLE if any leg is cut off."""
    got = FloorDistances(FLOOR).route_lengths(routes)
    for route, length in zip(routes, got, strict=True):
        legs = [int(reference(FLOOR, [a], [b])[0, 0]) for a, b in itertools.pairwise(route)]
        expected = int(UNREACHABLE) if any(leg >= UNREACHABLE for leg in legs) else sum(legs)
        assert length == expected
