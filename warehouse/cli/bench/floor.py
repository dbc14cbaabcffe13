"""``warehouse bench floor``: time distance tables on a map against a plain BFS."""

from __future__ import annotations

import argparse
import time
from collections import deque
from typing import Any

import numpy as np

from warehouse.cli.common import (
    add_floor_source,
    add_json,
    emit,
    load_floor,
    positive_int,
    seed_int,
)
from wms.layout import DistanceTables


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("floor", help="distance-table speed vs a plain Python BFS")
    add_floor_source(parser)
    add_json(parser)
    parser.add_argument("--sources", type=positive_int, default=20)
    parser.add_argument("--seed", type=seed_int, default=0)
    parser.set_defaults(handler=run)


def plain_bfs(navigable: np.ndarray, source: tuple[int, int]) -> np.ndarray:
    """The baseline: a textbook deque BFS in pure Python."""
    height, width = navigable.shape
    dist = np.full(navigable.shape, -1, dtype=np.int64)
    dist[source] = 0
    queue = deque([source])
    while queue:
        r, c = queue.popleft()
        d = dist[r, c] + 1
        for nr, nc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
            if 0 <= nr < height and 0 <= nc < width and navigable[nr, nc] and dist[nr, nc] < 0:
                dist[nr, nc] = d
                queue.append((nr, nc))
    return dist


def run(args: argparse.Namespace) -> int:
    floor = load_floor(args)
    rng = np.random.default_rng(args.seed)
    free = floor.free_cells()
    sources = [tuple(int(v) for v in free[i]) for i in rng.choice(len(free), args.sources)]
    build_start = time.perf_counter()
    tables = DistanceTables(floor.navigable)
    build_ms = (time.perf_counter() - build_start) * 1000
    ours, baseline = [], []
    for source in sources:
        start = time.perf_counter()
        tables._compute([source])
        ours.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        plain_bfs(floor.navigable, source)
        baseline.append((time.perf_counter() - start) * 1000)
    result = {
        "floor": floor.name,
        "cells": floor.height * floor.width,
        "free_cells": floor.free_cell_count,
        "graph_build_ms": round(build_ms, 2),
        "table_ms_p50": round(float(np.median(ours)), 3),
        "baseline_bfs_ms_p50": round(float(np.median(baseline)), 3),
        "ratio": round(float(np.median(baseline) / np.median(ours)), 1),
    }
    emit(
        result,
        args.json,
        lambda r: (
            f"{r['floor']}: table {r['table_ms_p50']} ms (median), plain BFS "
            f"{r['baseline_bfs_ms_p50']} ms, {r['ratio']}x faster; graph built in "
            f"{r['graph_build_ms']} ms"
        ),
    )
    return 0
