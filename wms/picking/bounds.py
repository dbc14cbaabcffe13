"""Lower bounds on the length of a closed pick tour, to show how close routes are.

A route over the stops of a batch, starting and ending at the station, is a
travelling-salesman tour on a metric (shortest-path) distance matrix. Two
proven bounds:

- ``exact_tour_length`` — Held–Karp dynamic programming, the optimum itself,
  for up to `EXACT_MAX_STOPS` stops (``2^n · n²`` work); `exact_tour` also
  gives the tour, which is how small batches are routed.
- ``one_tree_bound`` — the Held–Karp 1-tree (Lagrangian) bound: the station
  joined by its two cheapest edges to a minimum spanning tree of the stops,
  with node penalties improved by subgradient ascent. Every tour is a 1-tree,
  so every value found is a bound; typically within 1–2 % of the optimum.

Distances are integers, so a bound is rounded *up* to the next integer.
"""

from __future__ import annotations

import math

import numpy as np

from wms.picking.spanning import spanning_tree

EXACT_MAX_STOPS = 12


def exact_tour_length(dist: np.ndarray) -> int:
    """Shortest closed tour from node 0 through every other node (Held–Karp DP)."""
    return exact_tour(dist)[0]


def exact_tour(dist: np.ndarray) -> tuple[int, list[int]]:
    """Length and visiting order (nodes ``1..n``) of the shortest closed tour from node 0.

    Held–Karp dynamic programming over subsets, vectorised per subset size;
    ``2^n · n²`` work, so at most `EXACT_MAX_STOPS` stops.
    """
    size = dist.shape[0]
    n = size - 1
    if n <= 0:
        return 0, []
    if n > EXACT_MAX_STOPS:
        raise ValueError(f"exact tour limited to {EXACT_MAX_STOPS} stops, got {n}")
    d = dist[1:, 1:].astype(np.float64)
    start = dist[0, 1:].astype(np.float64)
    back = dist[1:, 0].astype(np.float64)
    full = 1 << n
    dp = np.full((full, n), np.inf)
    parent = np.full((full, n), -1, dtype=np.int64)
    for j in range(n):
        dp[1 << j, j] = start[j]
    masks = np.arange(full)
    popcount = np.array([bin(m).count("1") for m in range(full)])
    for level in range(2, n + 1):
        level_masks = masks[popcount == level]
        for j in range(n):
            sel = level_masks[(level_masks >> j) & 1 == 1]
            prev = sel ^ (1 << j)
            through = dp[prev] + d[:, j][None, :]
            parent[sel, j] = through.argmin(axis=1)
            dp[sel, j] = through.min(axis=1)
    closing = dp[full - 1] + back
    last = int(closing.argmin())
    order = []
    mask = full - 1
    while last >= 0:
        order.append(last + 1)
        previous = int(parent[mask, last])
        mask ^= 1 << last
        last = previous
    return round(float(closing.min())), order[::-1]


def _one_tree(cost: np.ndarray) -> tuple[float, np.ndarray]:
    """Cost and node degrees of the minimum 1-tree with node 0 as the special node."""
    n = cost.shape[0]
    degree = np.zeros(n, dtype=np.int64)
    total, sub_degree = spanning_tree(cost[1:, 1:])
    degree[1:] = sub_degree
    two = np.argsort(cost[0, 1:], kind="stable")[:2] + 1
    total += float(cost[0, two].sum())
    degree[0] = 2
    degree[two] += 1
    return total, degree


def one_tree_bound(dist: np.ndarray, upper: float | None = None, iterations: int = 80) -> int:
    """Held–Karp 1-tree lower bound on the closed tour through all nodes of ``dist``.

    ``upper`` (a known tour length) sets the step size and stops the ascent
    once the bound reaches it.
    """
    size = dist.shape[0]
    if size <= 3:
        return exact_tour_length(dist)
    base = dist.astype(np.float64)
    base = (base + base.T) / 2.0
    np.fill_diagonal(base, 0.0)
    pi = np.zeros(size)
    best = -math.inf
    target = float(upper) if upper is not None else None
    scale = 2.0
    stale = 0
    for _ in range(iterations):
        cost = base + pi[:, None] + pi[None, :]
        value, degree = _one_tree(cost)
        value -= 2.0 * pi.sum()
        if value > best + 1e-9:
            best, stale = value, 0
        else:
            stale += 1
            if stale >= 5:
                scale, stale = scale / 2.0, 0
        if target is not None and math.ceil(best - 1e-6) >= target:
            break
        grad = degree - 2
        norm = float((grad * grad).sum())
        if norm == 0 or scale < 1e-4:
            break
        ref = target if target is not None else value * 1.05
        step = scale * max(ref - value, 1e-3) / norm
        pi = pi + step * grad
    return math.ceil(best - 1e-6)


def tour_lower_bound(dist: np.ndarray, upper: float | None = None) -> int:
    """The best bound this module can prove cheaply: exact when small, 1-tree otherwise."""
    if dist.shape[0] - 1 <= EXACT_MAX_STOPS:
        return exact_tour_length(dist)
    trivial = int(2 * dist[0, 1:].max())
    return max(trivial, one_tree_bound(dist, upper))
