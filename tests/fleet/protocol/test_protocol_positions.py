"""Cells map to VDA 5050 nodes in metres, and paths become valid orders."""

from __future__ import annotations

import pytest

from fleet.protocol import Order, OrderProgress, Verdict, apply_order
from fleet.protocol.examples import header
from fleet.protocol.orders import order_structure_problem
from fleet.protocol.positions import cell_node_id, cell_of, node_position, path_nodes_edges
from warehouse.config import load_config


@pytest.fixture(scope="module")
def floor():
    return load_config().floor


def test_node_position_is_the_cell_centre_on_the_floor_map(floor) -> None:
    """A node sits at Floor.cell_xy of its cell, on mapId = floor name, and maps back."""
    cell = tuple(int(v) for v in floor.free_cells()[10])
    position = node_position(floor, cell)
    assert (position.x, position.y) == floor.cell_xy(cell)
    assert position.map_id == floor.name
    assert cell_of(floor, position.x, position.y) == cell
    assert cell_of(floor, position.x + 0.4, position.y - 0.4) == cell


def test_path_becomes_a_valid_order_and_update(floor) -> None:
    """A cell path gives nodes/edges that pass the order rules, and an update stitches on."""
    row = [(2, c) for c in range(2, 9)]
    nodes, edges = path_nodes_edges(floor, row[:5], released=3)
    order = Order(header(), "o1", 0, nodes, edges)
    assert order_structure_problem(order) is None
    assert nodes[2].node_id == cell_node_id((2, 4)) and not nodes[3].released
    progress = apply_order(OrderProgress(), order).progress
    nodes, edges = path_nodes_edges(floor, row[2:], released=5, first_sequence_id=4)
    outcome = apply_order(progress, Order(header(), "o1", 1, nodes, edges))
    assert outcome.verdict is Verdict.UPDATED
    assert outcome.progress.base_end == (cell_node_id((2, 8)), 12)


def test_bad_paths_are_refused(floor) -> None:
    """Empty paths, odd start ids and impossible release counts are errors."""
    with pytest.raises(ValueError):
        path_nodes_edges(floor, [], 1)
    with pytest.raises(ValueError):
        path_nodes_edges(floor, [(2, 2)], 1, first_sequence_id=1)
    with pytest.raises(ValueError):
        path_nodes_edges(floor, [(2, 2)], 2)
