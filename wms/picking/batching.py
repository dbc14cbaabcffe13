"""Waves into batches: orders whose picks lie close together travel together.

A batch is one trip: each order in its own tote (an order split over
several totes takes them all, `sizes`), at most ``totes`` totes, total
weight within the robot's payload. Batches are built by the *seed and
closest order* rule: the seed is the open order whose picks lie farthest from
the stations (far orders are the expensive ones to leave alone), then the
batch repeatedly takes the order whose picks are, on average, nearest (true
walking distance) to a pick already in the batch, while capacity allows.
`improve_batches` then revisits those greedy choices by exchanging orders
between nearby batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from wms.picking.spanning import spanning_costs


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
    sizes: np.ndarray | None = None,
) -> list[list[int]]:
    """Partition orders ``0..n-1`` into batches; returns order indices per batch.

    ``pick_cells[i]`` are the distinct cell indices order ``i`` visits (into
    ``matrix``), ``station_distance[i]`` its farthest pick's distance from a
    station, ``weights[i]`` its weight, ``sizes[i]`` the totes it fills
    (default 1). Every batch respects ``capacity`` (an order larger than a
    batch on its own still gets a batch alone; callers split such orders
    earlier).
    """
    n = len(pick_cells)
    if n == 0:
        return []
    sizes = np.ones(n, dtype=np.int64) if sizes is None else np.asarray(sizes, dtype=np.int64)
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
        totes = int(sizes[seed])
        nearest = matrix[np.ix_(flat, pick_cells[seed])].min(axis=1).astype(np.float64)
        while totes < capacity.totes:
            fits = open_ & (weights + load <= capacity.max_weight_kg + 1e-9)
            fits &= sizes + totes <= capacity.totes
            if not fits.any():
                break
            score = np.bincount(owner, weights=nearest, minlength=n) / counts
            score[~fits] = np.inf
            pick = int(np.argmin(score))
            batch.append(pick)
            open_[pick] = False
            load += float(weights[pick])
            totes += int(sizes[pick])
            nearest = np.minimum(nearest, matrix[np.ix_(flat, pick_cells[pick])].min(axis=1))
        batches.append(batch)
    return batches


def improve_batches(
    batches: list[list[int]],
    pick_cells: Sequence[np.ndarray],
    weights: np.ndarray,
    matrix: np.ndarray,
    depot_distance: np.ndarray,
    capacity: BatchCapacity,
    neighbours: int = 3,
    rounds: int = 2,
    sizes: np.ndarray | None = None,
) -> list[list[int]]:
    """Swap or move orders between nearby batches while it shortens their spanning trees.

    Seed-and-closest decides each batch greedily and never revisits an early
    choice; this pass does. A batch's cost is the length of a minimum
    spanning tree over its pick cells and the station (a close, cheap proxy
    for its tour: a tour is at least the tree, at most twice it). For each
    batch and its ``neighbours`` nearest batches, every swap of one order
    for another and every move of one order (capacity allowing) is scored at
    once, and the best improving one is applied. At most ``rounds`` sweeps;
    no time limits, so the result is deterministic.
    """
    batches = [list(b) for b in batches]
    n = len(pick_cells)
    sizes = np.ones(n, dtype=np.int64) if sizes is None else np.asarray(sizes, dtype=np.int64)
    if len(batches) < 2 or rounds <= 0 or neighbours <= 0:
        return batches

    def cells_of(batch: list[int]) -> np.ndarray:
        return np.unique(np.concatenate([pick_cells[i] for i in batch]))

    def cost(batch: list[int]) -> float:
        cells = cells_of(batch)
        local = _with_depot(matrix, depot_distance, cells)
        return float(spanning_costs(local, np.ones((1, len(cells)), dtype=bool))[0])

    costs = [cost(b) for b in batches]
    version = [0] * len(batches)
    seen: dict[tuple[int, int], tuple[int, int]] = {}
    for _ in range(rounds):
        improved = False
        medoids = np.array([_medoid(matrix, cells_of(b)) for b in batches])
        near = matrix[np.ix_(medoids, medoids)].astype(np.float64)
        np.fill_diagonal(near, np.inf)
        for a in range(len(batches)):
            for b in np.argsort(near[a], kind="stable")[:neighbours]:
                b = int(b)
                pair = (min(a, b), max(a, b))
                state = (version[pair[0]], version[pair[1]])
                if b == a or seen.get(pair) == state:
                    continue  # unchanged since this pair was last tried
                if _best_exchange(
                    batches,
                    a,
                    b,
                    pick_cells,
                    (weights, sizes),
                    matrix,
                    depot_distance,
                    capacity,
                    costs,
                ):
                    version[a] += 1
                    version[b] += 1
                    improved = True
                seen[pair] = (version[pair[0]], version[pair[1]])
        if not improved:
            break
    return [b for b in batches if b]


def _with_depot(matrix: np.ndarray, depot_distance: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Distances among ``cells`` plus a last row/column for the nearest station."""
    n = len(cells)
    local = np.empty((n + 1, n + 1), dtype=np.float64)
    local[:n, :n] = matrix[np.ix_(cells, cells)]
    local[n, :n] = local[:n, n] = depot_distance[cells]
    local[n, n] = 0.0
    return local


def _medoid(matrix: np.ndarray, cells: np.ndarray) -> int:
    return int(cells[np.argmin(matrix[np.ix_(cells, cells)].sum(axis=1))])


def _best_exchange(
    batches: list[list[int]],
    a: int,
    b: int,
    pick_cells: Sequence[np.ndarray],
    loads: tuple[np.ndarray, np.ndarray],
    matrix: np.ndarray,
    depot_distance: np.ndarray,
    capacity: BatchCapacity,
    costs: list[float],
) -> bool:
    """Apply the best improving swap/move between batches ``a`` and ``b``; report success.

    ``loads`` are each order's weight and totes.
    """
    weights, sizes = loads
    first, second = batches[a], batches[b]
    if not first or not second:
        return False
    union = np.unique(np.concatenate([pick_cells[i] for i in first + second]))
    where = {int(c): k for k, c in enumerate(union)}

    def indicator(orders: list[int]) -> np.ndarray:
        rows = np.zeros((len(orders) + 1, len(union)), dtype=np.int64)
        for r, i in enumerate(orders):
            rows[r, [where[int(c)] for c in pick_cells[i]]] = 1
        return rows  # last row: "nobody" (a move rather than a swap)

    ia, ib = indicator(first), indicator(second)
    sum_a, sum_b = ia.sum(axis=0), ib.sum(axis=0)
    # Candidate (x, y): order x of `first` and order y of `second` trade places;
    # the last index means no order, so (x, none) and (none, y) are moves.
    new_a = (sum_a[None, None, :] - ia[:, None, :] + ib[None, :, :]) > 0
    new_b = (sum_b[None, None, :] - ib[None, :, :] + ia[:, None, :]) > 0
    wa = np.append(weights[first], 0.0)
    wb = np.append(weights[second], 0.0)
    load_a = weights[first].sum() - wa[:, None] + wb[None, :]
    load_b = weights[second].sum() - wb[None, :] + wa[:, None]
    ta = np.append(sizes[first], 0)
    tb = np.append(sizes[second], 0)
    totes_a = sizes[first].sum() - ta[:, None] + tb[None, :]
    totes_b = sizes[second].sum() - tb[None, :] + ta[:, None]
    count_a = (
        len(first)
        - (np.arange(len(first) + 1) < len(first))[:, None]
        + (np.arange(len(second) + 1) < len(second))[None, :]
    )
    count_b = (
        len(second)
        - (np.arange(len(second) + 1) < len(second))[None, :]
        + (np.arange(len(first) + 1) < len(first))[:, None]
    )
    ok = (
        (load_a <= capacity.max_weight_kg + 1e-9)
        & (load_b <= capacity.max_weight_kg + 1e-9)
        & (totes_a <= capacity.totes)
        & (totes_b <= capacity.totes)
        & (count_a >= 1)
        & (count_b >= 1)
    )
    ok[len(first), len(second)] = False
    if not ok.any():
        return False
    local = _with_depot(matrix, depot_distance, union)
    xs, ys = np.nonzero(ok)
    both = spanning_costs(local, np.concatenate([new_a[xs, ys], new_b[xs, ys]]))
    totals = both[: len(xs)] + both[len(xs) :]
    best = int(np.argmin(totals))
    if totals[best] >= costs[a] + costs[b] - 1e-6:
        return False
    x, y = int(xs[best]), int(ys[best])
    moved_a = [first[x]] if x < len(first) else []
    moved_b = [second[y]] if y < len(second) else []
    batches[a] = [i for i in first if i not in moved_a] + moved_b
    batches[b] = [i for i in second if i not in moved_b] + moved_a
    costs[a] = float(both[best])
    costs[b] = float(both[len(xs) + best])
    return True
