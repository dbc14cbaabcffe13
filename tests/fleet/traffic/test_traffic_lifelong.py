"""Lifelong harness: steady goal completion, dynamic floor, bad input."""

from __future__ import annotations

import time

import numpy as np
import pytest

from fleet.traffic.check import validate_log
from fleet.traffic.lifelong import (
    AddRobot,
    BlockCells,
    RandomTasks,
    RemoveRobot,
    RoundRobinTasks,
    UnblockCells,
    random_starts,
    run_lifelong,
)
from fleet.traffic.registry import make_planner
from wms.errors import InputError


def free_of(nav: np.ndarray) -> np.ndarray:
    return np.flatnonzero(nav.ravel())


def test_soak_dead_ends_every_robot_keeps_completing(dead_end_floor) -> None:
    """20,000 steps on a dense floor with dead-end goals: every robot completes goals in every
    quarter of the run, and no step has a conflict."""
    nav = dead_end_floor
    count, steps = 8, 20_000
    planner = make_planner("guided", nav, seed=1)
    result = run_lifelong(
        planner,
        nav,
        random_starts(nav, count, 1),
        RandomTasks(free_of(nav), 1),
        steps,
        time.perf_counter,
        record=False,
    )
    assert result.conflicts == 0
    done = result.completions
    for start in range(0, steps, steps // 4):
        window = done[(done[:, 0] >= start) & (done[:, 0] < start + steps // 4)]
        per_robot = np.bincount(window[:, 1], minlength=count)
        assert per_robot.min() >= 10, (start, per_robot)


def test_tree_floor_where_plain_pibt_deadlocks(make_floor) -> None:
    """A floor with no cycle at all (a corridor with dead-end aisles): ours keeps every robot
    completing goals, while plain PIBT, whose guarantee needs cycles, locks up."""
    nav = make_floor(["........", ".T.T.T.T", ".T.T.T.T"])
    count, steps = 3, 4000
    totals = {}
    for name in ("guided", "pibt"):
        result = run_lifelong(
            make_planner(name, nav, seed=0),
            nav,
            random_starts(nav, count, 0),
            RandomTasks(free_of(nav), 0),
            steps,
            time.perf_counter,
            record=False,
        )
        assert result.conflicts == 0
        totals[name] = result.completed
        if name == "guided":
            late = result.completions[result.completions[:, 0] >= steps // 2]
            assert np.bincount(late[:, 1], minlength=count).min() >= 20
    assert totals["guided"] > 10 * totals["pibt"], totals


def test_obstacle_and_robot_removal_mid_run(make_floor) -> None:
    """Blocking cells and taking a robot off-line mid-run: nobody enters them, the off-line
    robot never moves, the rest keep completing, and the log validates."""
    nav = make_floor(["........", "..T..T..", "........", "........"])
    width = nav.shape[1]
    starts = np.array([0, 7, 24, 31, 9, 20])
    wall = tuple(r * width + 3 for r in range(3))
    events = {
        50: [BlockCells(wall), RemoveRobot(4)],
        150: [UnblockCells(wall[:1]), AddRobot(cell=wall[0])],
    }
    planner = make_planner("guided", nav, seed=0)
    result = run_lifelong(
        planner, nav, starts, RandomTasks(free_of(nav), 0), 300, time.perf_counter, events=events
    )
    assert result.conflicts == 0
    positions = result.positions
    assert positions is not None and positions.shape == (301, 7, 2)
    assert (positions[51:, 4] == positions[51, 4]).all()  # off-line robot stays put
    flat = positions[..., 0].astype(np.int64) * width + positions[..., 1]
    flat[:, 4] = -1  # the off-line robot may itself stand in the wall
    assert not np.isin(flat[51:151], wall).any()  # blocked wall never entered
    assert not np.isin(flat[151:], wall[1:]).any()
    assert (positions[:151, 6] == -1).all() and (positions[151:, 6] >= 0).all()
    later = result.completions[result.completions[:, 0] > 150]
    assert set(later[:, 1].tolist()) >= {0, 1, 2, 3, 5}
    assert validate_log(nav, positions, result.goals, result.completions) == []


def test_block_under_a_robot_waits_for_it_to_leave(make_floor) -> None:
    """Blocking the cell a robot stands on takes effect once it has left; no conflict."""
    nav = make_floor(["....", "....", "...."])
    result = run_lifelong(
        make_planner("guided", nav),
        nav,
        np.array([5, 0]),
        RoundRobinTasks(np.array([7, 11, 4, 8]), 2),
        30,
        time.perf_counter,
        events={0: [BlockCells((5,))]},
    )
    assert result.conflicts == 0 and result.completed == 4
    assert result.positions is not None
    flat = result.positions[..., 0] * 4 + result.positions[..., 1]
    left = int(np.argmax(flat[:, 0] != 5))
    assert left > 0 and not (flat[left:] == 5).any()


def test_unreachable_goal_is_reported_and_skipped(make_floor) -> None:
    """A goal in a walled-off part of the floor is reported and skipped, never waited for."""
    nav = make_floor(["...T..", "...T..", "...T.."])
    width = nav.shape[1]
    tasks = np.array([5, 1, 2 * width + 5, 2])  # robot 0 gets tasks 0 and 2 (other side)
    result = run_lifelong(
        make_planner("guided", nav),
        nav,
        np.array([0, width]),
        RoundRobinTasks(tasks, 2),
        20,
        time.perf_counter,
    )
    assert [(robot, task) for _, robot, task, _ in result.skipped] == [(0, 0), (0, 2)]
    assert result.completions[:, 2].tolist() == [1, 3]


def test_time_limit_makes_everyone_wait(make_floor) -> None:
    """A step whose planning overruns the budget is not executed: every robot waits."""
    nav = make_floor(["....", "...."])
    ticks = iter(range(0, 10**6, 5))  # fake clock: every call advances 5 s
    result = run_lifelong(
        make_planner("pibt", nav),
        nav,
        np.array([0, 7]),
        RandomTasks(free_of(nav), 0),
        10,
        lambda: float(next(ticks)),
        time_limit_ms=1000,
    )
    assert result.timeouts == 10
    assert result.positions is not None
    assert (result.positions == result.positions[0]).all()


def test_bad_starts(make_floor) -> None:
    """More robots than free cells, or a start on a blocked cell: one-line InputError."""
    nav = make_floor(["..T", "..."])
    with pytest.raises(InputError, match="only 5 free cells"):
        random_starts(nav, 6, 0)
    with pytest.raises(InputError, match="blocked cell 2"):
        run_lifelong(
            make_planner("pibt", nav),
            nav,
            np.array([0, 2]),
            RandomTasks(free_of(nav), 0),
            1,
            time.perf_counter,
        )
