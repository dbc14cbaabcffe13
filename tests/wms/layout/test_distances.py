"""Distance tables agree with a plain BFS and cache sensibly."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tests.helpers import plain_bfs
from wms.layout import UNREACHABLE, DistanceTables, mean_free_distance

grids = st.tuples(st.integers(1, 14), st.integers(1, 14)).flatmap(
    lambda shape: arrays(bool, shape, elements=st.booleans())
)


@given(grids, st.data())
@settings(max_examples=120, deadline=None)
def test_tables_match_plain_bfs(navigable: np.ndarray, data: st.DataObject) -> None:
    """For random maps and sources, every distance equals an independent BFS."""
    tables = DistanceTables(navigable)
    r = data.draw(st.integers(0, navigable.shape[0] - 1))
    c = data.draw(st.integers(0, navigable.shape[1] - 1))
    ours = tables.from_cell((r, c)).astype(np.int64)
    reference = plain_bfs(navigable, (r, c))
    expected = np.where(reference < 0, int(UNREACHABLE), reference)
    assert np.array_equal(ours, expected)


@given(grids)
@settings(max_examples=40, deadline=None)
def test_batch_equals_single(navigable: np.ndarray) -> None:
    """from_cells gives the same tables as from_cell one by one."""
    tables = DistanceTables(navigable)
    cells = [(int(r), int(c)) for r, c in np.argwhere(np.ones_like(navigable))[:5]]
    batch = tables.from_cells(cells)
    fresh = DistanceTables(navigable)
    for i, cell in enumerate(cells):
        assert np.array_equal(batch[i], fresh.from_cell(cell))


def test_cache_is_bounded_and_tables_read_only() -> None:
    """The LRU keeps at most its capacity, and shared tables cannot be modified."""
    navigable = np.ones((10, 10), dtype=bool)
    tables = DistanceTables(navigable, cache_bytes=3 * 10 * 10 * 4)
    for c in range(6):
        table = tables.from_cell((0, c))
    assert (0, 5) in tables and (0, 0) not in tables
    assert not table.flags.writeable


def test_mean_distance_exact_on_a_corridor() -> None:
    """On a 1×n corridor the mean distance between distinct cells is (n+1)/3."""
    n = 30
    tables = DistanceTables(np.ones((1, n), dtype=bool))
    assert abs(mean_free_distance(tables, samples=n) - (n + 1) / 3) < 1e-9


def test_full_table_on_warehouse_large(shared_dir) -> None:
    """The 500×140 Robot Runners map gets a full table (its time is in bench/floor.py)."""
    from wms.layout import floor_from_map_file

    path = shared_dir / "benchmarks/robotrunners/2023-main-round/warehouse.domain/maps"
    floor = floor_from_map_file(path / "warehouse_large.map")
    tables = DistanceTables(floor.navigable)
    source = tuple(int(v) for v in floor.free_cells()[0])
    table = tables.from_cell(source)
    assert (table < UNREACHABLE).sum() > 30_000
    assert table[source] == 0
