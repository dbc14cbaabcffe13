"""Demand statistics that drive slotting: velocity, cube movement, co-picks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix

from wms.catalog import Catalog
from wms.orders.model import Order


@dataclass(frozen=True, eq=False)
class Demand:
    """Per-SKU counts over an order history, indexed like ``skus``.

    ``lines`` (picks) is the velocity that travel is paid for; ``orders``
    counts orders containing the SKU (the denominator of the cube-per-order
    index); ``copick`` is the symmetric SKU × SKU count of orders containing
    both (the affinity).
    """

    skus: tuple[str, ...]
    lines: np.ndarray
    units: np.ndarray
    orders: np.ndarray
    copick: csr_matrix

    @property
    def total_lines(self) -> int:
        return int(self.lines.sum())


def demand_from_orders(orders: Sequence[Order], catalog: Catalog) -> Demand:
    skus = tuple(catalog)
    index = {s: i for i, s in enumerate(skus)}
    n = len(skus)
    lines = np.zeros(n, dtype=np.int64)
    units = np.zeros(n, dtype=np.int64)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    for order in orders:
        ids = np.fromiter((index[line.sku] for line in order.lines), dtype=np.int64)
        lines[ids] += 1
        units[ids] += np.fromiter((line.qty for line in order.lines), dtype=np.int64)
        if ids.size > 1:
            a, b = np.meshgrid(ids, ids)
            off = a != b
            rows.append(a[off])
            cols.append(b[off])
    if rows:
        r = np.concatenate(rows)
        c = np.concatenate(cols)
        copick = coo_matrix((np.ones(r.size), (r, c)), shape=(n, n)).tocsr()
    else:
        copick = csr_matrix((n, n))
    copick.sum_duplicates()
    return Demand(skus, lines, units, lines.copy(), copick)
