"""Generated layouts: invariants that every parameter choice must keep."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.helpers import plain_bfs
from wms.errors import InputError
from wms.layout import (
    Floor,
    LayoutParams,
    format_map,
    generate_layout,
    parse_map,
    storage_locations,
)

params_strategy = st.builds(
    LayoutParams,
    blocks_x=st.integers(1, 3),
    blocks_y=st.integers(1, 3),
    rack_pairs=st.integers(1, 4),
    rack_length=st.integers(1, 8),
    aisle_width=st.integers(1, 2),
    cross_aisle_width=st.integers(1, 3),
    margin=st.integers(1, 3),
    staging_depth=st.integers(2, 4),
    stations=st.integers(1, 4),
    chargers=st.integers(0, 3),
    docks=st.integers(0, 3),
)


def feasible(params: LayoutParams) -> Floor:
    """The generated floor; parameter sets too small for their points are skipped.

    Tiny layouts that cannot hold the requested stations or chargers must be
    refused with an InputError, never with any other exception.
    """
    try:
        return generate_layout(params)
    except InputError:
        assume(False)
        raise


@given(params_strategy)
@settings(max_examples=60, deadline=None)
def test_every_location_reachable_from_every_station(params: LayoutParams) -> None:
    """Every storage location's access cell is reachable from every station."""
    floor = feasible(params)
    assert floor.locations
    for station in floor.stations:
        dist = plain_bfs(floor.navigable, station.cell)
        for loc in floor.locations:
            assert dist[loc.access_cell] >= 0, (station, loc)


@given(params_strategy)
@settings(max_examples=60, deadline=None)
def test_points_on_free_distinct_cells(params: LayoutParams) -> None:
    """No station, charger or dock is on a blocked cell, and no two share a cell."""
    floor = feasible(params)
    cells = [p.cell for p in floor.points]
    assert len(cells) == len(set(cells))
    assert all(floor.navigable[cell] for cell in cells)
    assert len(floor.stations) == params.stations
    assert len(floor.chargers) == params.chargers
    assert len(floor.docks) == params.docks


@given(params_strategy)
@settings(max_examples=30, deadline=None)
def test_locations_survive_map_round_trip(params: LayoutParams) -> None:
    """A generated floor written as .map and read back has the same storage locations."""
    floor = feasible(params)
    again = parse_map(format_map(floor.terrain), "g.map")
    assert storage_locations(again) == floor.locations


def test_locations_are_rack_faces() -> None:
    """Every location is a rack cell whose access cell is a free 4-neighbour."""
    floor = generate_layout(LayoutParams())
    for loc in floor.locations:
        assert not floor.passable[loc.rack_cell]
        assert floor.passable[loc.access_cell]
        dr = abs(loc.rack_cell[0] - loc.access_cell[0])
        dc = abs(loc.rack_cell[1] - loc.access_cell[1])
        assert dr + dc == 1
    ids = [loc.location_id for loc in floor.locations]
    assert len(ids) == len(set(ids))


def test_default_layout_counts() -> None:
    """The default layout has the racks it promises: 2 faces per rack cell of a pair."""
    params = LayoutParams()
    floor = feasible(params)
    racks = params.blocks_x * params.blocks_y * params.rack_pairs * 2 * params.rack_length
    assert int((floor.terrain == ord("T")).sum()) == racks
    # Each rack cell has one aisle face, plus the two end cells of each row face a cross-aisle.
    assert len(floor.locations) == racks + 2 * (racks // params.rack_length)
    assert np.all(floor.terrain[0] == ord("@"))


def test_bad_parameters_are_input_errors() -> None:
    """A zero or non-integer parameter is an InputError naming the parameter."""
    with pytest.raises(InputError, match="rack_pairs"):
        generate_layout(LayoutParams(rack_pairs=0))
