"""Minimum spanning trees on small dense distance matrices, in numpy.

Batching scores hundreds of candidate batches per exchange by the length of
their spanning tree, and the 1-tree bound needs a tree (and its degrees) per
subgradient step. Both are tiny dense problems (tens of nodes) where scipy's
sparse-graph validation costs more than the tree, so Prim's algorithm runs
here directly, vectorised over candidates.
"""

from __future__ import annotations

import numpy as np


def spanning_costs(dist: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Minimum spanning tree length of each member set, all sets at once (Prim).

    ``dist`` is ``[U+1, U+1]`` with node ``U`` the root (always included);
    ``members`` is ``[K, U]`` bool, one candidate set per row.
    """
    k, u = members.shape
    rows = np.arange(k)
    blocked = np.zeros((k, u + 1))
    blocked[:, :u][~members] = np.inf
    blocked[:, u] = np.inf
    best = dist[u][None, :] + blocked
    total = np.zeros(k)
    for _ in range(int(members.sum(axis=1).max(initial=0))):
        nxt = best.argmin(axis=1)
        value = best[rows, nxt]
        np.add(total, value, out=total, where=value < np.inf)
        blocked[rows, nxt] = np.inf
        np.minimum(best, dist[nxt], out=best)
        best += blocked
    return total


def spanning_tree(dist: np.ndarray) -> tuple[float, np.ndarray]:
    """Length and node degrees of a minimum spanning tree of a dense symmetric matrix."""
    n = dist.shape[0]
    degree = np.zeros(n, dtype=np.int64)
    if n <= 1:
        return 0.0, degree
    in_tree = np.zeros(n, dtype=bool)
    in_tree[0] = True
    best = dist[0].astype(np.float64).copy()
    parent = np.zeros(n, dtype=np.int64)
    best[0] = np.inf
    total = 0.0
    for _ in range(n - 1):
        nxt = int(np.argmin(best))
        total += float(best[nxt])
        degree[nxt] += 1
        degree[parent[nxt]] += 1
        in_tree[nxt] = True
        closer = (dist[nxt] < best) & ~in_tree
        best[closer] = dist[nxt][closer]
        parent[closer] = nxt
        best[nxt] = np.inf
    return total, degree
