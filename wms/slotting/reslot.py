"""Re-slotting: the moves from the current slotting to a better one, worth making first.

A move of SKU ``s`` from location ``a`` to ``b`` saves, over a demand period
like the one observed, ``lines(s) × (round trip(a) − round trip(b))`` cells
of picking travel, and costs a fixed handling allowance plus the walk from
``a`` to ``b`` and back. Moves are ranked by saving minus cost; only moves
with a positive net are proposed. A move into a slot that is still occupied
waits for that occupant's own move (or goes through a staging tote), which is
why each move names the SKU it displaces.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wms.csv_rows import read_csv_rows
from wms.errors import InputError
from wms.slotting.assign import SlottingParams
from wms.slotting.demand import Demand
from wms.travel import TravelModel


@dataclass(frozen=True, slots=True)
class Move:
    sku: str
    from_location: str
    to_location: str
    travel_saved: float
    move_cost: float
    displaces: str | None

    @property
    def net(self) -> float:
        return self.travel_saved - self.move_cost

    def to_dict(self) -> dict[str, object]:
        return {
            "sku": self.sku,
            "from": self.from_location,
            "to": self.to_location,
            "travel_saved": round(self.travel_saved, 1),
            "move_cost": round(self.move_cost, 1),
            "net": round(self.net, 1),
            "displaces": self.displaces,
        }


def reslot_moves(
    current: np.ndarray,
    target: np.ndarray,
    demand: Demand,
    travel: TravelModel,
    params: SlottingParams,
) -> list[Move]:
    """Moves from ``current`` to ``target`` (SKU → location index arrays), best first."""
    trips = travel.location_round_trip().astype(np.float64)
    cells = travel.location_cell
    occupant = {int(loc): i for i, loc in enumerate(current)}
    moves = []
    for i in np.flatnonzero(current != target):
        a, b = int(current[i]), int(target[i])
        saved = float(demand.lines[i] * (trips[a] - trips[b]))
        cost = params.move_cost_cells + 2.0 * float(travel.matrix[cells[a], cells[b]])
        if saved - cost <= 0:
            continue
        other = occupant.get(b)
        moves.append(
            Move(
                demand.skus[i],
                travel.location_ids[a],
                travel.location_ids[b],
                saved,
                cost,
                demand.skus[other] if other is not None else None,
            )
        )
    moves.sort(key=lambda m: (-m.net, m.sku))
    return moves[: params.max_moves]


def read_slotting_csv(path: str, skus: tuple[str, ...], travel: TravelModel) -> np.ndarray:
    """A slotting from CSV (``sku, location``) as a location index per SKU.

    Every SKU must be listed; errors name the file and row.
    """
    index = {s: i for i, s in enumerate(skus)}
    result = np.full(len(skus), -1, dtype=np.int64)
    rows = read_csv_rows(path)
    header = [h.strip() for h in rows[0]] if rows else []
    if not {"sku", "location"} <= set(header):
        raise InputError(f"{path}:1", "needs columns sku, location")
    sku_col, loc_col = header.index("sku"), header.index("location")
    for row_number, values in enumerate(rows[1:], start=2):
        if not any(v.strip() for v in values):
            continue
        where = f"{path}:{row_number}"
        if len(values) <= max(sku_col, loc_col):
            raise InputError(where, f"{len(values)} fields, the header has {len(header)}")
        sku, loc = values[sku_col].strip(), values[loc_col].strip()
        if sku not in index:
            raise InputError(where, f"unknown SKU {sku!r}")
        if loc not in travel.location_index:
            raise InputError(where, f"unknown location {loc!r}")
        result[index[sku]] = travel.location_index[loc]
    missing = [skus[i] for i in np.flatnonzero(result < 0)]
    if missing:
        raise InputError(path, f"no location for SKU {missing[0]!r} ({len(missing)} missing)")
    return result
