"""Zone polygons rasterised onto the grid."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wms.errors import InputError
from wms.layout import ZoneKind
from wms.layout.grid import cell_centre_xy, xy_to_cell
from wms.layout.zones import make_zone


@given(
    st.integers(1, 20),
    st.integers(1, 20),
    st.data(),
    st.sampled_from([0.5, 1.0, 2.0]),
)
@settings(max_examples=100, deadline=None)
def test_rectangle_covers_exactly_its_cells(
    height: int, width: int, data: st.DataObject, size: float
) -> None:
    """An axis-aligned rectangle on cell borders covers exactly the cells inside it."""
    r0 = data.draw(st.integers(0, height - 1))
    r1 = data.draw(st.integers(r0 + 1, height))
    c0 = data.draw(st.integers(0, width - 1))
    c1 = data.draw(st.integers(c0 + 1, width))
    x0, x1 = c0 * size, c1 * size
    y0, y1 = (height - r1) * size, (height - r0) * size
    zone = make_zone(
        "z", ZoneKind.PICK, [[x0, y0], [x1, y0], [x1, y1], [x0, y1]], (height, width), size
    )
    expected = np.zeros((height, width), dtype=bool)
    expected[r0:r1, c0:c1] = True
    assert np.array_equal(zone.mask, expected)


@given(st.integers(1, 30), st.integers(1, 30), st.data())
@settings(max_examples=100, deadline=None)
def test_cell_centre_round_trip(height: int, width: int, data: st.DataObject) -> None:
    """A cell's centre maps back to the same cell."""
    cell = (data.draw(st.integers(0, height - 1)), data.draw(st.integers(0, width - 1)))
    assert xy_to_cell((height, width), cell_centre_xy((height, width), cell, 0.8), 0.8) == cell


def test_triangle_uses_cell_centres() -> None:
    """A triangle includes a cell exactly when it contains the cell centre."""
    zone = make_zone("t", ZoneKind.NO_GO, [[0, 0], [4, 0], [0, 4]], (4, 4), 1.0)
    # Row 3 is the south row (y in 0..1): centres at x=0.5..3.5, y=0.5; x+y<=4 holds for x<=3.5.
    assert zone.mask[3].tolist() == [True, True, True, True]
    assert zone.mask[0].tolist() == [True, False, False, False]


@pytest.mark.parametrize(
    ("vertices", "fragment"),
    [
        ([[0, 0], [11, 0], [11, 2], [0, 2]], "outside the floor"),
        ([[-1, 0], [2, 0], [2, 2]], "outside the floor"),
        ([[0, 0], [1, 1]], "at least 3 vertices"),
        ([[0, 0], [2, 2], [2, 0], [0, 2]], "not a simple polygon"),
    ],
)
def test_bad_polygons_are_input_errors(vertices, fragment: str) -> None:
    """Polygons off the floor, degenerate or self-crossing are rejected with a reason."""
    with pytest.raises(InputError, match=fragment):
        make_zone("bad", ZoneKind.PICK, vertices, (10, 10), 1.0, source="cfg.toml: floor.zones[0]")


def test_no_go_zone_removes_cells_from_navigable(tmp_path) -> None:
    """Cells of a no-go zone are passable terrain but not navigable."""
    from warehouse.config import load_config

    config = tmp_path / "c.toml"
    config.write_text(
        "[floor]\n[floor.layout]\n[[floor.zones]]\nname='spill'\nkind='no_go'\n"
        "polygon=[[3,1],[6,1],[6,2],[3,2]]\n"
    )
    floor = load_config(config).floor
    zone = floor.zones[0]
    assert zone.cell_count == 3
    assert not floor.navigable[zone.mask].any()
    assert floor.passable[zone.mask].all()
