"""The routing-headroom breakdown sums each band's batches exactly and marks where the
bound is the exact optimum (up to 12 stops) and where it is the 1-tree bound."""

from __future__ import annotations

from warehouse.cli.bench.picking import by_stops
from wms.picking.plan import Batch


def batch(stops: int, travel: int, heuristics: tuple[int, int, int], bound: int) -> Batch:
    sshape, gap, combined = heuristics
    return Batch(
        batch_id=f"B{stops}-{travel}",
        orders=("O",),
        station="P1",
        station_cell=(0, 0),
        stops=tuple((1, i) for i in range(stops)),
        picks=(),
        weight_kg=1.0,
        volume_l=1.0,
        travel=travel,
        sshape_travel=sshape,
        lower_bound=bound,
        largest_gap_travel=gap,
        combined_travel=combined,
    )


def test_bands_sum_their_batches_and_say_which_bound() -> None:
    """Two small trips and one long: bands 1-4 and 21+, sums by band, the best heuristic per
    batch (not per band), and no empty band reported."""
    rows = by_stops(
        [
            batch(3, 10, (12, 11, 14), 10),
            batch(4, 20, (20, 25, 22), 18),
            batch(30, 100, (130, 120, 125), 90),
        ]
    )
    assert rows == [
        {
            "stops": "1-4",
            "batches": 2,
            "travel": 30,
            "best_heuristic_travel": 31,
            "lower_bound": 28,
            "bound_is_exact": True,
        },
        {
            "stops": "21+",
            "batches": 1,
            "travel": 100,
            "best_heuristic_travel": 120,
            "lower_bound": 90,
            "bound_is_exact": False,
        },
    ]
