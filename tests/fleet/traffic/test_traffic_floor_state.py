"""FloorState: run-time blocks, pending blocks, robots on and off line, reachability."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleet.traffic import floor_state as floor_state_module
from fleet.traffic.floor_state import BlockChange, FloorState, GoalIssue
from tests.fleet.traffic.helpers import random_fleet, scenarios
from tests.helpers import plain_bfs
from wms.errors import InputError

# 3 x 5; column 2 is a wall except row 1, so (1, 2) = cell 7 is the only way across.
BRIDGE = ["..T..", ".....", "..T.."]


@pytest.fixture
def bridge(make_floor) -> np.ndarray:
    """The BRIDGE floor's navigable mask."""
    return make_floor(BRIDGE)


def test_block_under_a_robot_waits_until_it_has_left(bridge) -> None:
    """A block on a robot's cell is pending, and effective once the robot moved away."""
    floor = FloorState(bridge, np.array([7, 0]))
    change = floor.block([7, 6, 2])  # 2 is a wall: ignored
    assert change == BlockChange(effective=(6,), pending=(7,))
    assert floor.obstacles().tolist() == [6]
    assert floor.settle() == ()
    floor.move(np.array([0]), np.array([8]))
    assert floor.settle() == (7,)
    assert floor.obstacles().tolist() == [6, 7] and floor.pending == frozenset()


def test_unblock_lifts_effective_and_pending_blocks(bridge) -> None:
    """Unblocking removes a block whether it was effective or still pending."""
    floor = FloorState(bridge, np.array([7]))
    floor.block([6, 7])
    floor.unblock([6, 7, 0])
    floor.move(np.array([0]), np.array([8]))
    assert floor.settle() == () and floor.obstacles().size == 0


def test_goal_issue_says_blocked_or_unreachable(bridge) -> None:
    """A goal on an obstacle is 'blocked', one cut off by obstacles is 'unreachable'."""
    floor = FloorState(bridge, np.array([0]))
    assert floor.goal_issue(0, 4) is None and floor.reachable(0, 4)
    floor.block([7])
    assert floor.goal_issue(0, 7) is GoalIssue.BLOCKED
    assert floor.goal_issue(0, 4) is GoalIssue.UNREACHABLE and not floor.reachable(0, 4)
    assert floor.goal_issue(0, 5) is None
    floor.unblock([7])
    assert floor.reachable(0, 4)


def test_offline_robot_is_an_obstacle_until_back_online(bridge) -> None:
    """An off-line robot's cell is an obstacle (cutting the bridge) until it comes back."""
    floor = FloorState(bridge, np.array([7, 0]))
    floor.set_online(0, False)
    assert floor.obstacles().tolist() == [7]
    assert floor.goal_issue(0, 4) is GoalIssue.UNREACHABLE
    request = floor.plan_request(np.array([4, 3]), rotation=False, held=np.array([False, True]))
    assert request.robot_ids.tolist() == [1] and request.blocked.tolist() == [7]
    assert request.goals.tolist() == [3] and request.held.tolist() == [True]
    with pytest.raises(InputError, match="off line"):
        floor.move(np.array([0]), np.array([8]))
    floor.set_online(0, True)
    assert floor.obstacles().size == 0 and floor.reachable(0, 4)


def test_robot_back_online_on_a_blocked_cell_makes_the_block_pending(bridge) -> None:
    """A cell blocked under an off-line robot holds again only once the robot has left."""
    floor = FloorState(bridge, np.array([7]))
    floor.set_online(0, False)
    assert floor.block([7]).effective == (7,)
    floor.set_online(0, True)
    assert floor.pending == {7} and floor.obstacles().size == 0
    floor.move(np.array([0]), np.array([6]))
    assert floor.settle() == (7,)


@pytest.mark.parametrize(
    ("cell", "message"),
    [(99, "off the floor"), (2, "not navigable"), (6, "is blocked"), (0, "taken by robot 0")],
)
def test_add_robot_refuses_cells_that_are_not_free(bridge, cell: int, message: str) -> None:
    """Adding a robot off the map, on a wall, an obstacle or another robot is an InputError
    and adds nothing."""
    floor = FloorState(bridge, np.array([0]))
    floor.block([6])
    with pytest.raises(InputError, match=message):
        floor.add_robot(cell)
    assert floor.ids.tolist() == [0]


def test_add_robot_takes_the_next_id_and_keeps_arrays_aligned(bridge) -> None:
    """Added robots get increasing ids; ids, cells, headings and online stay aligned."""
    floor = FloorState(bridge, np.array([0, 4]), np.array([1, 6]))
    assert floor.indices(np.array([1])).tolist() == [1]
    assert floor.add_robot(10, heading=7) == 2
    assert floor.add_robot(14, robot=9) == 9
    assert floor.add_robot(11) == 10
    assert floor.ids.tolist() == [0, 1, 2, 9, 10]
    assert floor.cells.tolist() == [0, 4, 10, 14, 11]
    assert floor.headings.tolist() == [1, 2, 3, 0, 0]
    assert floor.indices(np.array([9, 0])).tolist() == [3, 0]
    with pytest.raises(InputError, match="exists already"):
        floor.add_robot(13, robot=9)


def test_move_refuses_an_impossible_floor_and_changes_nothing(bridge) -> None:
    """Two robots on one cell, a robot on an obstacle or an unknown robot: refused, no change."""
    floor = FloorState(bridge, np.array([0, 1]))
    floor.block([5])
    for robots, cells, message in [
        ([0], [1], "two robots"),
        ([0], [5], "not free"),
        ([3], [6], "unknown robot 3"),
    ]:
        with pytest.raises(InputError, match=message):
            floor.move(np.array(robots), np.array(cells))
    assert floor.cells.tolist() == [0, 1]
    with pytest.raises(ValueError, match="read-only"):
        floor.cells[0] = 3  # the arrays handed out are read-only


def test_reachability_is_recomputed_only_when_obstacles_change(bridge, monkeypatch) -> None:
    """Component labelling runs again only after the obstacles changed, not per query or move."""
    calls = []
    label = floor_state_module.ndimage.label

    def counting(mask):
        calls.append(1)
        return label(mask)

    monkeypatch.setattr(floor_state_module.ndimage, "label", counting)
    floor = FloorState(bridge, np.array([0]))
    for _ in range(3):
        floor.reachable(0, 4)
    floor.move(np.array([0]), np.array([1]))
    floor.goal_issue(1, 4)
    assert len(calls) == 1
    floor.block([7])
    floor.reachable(0, 4)
    floor.unblock([3])  # not blocked: no change
    floor.reachable(0, 4)
    assert len(calls) == 2


OPS = st.lists(
    st.tuples(
        st.sampled_from(["block", "unblock", "add", "offline", "online", "move", "settle"]),
        st.integers(0, 1000),
        st.integers(0, 1000),
    ),
    max_size=40,
)


def _snapshot(floor: FloorState) -> tuple:
    arrays = (floor.ids, floor.cells, floor.headings, floor.online)
    return (*(a.tolist() for a in arrays), floor.blocked, floor.pending)


def _apply(floor: FloorState, op: str, a: int, b: int, size: int) -> None:
    robots = floor.ids.tolist() or [0]
    robot = robots[a % len(robots)]
    if op == "block":
        floor.block([a % size, b % size])
    elif op == "unblock":
        floor.unblock([a % size])
    elif op == "add":
        floor.add_robot(a % (size + 2), heading=b)  # sometimes off the map
    elif op in ("offline", "online"):
        floor.set_online(robot, op == "online")
    elif op == "move":
        floor.move(np.array([robot]), np.array([b % size]))
    else:
        floor.settle()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), OPS)
def test_random_operations_keep_the_floor_consistent(scenario, ops) -> None:
    """Any sequence of operations: refused ones change nothing; robots never share a cell;
    no on-line robot stands on an effective block; after settle every pending block has its
    robot on it; obstacles are blocks plus off-line robots; reachability agrees with a
    plain BFS around the obstacles."""
    nav, count, seed = scenario
    _, free, cells, heads = random_fleet(nav, count, seed)
    floor = FloorState(nav, cells, heads)
    size, width = nav.size, nav.shape[1]
    for op, a, b in ops:
        before = _snapshot(floor)
        try:
            _apply(floor, op, a, b, size)
        except InputError:
            assert _snapshot(floor) == before, op
        cells = floor.cells
        assert np.unique(cells).size == cells.size
        on_line = set(cells[floor.online].tolist())
        assert not on_line & floor.blocked
        offline = set(cells[~floor.online].tolist())
        assert floor.obstacles().tolist() == sorted(floor.blocked | offline)
    floor.settle()
    assert floor.pending <= set(floor.cells[floor.online].tolist())
    open_floor = nav.copy().ravel()
    open_floor[floor.obstacles()] = False
    open_floor = open_floor.reshape(nav.shape)
    start = int(free[seed % free.size])
    if open_floor.ravel()[start]:
        dist = plain_bfs(open_floor, divmod(start, width)).ravel()
        for goal in free.tolist():
            assert floor.reachable(start, goal) == (dist[goal] >= 0)
            issue = floor.goal_issue(start, goal)
            expected = None if dist[goal] >= 0 else GoalIssue.UNREACHABLE
            if not open_floor.ravel()[goal]:
                expected = GoalIssue.BLOCKED
            assert issue is expected
