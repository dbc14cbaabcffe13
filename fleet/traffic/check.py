"""Independent move checker: never trusts a planner's own bookkeeping.

It knows only the floor mask, the cells blocked now, and two consecutive
snapshots of the fleet, and re-derives from scratch whether the step was
legal: every robot waits or makes one allowed move into a free cell, no two
robots share a cell, no two swap. It shares no code with the planners (not
even their graph), so a planner bug cannot hide itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from fleet.traffic.planner import ActionModel

# (drow, dcol) for headings 0 north, 1 east, 2 south, 3 west
_HEADING_STEP = np.array([[-1, 0], [0, 1], [1, 0], [0, -1]], dtype=np.int64)


@dataclass(frozen=True)
class Violation:
    """One illegal thing a robot did in one step."""

    step: int
    robot: int
    kind: str
    detail: str


def check_step(
    navigable: np.ndarray,
    before: np.ndarray,
    after: np.ndarray,
    *,
    step: int = 0,
    blocked: np.ndarray | None = None,
    model: ActionModel = ActionModel.GRID4,
    headings_before: np.ndarray | None = None,
    headings_after: np.ndarray | None = None,
    active: np.ndarray | None = None,
) -> list[Violation]:
    """Violations of one step; ``before``/``after`` are ``[N, 2]`` (row, col).

    ``active`` (bool ``[N]``) limits the check to robots on the floor; inactive
    rows are ignored.
    """
    before = np.asarray(before, dtype=np.int64).reshape(-1, 2)
    after = np.asarray(after, dtype=np.int64).reshape(-1, 2)
    robots = np.arange(len(before)) if active is None else np.flatnonzero(active)
    height, width = navigable.shape
    free = np.asarray(navigable, dtype=bool).copy()
    if blocked is not None and len(blocked):
        rc = np.asarray(blocked, dtype=np.int64).reshape(-1, 2)
        free[rc[:, 0], rc[:, 1]] = False
    found: list[Violation] = []
    b, a = before[robots], after[robots]
    inside = (a[:, 0] >= 0) & (a[:, 0] < height) & (a[:, 1] >= 0) & (a[:, 1] < width)
    for k in np.flatnonzero(~inside):
        found.append(Violation(step, int(robots[k]), "off-floor", f"to {tuple(a[k])}"))
    ok = np.zeros(len(robots), dtype=bool)
    ok[inside] = free[a[inside, 0], a[inside, 1]]
    for k in np.flatnonzero(inside & ~ok):
        found.append(Violation(step, int(robots[k]), "blocked", f"in {tuple(a[k])}"))
    delta = a - b
    moved = np.abs(delta).sum(axis=1) != 0
    if model is ActionModel.ROTATION:
        if headings_before is None or headings_after is None:
            raise ValueError("the rotation model needs headings")
        hb = np.asarray(headings_before, dtype=np.int64)[robots] % 4
        ha = np.asarray(headings_after, dtype=np.int64)[robots] % 4
        forward_ok = moved & (ha == hb) & (delta == _HEADING_STEP[hb]).all(axis=1)
        turn = (ha - hb) % 4
        stay_ok = ~moved & (turn != 2)
        bad = ~(forward_ok | stay_ok)
        for k in np.flatnonzero(bad):
            found.append(
                Violation(
                    step,
                    int(robots[k]),
                    "illegal-action",
                    f"{tuple(b[k])} h{hb[k]} -> {tuple(a[k])} h{ha[k]}",
                )
            )
    else:
        bad = np.abs(delta).sum(axis=1) > 1
        for k in np.flatnonzero(bad):
            found.append(Violation(step, int(robots[k]), "jump", f"{tuple(b[k])} -> {tuple(a[k])}"))
    flat_a = a[:, 0] * width + a[:, 1]
    flat_b = b[:, 0] * width + b[:, 1]
    values, counts = np.unique(flat_a, return_counts=True)
    for value, count in zip(values[counts > 1], counts[counts > 1], strict=True):
        sharing = robots[flat_a == value]
        found.append(
            Violation(
                step,
                int(sharing[0]),
                "vertex",
                f"robots {sharing.tolist()} share cell {divmod(int(value), width)} ({count})",
            )
        )
    who_before = np.full(height * width, -1, dtype=np.int64)
    who_before[flat_b[(flat_b >= 0) & (flat_b < height * width)]] = np.arange(len(robots))[
        (flat_b >= 0) & (flat_b < height * width)
    ]
    movers = np.flatnonzero(moved & inside)
    partner = who_before[flat_a[movers]]
    swapped = (partner > movers) & (flat_a[np.maximum(partner, 0)] == flat_b[movers])
    for k, j in zip(movers[swapped].tolist(), partner[swapped].tolist(), strict=True):
        found.append(
            Violation(step, int(robots[k]), "swap", f"robots {int(robots[k])} and {int(robots[j])}")
        )
    return found


def validate_log(
    navigable: np.ndarray,
    positions: np.ndarray,
    goals: np.ndarray,
    completions: np.ndarray,
    headings: np.ndarray | None = None,
) -> list[Violation]:
    """Check a DESIGN §9 plan log: legal steps, and every completion at its goal.

    Rows with a negative row index are robots not on the floor at that step.
    With ``headings`` (``[T+1, N]``, 0 north .. 3 west) the steps are checked in
    the rotation model: a robot moves only straight ahead, or turns a quarter in place.
    """
    positions = np.asarray(positions, dtype=np.int64)
    found: list[Violation] = []
    rotation = headings is not None
    for t in range(positions.shape[0] - 1):
        active = (positions[t, :, 0] >= 0) & (positions[t + 1, :, 0] >= 0)
        found.extend(
            check_step(
                navigable,
                positions[t],
                positions[t + 1],
                step=t,
                active=active,
                model=ActionModel.ROTATION if rotation else ActionModel.GRID4,
                headings_before=None if headings is None else headings[t].astype(np.int64),
                headings_after=None if headings is None else headings[t + 1].astype(np.int64),
            )
        )
    for step, robot, task in np.asarray(completions, dtype=np.int64).reshape(-1, 3).tolist():
        if not 0 <= task < len(goals) or not 0 <= step < positions.shape[0]:
            found.append(Violation(step, robot, "completion", f"task {task} out of range"))
        elif tuple(positions[step, robot]) != tuple(goals[task]):
            found.append(Violation(step, robot, "completion", f"task {task} not at its goal"))
    return found


def validate_errands(
    positions: np.ndarray,
    errands: np.ndarray,
    task_errands: Callable[[int], Sequence[tuple[int, int]]],
    completions: np.ndarray,
) -> list[Violation]:
    """Check the errand log of multi-errand tasks: ``errands`` rows (timestep, robot, task).

    Each visit must find the robot on the task's next errand cell, one robot
    per task, errands in order; a task is complete exactly when its last
    errand is visited, at that timestep. ``task_errands(task)`` gives the
    task's (row, col) errands in order.
    """
    positions = np.asarray(positions, dtype=np.int64)
    found: list[Violation] = []
    progress: dict[int, tuple[int, int]] = {}
    finished: dict[int, tuple[int, int]] = {}
    for step, robot, task in np.asarray(errands, dtype=np.int64).reshape(-1, 3).tolist():
        owner, index = progress.get(task, (robot, 0))
        cells = task_errands(task)
        if owner != robot:
            found.append(Violation(step, robot, "errand", f"task {task} also done by {owner}"))
            continue
        if task in finished or index >= len(cells):
            found.append(Violation(step, robot, "errand", f"task {task} visited after its end"))
            continue
        if tuple(positions[step, robot]) != tuple(cells[index]):
            found.append(Violation(step, robot, "errand", f"task {task} errand {index} not here"))
        progress[task] = (robot, index + 1)
        if index + 1 == len(cells):
            finished[task] = (step, robot)
    done = {int(task): (int(step), int(robot)) for step, robot, task in completions.tolist()}
    if done != finished:
        found.append(Violation(-1, -1, "errand", "completions differ from last-errand visits"))
    return found
