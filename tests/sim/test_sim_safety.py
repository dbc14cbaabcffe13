"""The independent safety check: shared cells, swaps, jumps and blocked cells in samples."""

from __future__ import annotations

import numpy as np
from sim_helpers import open_floor, order, row_path

from fleet.protocol.examples import header
from fleet.protocol.positions import cell_of
from sim.controller import SimRobot
from sim.safety import SafetyMonitor, ViolationKind, check_samples


def kinds(samples: list[tuple[float, dict[str, tuple[int, int]]]]) -> list[ViolationKind]:
    return [v.kind for v in check_samples(samples)]


def test_clean_trace_with_following_has_no_violation() -> None:
    """A robot moving into the cell another leaves in the same sample is safe (a train)."""
    samples = [
        (0.0, {"a": (0, 0), "b": (0, 1)}),
        (1.0, {"a": (0, 1), "b": (0, 2)}),
        (2.0, {"a": (1, 1), "b": (0, 2)}),
    ]
    assert kinds(samples) == []


def test_shared_cell_is_flagged_once_per_episode() -> None:
    """Two robots in one cell: one violation when it starts, another only if it starts again."""
    samples = [
        (0.0, {"a": (0, 0), "b": (0, 1)}),
        (1.0, {"a": (0, 1), "b": (0, 1)}),
        (2.0, {"a": (0, 1), "b": (0, 1)}),
        (3.0, {"a": (0, 0), "b": (0, 1)}),
        (4.0, {"a": (0, 1), "b": (0, 1)}),
    ]
    violations = check_samples(samples)
    assert [(v.kind, v.time_s, v.robots) for v in violations] == [
        (ViolationKind.SHARED_CELL, 1.0, ("a", "b")),
        (ViolationKind.SHARED_CELL, 4.0, ("a", "b")),
    ]


def test_swap_between_two_samples_is_flagged_once() -> None:
    """Two robots exchanging cells never share one in a sample, yet collide: one SWAP."""
    samples = [(0.0, {"a": (2, 2), "b": (2, 3)}), (1.0, {"a": (2, 3), "b": (2, 2)})]
    violations = check_samples(samples)
    assert [(v.kind, v.robots, v.cells) for v in violations] == [
        (ViolationKind.SWAP, ("a", "b"), ((2, 2), (2, 3)))
    ]


def test_jump_and_blocked_cell_are_flagged() -> None:
    """Moving two cells between samples is a JUMP; standing on a blocked cell is flagged."""
    navigable = np.ones((3, 3), dtype=bool)
    navigable[1, 1] = False
    monitor = SafetyMonitor(navigable)
    monitor.observe(0.0, {"a": (0, 0)})
    assert [v.kind for v in monitor.observe(1.0, {"a": (0, 2)})] == [ViolationKind.JUMP]
    assert [v.kind for v in monitor.observe(2.0, {"a": (1, 2)})] == []
    assert [v.kind for v in monitor.observe(3.0, {"a": (1, 1)})] == [ViolationKind.BLOCKED_CELL]


def test_cells_read_from_reported_states_reveal_a_swap() -> None:
    """Two sim robots sent through each other, sampled from their agvPosition: a SWAP."""
    floor = open_floor()
    a, b = SimRobot(floor, (2, 2)), SimRobot(floor, (2, 3))
    a.on_order(order(floor, row_path(2, 2, 4), released=3))
    b.on_order(order(floor, row_path(2, 3, 1), released=3))
    samples = []
    for tick in range(4):
        for bot in (a, b):
            bot.advance(float(tick))
        states = {name: bot.state(header()) for name, bot in (("a", a), ("b", b))}
        cells = {
            name: cell_of(floor, s.agv_position.x, s.agv_position.y)
            for name, s in states.items()
            if s.agv_position is not None
        }
        samples.append((float(tick), cells))
    assert kinds(samples) == [ViolationKind.SWAP]
