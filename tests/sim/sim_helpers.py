"""Small floors and hand-built VDA 5050 messages for the simulated-controller tests."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from fleet.protocol import Action, ActionParameter, BlockingType, InstantActions, Order
from fleet.protocol.examples import header
from fleet.protocol.positions import path_nodes_edges
from tests.helpers import plain_bfs
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


def shortest_path(floor: Floor, start: Cell, goal: Cell) -> list[Cell]:
    """A shortest 4-connected path over navigable cells (independent BFS from the goal)."""
    dist = plain_bfs(floor.navigable, goal)
    assert dist[start] >= 0, f"{goal} is unreachable from {start}"
    path = [start]
    while path[-1] != goal:
        r, c = path[-1]
        path.append(
            next(
                n
                for n in ((r - 1, c), (r, c + 1), (r + 1, c), (r, c - 1))
                if floor.is_navigable(n) and dist[n] == dist[r, c] - 1
            )
        )
    return path


def poll(predicate: Callable[[], Any], timeout_s: float = 30.0, step_s: float = 0.02) -> Any:
    """The predicate's first truthy value, polled up to a generous deadline (no timing test)."""
    deadline = time.monotonic() + timeout_s
    while not (result := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s")
        threading.Event().wait(step_s)
    return result
