"""MovingAI .map reading and writing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wms.errors import InputError
from wms.layout import floor_from_map_file, format_map, parse_map, read_map, write_map
from wms.layout.grid import KNOWN_TERRAIN

terrain_rows = st.integers(1, 12).flatmap(
    lambda width: st.lists(
        st.text(alphabet=sorted(KNOWN_TERRAIN), min_size=width, max_size=width),
        min_size=1,
        max_size=12,
    )
)


@given(terrain_rows)
@settings(max_examples=80, deadline=None)
def test_round_trip_is_identical(rows: list[str]) -> None:
    """read → write → read gives the same terrain, and the text is byte-identical."""
    text = f"type octile\nheight {len(rows)}\nwidth {len(rows[0])}\nmap\n" + "\n".join(rows) + "\n"
    terrain = parse_map(text, "t.map")
    assert format_map(terrain) == text
    assert np.array_equal(parse_map(format_map(terrain), "t.map"), terrain)


def test_robot_runners_markers_are_free() -> None:
    """E and S cells (Robot Runners emitters and service points) are passable."""
    floor_terrain = parse_map("type octile\nheight 1\nwidth 4\nmap\nES@.\n", "rr.map")
    from wms.layout.grid import passable_mask

    assert passable_mask(floor_terrain).tolist() == [[True, True, False, True]]


def test_write_then_read_file(tmp_path) -> None:
    """A map written to disk reads back equal."""
    terrain = parse_map("type octile\nheight 2\nwidth 3\nmap\n.T.\n@..\n", "x")
    path = tmp_path / "x.map"
    write_map(terrain, path)
    assert np.array_equal(read_map(path), terrain)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("type octile\nheight 2\nwidth 3\nmap\n...\n..\n", "row has 2 cells"),
        ("type octile\nheight 3\nwidth 3\nmap\n...\n...\n", "the map has 2 rows"),
        ("type octile\nheight 1\nwidth 3\nmap\n.X.\n", "unknown terrain 'X'"),
        ("typo octile\nheight 1\nwidth 1\nmap\n.\n", "bad header line"),
        ("type octile\nwidth 1\nmap\n.\n", "no 'height' line"),
        ("type octile\nheight one\nwidth 1\nmap\n.\n", "not an integer"),
        ("hello\n", "bad header line"),
        ("type octile\nheight 1\nwidth 1\n", "missing 'map' line"),
    ],
)
def test_malformed_maps_name_the_problem(text: str, fragment: str) -> None:
    """Each malformed .map raises InputError whose message names the file and the fault."""
    with pytest.raises(InputError) as caught:
        parse_map(text, "bad.map")
    assert "bad.map" in str(caught.value)
    assert fragment in str(caught.value)


def test_missing_file_is_input_error(tmp_path) -> None:
    """A missing file is an InputError naming the path."""
    with pytest.raises(InputError, match="file not found"):
        read_map(tmp_path / "nope.map")


def test_every_shared_benchmark_map_loads(shared_dir) -> None:
    """Every public map under ../shared/benchmarks loads and has free cells."""
    maps = sorted((shared_dir / "benchmarks").rglob("*.map"))
    assert maps, "no .map files found under shared/benchmarks"
    for path in maps:
        floor = floor_from_map_file(path)
        assert floor.free_cell_count > 0, path
        assert format_map(floor.terrain) == path.read_text().rstrip("\n") + "\n"


def test_known_free_cell_counts(shared_dir) -> None:
    """Free-cell counts of the MovingAI warehouse maps match the published figures."""
    expected = {
        "warehouse-10-20-10-2-1": 5699,
        "warehouse-10-20-10-2-2": 9776,
        "warehouse-20-40-10-2-1": 22599,
        "warehouse-20-40-10-2-2": 38756,
    }
    for name, free in expected.items():
        floor = floor_from_map_file(shared_dir / "benchmarks/movingai/maps" / f"{name}.map")
        assert floor.free_cell_count == free
