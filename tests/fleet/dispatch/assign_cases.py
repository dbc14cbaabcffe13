"""Small floors, random assignment requests and an independent rule checker for the assign tests."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from fleet.dispatch.assign import Assignment, AssignRequest, EnergyModel, RobotOffer, TaskOffer
from fleet.dispatch.kinds import RobotKind
from tests.helpers import plain_bfs

ROWS = [
    "..........",
    ".##.###.#.",
    "..........",
    "##.#.#..##",
    "..#.......",
    "..#..###..",
]
"""A little floor with a pocket cut off at the bottom left (rows 4–5, columns 0–1)."""

UNREACHABLE_WORK = 2**30


def grid(rows: list[str]) -> np.ndarray:
    """Navigable mask: ``.`` free, anything else blocked."""
    return np.array([[ch == "." for ch in row] for row in rows], dtype=bool)


FLOOR = grid(ROWS)
CELLS = [(int(r), int(c)) for r, c in np.argwhere(np.ones_like(FLOOR))]
CHARGERS = [(0, 0), (2, 9)]


def bfs_distance(navigable: np.ndarray, a: tuple[int, int], b: tuple[int, int]) -> int | None:
    """Independent BFS distance; ``None`` when there is no path."""
    d = int(plain_bfs(navigable, a)[b])
    return None if d < 0 else d


def nearest_charger(navigable: np.ndarray, cell: tuple[int, int]) -> int | None:
    found = [d for c in CHARGERS if (d := bfs_distance(navigable, cell, c)) is not None]
    return min(found) if found else None


def allowed(
    request: AssignRequest, robot: RobotOffer, task: TaskOffer, navigable: np.ndarray
) -> bool:
    """Every hard rule, checked from scratch with BFS (no code shared with the assigners)."""
    if task.needs is not None and robot.kind != task.needs:
        return False
    if task.pinned_to is not None and task.pinned_to != robot.robot_id:
        return False
    if robot.max_payload_kg < task.payload_kg:
        return False
    empty = bfs_distance(navigable, robot.cell, task.first_cell)
    if empty is None or task.work_cells >= UNREACHABLE_WORK:
        return False
    back = 0
    if request.charger_distance is not None:
        back = nearest_charger(navigable, task.last_cell)
        if back is None:
            return False
    used = request.energy.pct_per_cell * (robot.free_in_cells + empty + task.work_cells + back)
    return robot.battery_pct - used >= request.energy.reserve_pct


def check_rules(
    request: AssignRequest, result: Assignment, navigable: np.ndarray, free_only: bool
) -> None:
    """Assert the guarantees both strategies make (``free_only``: the greedy baseline's)."""
    robots = {r.robot_id: r for r in request.robots}
    tasks = {t.task_id: t for t in request.tasks}
    assert len(set(result.robot_of.values())) == len(result.robot_of), "a robot got two tasks"
    for task_id, robot_id in result.robot_of.items():
        robot, task = robots[robot_id], tasks[task_id]
        assert allowed(request, robot, task, navigable), (task_id, robot_id)
        if free_only and robot.held_task != task_id:
            assert robot.free_in_cells == 0, "greedy gave new work to a busy robot"
    refused = {r.task_id for r in result.refused}
    assert len(refused) == len(result.refused)
    for task in request.tasks:
        can = any(allowed(request, r, task, navigable) for r in request.robots)
        assert (task.task_id in refused) == (not can), task.task_id
    busy = set(result.robot_of.values())
    for robot in request.robots:
        if robot.robot_id in busy or (free_only and robot.free_in_cells > 0):
            continue
        for task in request.tasks:
            if task.task_id not in result.robot_of:
                assert not allowed(request, robot, task, navigable), "left idle with work"


@st.composite
def requests(draw: st.DrawFn, max_robots: int = 6, max_tasks: int = 8) -> AssignRequest:
    """Random requests on `FLOOR`: any cells (blocked too), kinds, payloads, batteries, holds."""
    from fleet.dispatch.distances import FloorDistances

    kinds = st.sampled_from(list(RobotKind))
    n_robots = draw(st.integers(0, max_robots))
    robots = []
    for i in range(n_robots):
        robots.append(
            RobotOffer(
                f"r{i}",
                draw(st.sampled_from(CELLS)),
                draw(kinds),
                draw(st.sampled_from([20.0, 50.0, 400.0])),
                draw(st.floats(0, 100)),
                draw(st.sampled_from([0, 0, 0, 3, 12])),
            )
        )
    tasks = []
    holders: dict[str, str] = {}
    for j in range(draw(st.integers(0, max_tasks))):
        holder = draw(st.sampled_from([None, *[r.robot_id for r in robots]]))
        if holder in holders.values():
            holder = None
        if holder is not None:
            holders[f"t{j}"] = holder
        tasks.append(
            TaskOffer(
                f"t{j}",
                draw(st.sampled_from(CELLS)),
                draw(st.sampled_from(CELLS)),
                draw(st.sampled_from([0, 4, 15, 60, UNREACHABLE_WORK])),
                draw(st.sampled_from([None, *RobotKind])),
                draw(st.sampled_from([0.0, 30.0, 100.0])),
                draw(st.integers(0, 2)),
                draw(st.sampled_from([None, 5.0, 40.0])),
                draw(st.floats(0, 300)),
                holder,
                draw(st.sampled_from([None, None, None, "r0", "r9"])),
            )
        )
    robots = [
        RobotOffer(r.robot_id, r.cell, r.kind, r.max_payload_kg, r.battery_pct, r.free_in_cells, t)
        for r in robots
        for t in [next((k for k, v in holders.items() if v == r.robot_id), None)]
    ]
    chargers = draw(st.booleans())
    table = FloorDistances(FLOOR).table_to_nearest(CHARGERS) if chargers else None
    return AssignRequest(
        tuple(robots),
        tuple(tasks),
        now_s=draw(st.sampled_from([0.0, 20.0])),
        seconds_per_cell=1.0,
        energy=EnergyModel(draw(st.sampled_from([0.0, 0.5, 2.0])), draw(st.sampled_from([0, 20]))),
        charger_distance=table,
    )
