"""The three routing baselines on hand-made floors, against routes counted by hand.

The floor (north up; rows 1, 4 and 7 are pick aisles between racks, columns
1 and 10 the cross aisles, the station at the west end of aisle 7)::

    @@@@@@@@@@@@   row 0
    @..........@   row 1   aisle, picks from the racks below
    @.TTTTTTTT.@
    @.TTTTTTTT.@
    @..........@   row 4   aisle
    @.TTTTTTTT.@
    @.TTTTTTTT.@
    @..........@   row 7   aisle; station P at (7, 1)
    @.TTTTTTTT.@
    @@@@@@@@@@@@

Aisle ends are columns 2 and 9; a traversal is 7 cells, the walk between the
same ends of two adjacent aisles 5 cells (out to the cross aisle, 3 along it,
back in). Only the north/south rack faces are locations, so every pick is in
a pick aisle.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wms.layout import Floor, FloorPoint, Heading, PointKind, storage_locations
from wms.layout.mapfile import parse_map
from wms.picking import find_aisles
from wms.picking.bounds import exact_tour_length
from wms.picking.heuristics import (
    WAYPOINTS,
    Heuristic,
    heuristic_lengths,
    largest_gap_split,
    matrix_distance,
    route_length,
)
from wms.travel import TravelModel

ROWS = [
    "@@@@@@@@@@@@",
    "@..........@",
    "@.TTTTTTTT.@",
    "@.TTTTTTTT.@",
    "@..........@",
    "@.TTTTTTTT.@",
    "@.TTTTTTTT.@",
    "@..........@",
    "@.TTTTTTTT.@",
    "@@@@@@@@@@@@",
]
STATION = (7, 1)


@pytest.fixture(scope="module")
def hand_floor():
    text = f"type octile\nheight {len(ROWS)}\nwidth {len(ROWS[0])}\nmap\n" + "\n".join(ROWS)
    terrain = parse_map(text, "hand.map")
    faces = tuple(
        loc for loc in storage_locations(terrain) if loc.face in (Heading.NORTH, Heading.SOUTH)
    )
    floor = Floor(
        "hand", terrain, locations=faces, points=(FloorPoint("P1", PointKind.STATION, STATION),)
    )
    aisles = find_aisles(floor)
    travel = TravelModel(floor, extra_cells=aisles.end_cells())
    return floor, aisles, matrix_distance(travel.matrix, travel.index), travel


def lengths(hand_floor, stops):
    _, aisles, distance, _ = hand_floor
    return heuristic_lengths(stops, aisles, STATION, distance)


def test_the_hand_floor_is_one_block_of_three_aisles(hand_floor) -> None:
    """Rows 1, 4 and 7 from column 2 to 9 form one block; every face belongs to one of them."""
    floor, aisles, _, _ = hand_floor
    block = aisles.blocks[0]
    assert len(aisles.blocks) == 1
    assert [
        (aisles.segments[s].line, aisles.segments[s].lo, aisles.segments[s].hi) for s in block
    ] == [
        (1, 2, 9),
        (4, 2, 9),
        (7, 2, 9),
    ]
    assert all(aisles.segment_of[loc.access_cell] in block for loc in floor.locations)


def test_picks_spread_over_three_aisles(hand_floor) -> None:
    """Picks (1,5), (4,3), (7,8) from the station at (7,1), counted by hand.

    S-shape: aisle 7 west→east (1+6+1), aisle 4 east→west entered at its
    east end (5+6+1), aisle 1 entered at its west end and, being last, left
    by it again since that is shorter (5+3+3), home 7: 38 (traversing it
    would give 46). Largest gap: aisle 7 traversed (8), the east side of
    aisle 4 holds nothing beyond its largest gap, aisle 1 traversed east→
    west (8+4+3), aisle 4's pick from the west (5+1+1), home 4: 34.
    Combined: by dynamic programming over traverse/return per aisle in
    S-shape's order: 38.
    """
    got = lengths(hand_floor, [(1, 5), (4, 3), (7, 8)])
    assert got == {Heuristic.SSHAPE: 38, Heuristic.LARGEST_GAP: 34, Heuristic.COMBINED: 38}


def test_picks_near_the_west_cross_aisle(hand_floor) -> None:
    """Picks (1,3), (4,3), (7,3): combined dips into each aisle from the west, S-shape cannot.

    S-shape: aisle 7 from the west (1+1+6), aisle 4 entered at its east end
    (5+6+1), aisle 1 at its west end and returned (5+1+1), home 7: 34.
    Largest gap: aisle 7 (8), aisle 1 traversed east→west (8+6+1), aisle 4
    from the west (5+1+1), home 4: 34. Combined dips into each aisle from
    the west: 1+2+5+2+5+2+7 = 24, the optimum.
    """
    got = lengths(hand_floor, [(1, 3), (4, 3), (7, 3)])
    assert got == {Heuristic.SSHAPE: 34, Heuristic.LARGEST_GAP: 34, Heuristic.COMBINED: 24}


def test_largest_gap_split_skips_the_widest_stretch(hand_floor) -> None:
    """Gaps along aisle 4 (ends at 2 and 9): picks at 3 and 8 leave 3..8 unwalked."""
    _, aisles, _, _ = hand_floor
    seg = next(aisles.segments[s] for s in aisles.blocks[0] if aisles.segments[s].line == 4)
    assert largest_gap_split(seg, [(4, 3), (4, 8)]) == ([(4, 3)], [(4, 8)])
    assert largest_gap_split(seg, [(4, 8)]) == ([], [(4, 8)])
    assert largest_gap_split(seg, [(4, 3)]) == ([(4, 3)], [])


@given(
    st.lists(
        st.sampled_from([(r, c) for r in (1, 4, 7) for c in range(2, 10)]), min_size=1, max_size=10
    )
)
@settings(max_examples=60, deadline=None)
def test_every_heuristic_visits_every_pick_and_is_no_shorter_than_optimal(hand_floor, stops):
    """Routes pass every pick over free cells, none beats the optimum, combined <= S-shape."""
    floor, aisles, distance, travel = hand_floor
    nodes = [travel.index[STATION], *(travel.index[c] for c in dict.fromkeys(stops))]
    optimum = exact_tour_length(travel.matrix[np.ix_(nodes, nodes)])
    got = {}
    for heuristic, make in WAYPOINTS.items():
        waypoints = make(stops, aisles, STATION, distance)
        assert set(stops) <= set(waypoints)
        assert all(floor.is_navigable(c) for c in waypoints)
        got[heuristic] = route_length(STATION, waypoints, distance)
        assert got[heuristic] >= optimum
    assert got[Heuristic.COMBINED] <= got[Heuristic.SSHAPE]
