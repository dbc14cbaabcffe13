"""Waves into batches: orders whose picks lie close together travel together.

A batch is one trip: each order in its own tote, at most ``totes`` orders,
total weight within the robot's payload. Batches are built by the *seed and
closest order* rule: the seed is the open order whose picks lie farthest from
the stations (far orders are the expensive ones to leave alone), then the
batch repeatedly takes the order whose picks are, on average, nearest (true
walking distance) to a pick already in the batch, while capacity allows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class BatchCapacity:
    totes: int
    max_weight_kg: float


def seed_closest_batches(
    pick_cells: Sequence[np.ndarray],
    weights: np.ndarray,
    matrix: np.ndarray,
    station_distance: np.ndarray,
    capacity: BatchCapacity,
) -> list[list[int]]:
    """Partition orders ``0..n-1`` into batches; returns order indices per batch.

    ``pick_cells[i]`` are the distinct cell indices order ``i`` visits (into
    ``matrix``), ``station_distance[i]`` its farthest pick's distance from a
    station, ``weights[i]`` its weight. Every batch respects ``capacity``
    (an order heavier than the payload on its own still gets a batch alone;
    callers refuse such orders earlier).
    """
    n = len(pick_cells)
    if n == 0:
        return []
    flat = np.concatenate(pick_cells)
    owner = np.repeat(np.arange(n), [len(p) for p in pick_cells])
    counts = np.bincount(owner, minlength=n).astype(np.float64)
    open_ = np.ones(n, dtype=bool)
    batches: list[list[int]] = []
    seed_order = list(np.lexsort((np.arange(n), -station_distance)))
    cursor = 0
    while open_.any():
        while not open_[seed_order[cursor]]:
            cursor += 1
        seed = int(seed_order[cursor])
        batch = [seed]
        open_[seed] = False
        load = float(weights[seed])
        nearest = matrix[np.ix_(flat, pick_cells[seed])].min(axis=1).astype(np.float64)
        while len(batch) < capacity.totes:
            fits = open_ & (weights + load <= capacity.max_weight_kg + 1e-9)
            if not fits.any():
                break
            score = np.bincount(owner, weights=nearest, minlength=n) / counts
            score[~fits] = np.inf
            pick = int(np.argmin(score))
            batch.append(pick)
            open_[pick] = False
            load += float(weights[pick])
            nearest = np.minimum(nearest, matrix[np.ix_(flat, pick_cells[pick])].min(axis=1))
        batches.append(batch)
    return batches
