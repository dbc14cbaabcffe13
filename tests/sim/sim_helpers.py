"""Small floors and hand-built VDA 5050 messages for the simulated-controller tests."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from fleet.protocol import Action, ActionParameter, BlockingType, InstantActions, Order
from fleet.protocol.examples import header
from fleet.protocol.positions import path_nodes_edges
from wms.layout import Cell, Floor

_ids = itertools.count()


def open_floor(height: int = 6, width: int = 10) -> Floor:
    """An empty floor, every cell free."""
    return Floor("test", np.full((height, width), ord("."), dtype=np.uint8))


def row_path(row: int, first_col: int, last_col: int) -> list[Cell]:
    step = 1 if last_col >= first_col else -1
    return [(row, c) for c in range(first_col, last_col + step, step)]


def action(kind: str, blocking: BlockingType = BlockingType.HARD, **params: Any) -> Action:
    """An action with a fresh actionId; keyword arguments become its parameters."""
    parameters = tuple(ActionParameter(k, v) for k, v in params.items())
    return Action(kind, f"{kind}-{next(_ids)}", blocking, action_parameters=parameters)


def order(
    floor: Floor,
    cells: Sequence[Cell],
    released: int,
    order_id: str = "o1",
    update_id: int = 0,
    first_sequence_id: int = 0,
    node_actions: dict[int, tuple[Action, ...]] | None = None,
) -> Order:
    nodes, edges = path_nodes_edges(floor, cells, released, first_sequence_id, node_actions)
    return Order(header(), order_id, update_id, nodes, edges)


def instant(*actions: Action) -> InstantActions:
    return InstantActions(header(), actions)
