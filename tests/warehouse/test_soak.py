"""The soak harness at small scale: lifelong work flows and the manager's memory stays bounded.

The real run (`bench/soak.py`, 24 simulated hours, 100 robots) takes an hour; here a
few robots for a few simulated minutes, the manager told to keep only 3 finished tasks:
its task book never holds more than the open tasks and those 3, while many more tasks
finish (their events are in the soak's SQLite task log).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.soak import build, soak, warm_caches
from fleet.manager.store import SqlTaskStore


def test_a_short_soak_keeps_the_task_book_bounded_and_every_robot_progressing() -> None:
    keep = 3
    result = soak(
        robots=8, hours=0.2, seed=0, stall_limit=900, log=None, sample_s=180.0, keep_finished=keep
    )
    assert result["sim_hours"] == 0.2
    assert not result["stalled_out"]
    assert result["safety_violations"] == 0 and result["manager_errors"] == 0
    assert result["tasks_done"] >= 3 * keep  # far more finished than are kept
    for in_memory, open_ in zip(result["tasks_in_memory"], result["tasks_open"], strict=True):
        assert in_memory <= open_ + keep
    assert sum(result["done_per_hour"]) == result["tasks_done"]


def test_warm_caches_fill_a_distance_table_for_every_navigable_cell(tmp_path: Path) -> None:
    """`--warm`: the cache a day fills cell by cell is full before the first tick."""
    store = SqlTaskStore(tmp_path / "site.db")
    try:
        run, _ = build(robots=4, seed=0, store=store, keep_finished=10)
        cells = [(int(r), int(c)) for r, c in zip(*np.nonzero(run.floor.navigable), strict=True)]
        assert not all(cell in run.core.tables for cell in cells)
        assert warm_caches(run) == len(cells)
        assert all(cell in run.core.tables for cell in cells)
    finally:
        store.close()
