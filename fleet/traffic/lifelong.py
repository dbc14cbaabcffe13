"""Lifelong MAPF harness: task stream, step loop, timing, checking, plan log.

Follows the Robot Runners conventions (DESIGN §9): a task is a goal cell; a
robot that reaches its goal completes the task and gets its next one at once;
throughput = tasks completed / timesteps; a planning step that overruns the
time budget makes every robot wait that step. Every step is checked by the
independent `check_step`; a step with any violation is not executed (every
robot waits) and the violations are counted.

The floor is dynamic: `BlockCells`/`UnblockCells` events change obstacles (a
cell under an on-line robot is blocked as soon as the robot has left it),
`RemoveRobot` takes a robot off-line (it stays where it is as an obstacle),
`AddRobot` puts a new one on a free cell, all without restarting the planner.
A goal that is blocked or cut off from its robot is reported and skipped.
Those floor rules live in `FloorState`, which the fleet manager shares; this
module adds tasks, timing, checking and the log.

The clock is passed in (the library owns no clock), so tests can run it on a
fake one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from fleet.traffic.check import Violation, check_step
from fleet.traffic.floor_state import FloorState
from fleet.traffic.graph import row_col
from fleet.traffic.planner import ActionModel, Planner
from wms.errors import InputError

NO_TASK = -1
SKIP_ATTEMPTS = 32


class TaskStream(Protocol):
    """Where robots' goals come from."""

    def next_task(self, robot: int) -> tuple[int, int]:
        """(task index, flat goal cell) for ``robot``, or ``(NO_TASK, -1)`` when none is left."""
        ...

    def goal_cells(self) -> np.ndarray:
        """Flat goal cells of every task handed out so far, in task-index order."""
        ...


@runtime_checkable
class ScheduledStream(TaskStream, Protocol):
    """A stream that schedules tasks of several errands itself (Robot Runners 2024).

    The harness calls `schedule` every step before planning (its time counts
    in the step), `arrive` when a robot stands on its current goal (True when
    that finished the task; only then is a completion counted), and
    `next_task` for the robot's goal afterwards (``NO_TASK``: none yet).
    """

    errand_visits: list[tuple[int, int, int]]

    def schedule(
        self, step: int, robot_ids: np.ndarray, cells: np.ndarray, clock: Callable[[], float]
    ) -> dict[int, tuple[int, int]]:
        """Robot id → its new (task, goal) for every robot whose goal changed."""
        ...

    def arrive(self, robot: int, step: int) -> bool: ...


@runtime_checkable
class GoalLookahead(Protocol):
    """A stream that knows goals robots will need soon (the later errands of tasks it
    has given out), so the harness can let the planner prepare them in spare time."""

    def upcoming_goals(self, limit: int) -> np.ndarray:
        """Up to ``limit`` flat goal cells, soonest needed first."""
        ...

    def goals_ready(self, count: int) -> None:
        """The first ``count`` cells of the last `upcoming_goals` are prepared."""
        ...


PREFETCH_LOOK = 256
"""Upcoming goals offered to the planner per step at most."""


class RandomTasks:
    """One seeded queue of uniform random free cells; whoever finishes takes the next."""

    def __init__(self, free_cells: np.ndarray, seed: int = 0) -> None:
        if len(free_cells) == 0:
            raise InputError("map", "no free cells for goals")
        self._free = np.asarray(free_cells, dtype=np.int64)
        self._rng = np.random.default_rng([seed, 1])  # a stream apart from the starts'
        self._drawn: list[int] = []
        self._buffer: list[int] = []

    def next_task(self, robot: int) -> tuple[int, int]:
        if not self._buffer:
            self._buffer = self._free[self._rng.integers(0, len(self._free), 4096)].tolist()[::-1]
        cell = self._buffer.pop()
        self._drawn.append(cell)
        return len(self._drawn) - 1, cell

    def goal_cells(self) -> np.ndarray:
        return np.asarray(self._drawn, dtype=np.int64)


class RoundRobinTasks:
    """A fixed task list; robot ``k`` of ``n`` gets tasks ``k, k+n, k+2n, ...`` (Robot Runners)."""

    def __init__(self, tasks: np.ndarray, team_size: int) -> None:
        self._tasks = np.asarray(tasks, dtype=np.int64)
        self._team = team_size
        self._next: dict[int, int] = {}
        self._highest = -1

    def next_task(self, robot: int) -> tuple[int, int]:
        index = self._next.get(robot, robot)
        if robot >= self._team or index >= len(self._tasks):
            return NO_TASK, -1
        self._next[robot] = index + self._team
        self._highest = max(self._highest, index)
        return index, int(self._tasks[index])

    def goal_cells(self) -> np.ndarray:
        return self._tasks[: self._highest + 1].copy()


@dataclass(frozen=True)
class BlockCells:
    cells: tuple[int, ...]


@dataclass(frozen=True)
class UnblockCells:
    cells: tuple[int, ...]


@dataclass(frozen=True)
class RemoveRobot:
    """Robot goes off-line where it stands; its cell becomes an obstacle."""

    robot: int


@dataclass(frozen=True)
class AddRobot:
    cell: int
    heading: int = 0


Event = BlockCells | UnblockCells | RemoveRobot | AddRobot


@dataclass
class LifelongResult:
    """What a run produced; ``positions`` etc. are the DESIGN §9 plan log."""

    agents: int
    steps: int
    completed: int
    plan_ms: np.ndarray
    conflicts: int
    timeouts: int
    violations: list[Violation]
    skipped: list[tuple[int, int, int, str]]
    completions: np.ndarray
    goals: np.ndarray
    positions: np.ndarray | None
    per_robot_completed: np.ndarray
    extra: dict[str, float] = field(default_factory=dict)
    headings: np.ndarray | None = None
    """int8 ``[T+1, N]`` (rotation model, when recorded): 0 north, 1 east, 2 south, 3 west."""
    errands: np.ndarray | None = None
    """int32 ``[E, 3]`` (timestep, robot, task) per errand visit (scheduled streams)."""

    @property
    def throughput(self) -> float:
        return self.completed / self.steps if self.steps else 0.0

    def summary(self) -> dict[str, float | int]:
        ms = self.plan_ms if self.plan_ms.size else np.zeros(1)
        return {
            "agents": self.agents,
            "steps": self.steps,
            "completed": self.completed,
            "throughput": round(self.throughput, 4),
            "plan_ms_p50": round(float(np.percentile(ms, 50)), 3),
            "plan_ms_p95": round(float(np.percentile(ms, 95)), 3),
            "plan_ms_max": round(float(ms.max()), 3),
            "conflicts": self.conflicts,
            "timeouts": self.timeouts,
            "skipped_goals": len(self.skipped),
        }


def run_lifelong(
    planner: Planner,
    navigable: np.ndarray,
    starts: np.ndarray,
    tasks: TaskStream,
    steps: int,
    clock: Callable[[], float],
    *,
    time_limit_ms: float | None = None,
    headings: np.ndarray | None = None,
    events: Mapping[int, Sequence[Event]] | None = None,
    record: bool = True,
    progress: Callable[[int], None] | None = None,
    prefetch_ms: float | None = None,
) -> LifelongResult:
    """Run ``steps`` timesteps of lifelong operation; see the module docstring.

    ``starts`` are flat cells, distinct and free (`InputError` otherwise).
    ``clock()`` returns seconds; only differences are used. ``prefetch_ms``
    (with a `GoalLookahead` stream): after planning, the planner prepares
    upcoming goals (`Planner.prefetch`) until this long after the step began;
    that time counts in the step.
    """
    floor = FloorState(navigable, starts, headings)
    navigable = floor.navigable
    width = floor.width
    rotation = planner.model is ActionModel.ROTATION
    goals = np.full(len(floor.ids), -1, dtype=np.int64)
    task_of = np.full(len(floor.ids), NO_TASK, dtype=np.int64)
    skipped: list[tuple[int, int, int, str]] = []
    completions: list[tuple[int, int, int]] = []
    plan_ms: list[float] = []
    violations: list[Violation] = []
    conflicts = timeouts = 0
    log: list[np.ndarray] = []
    head_log: list[np.ndarray] = []
    events = events or {}
    scheduled = tasks if isinstance(tasks, ScheduledStream) else None
    lookahead = tasks if prefetch_ms and isinstance(tasks, GoalLookahead) else None

    def assign(robot: int, step: int) -> None:
        robot_id, cell = int(floor.ids[robot]), int(floor.cells[robot])
        for _ in range(SKIP_ATTEMPTS):
            task, goal = tasks.next_task(robot_id)
            if task == NO_TASK:
                break
            issue = floor.goal_issue(cell, goal)
            if issue is not None:
                skipped.append((step, robot_id, task, issue.value))
                continue
            goals[robot], task_of[robot] = goal, task
            return
        goals[robot], task_of[robot] = -1, NO_TASK

    def complete(step: int) -> None:
        done = np.flatnonzero(floor.online & (goals >= 0) & (floor.cells == goals))
        for robot in done.tolist():
            robot_id = int(floor.ids[robot])
            if scheduled is None or scheduled.arrive(robot_id, step):
                completions.append((step, robot_id, int(task_of[robot])))
            assign(robot, step)

    def recheck_goals(step: int) -> None:
        for robot in np.flatnonzero(floor.online).tolist():
            goal = goals[robot]
            if goal < 0:
                assign(robot, step)  # a robot that had no reachable goal may have one now
                continue
            issue = floor.goal_issue(int(floor.cells[robot]), int(goal))
            if issue is not None:
                skipped.append((step, int(floor.ids[robot]), int(task_of[robot]), issue.value))
                assign(robot, step)

    def snapshot() -> None:
        if record:
            frame = np.full((int(floor.ids.max(initial=-1)) + 1, 2), -1, dtype=np.int32)
            frame[floor.ids] = row_col(floor.cells, width)
            log.append(frame)
            if rotation:
                heads = np.full(frame.shape[0], -1, dtype=np.int8)
                heads[floor.ids] = floor.headings
                head_log.append(heads)

    for robot in range(len(floor.ids)):
        assign(robot, 0)
    complete(0)
    snapshot()
    for step in range(steps):
        changed = bool(floor.settle())
        for event in events.get(step, ()):
            changed = True
            if isinstance(event, BlockCells):
                floor.block(event.cells)
            elif isinstance(event, UnblockCells):
                floor.unblock(event.cells)
            elif isinstance(event, RemoveRobot):
                floor.set_online(event.robot, False)
            else:
                floor.add_robot(event.cell, event.heading)
                goals = np.append(goals, -1)
                task_of = np.append(task_of, NO_TASK)
                assign(len(floor.ids) - 1, step)
        if changed:
            recheck_goals(step)
        started = clock()
        if scheduled is not None:
            index = {int(r): k for k, r in enumerate(floor.ids.tolist())}
            online = np.flatnonzero(floor.online)
            moves = scheduled.schedule(step, floor.ids[online], floor.cells[online], clock)
            for robot_id, (task, goal) in moves.items():
                goals[index[robot_id]], task_of[index[robot_id]] = goal, task
        request = floor.plan_request(goals, rotation=rotation)
        result = planner.plan(request)
        if lookahead is not None and prefetch_ms:
            stop = started + prefetch_ms / 1000.0
            ahead = lookahead.upcoming_goals(PREFETCH_LOOK)
            if ahead.size:
                lookahead.goals_ready(planner.prefetch(ahead, lambda stop=stop: clock() >= stop))
        elapsed = (clock() - started) * 1000.0
        plan_ms.append(elapsed)
        if time_limit_ms is not None and elapsed > time_limit_ms:
            timeouts += 1
        else:
            new_cells = np.asarray(result.cells, dtype=np.int64)
            new_heads = (
                np.asarray(result.headings, dtype=np.int64)
                if rotation and result.headings is not None
                else request.headings
            )
            obstacles = request.blocked
            found = check_step(
                navigable,
                row_col(request.cells, width),
                row_col(new_cells, width),
                step=step,
                blocked=row_col(obstacles, width)
                if obstacles is not None and obstacles.size
                else None,
                model=planner.model,
                headings_before=request.headings,
                headings_after=new_heads,
            )
            if found:
                conflicts += len(found)
                violations.extend(found[:100])
            else:
                floor.move(request.robot_ids, new_cells, new_heads)
        complete(step + 1)
        snapshot()
        if progress is not None:
            progress(step + 1)
    ids = floor.ids
    per_robot = np.zeros(int(ids.max(initial=-1)) + 1, dtype=np.int64)
    for _, robot, _ in completions:
        per_robot[robot] += 1
    positions = None
    if record:
        width_n = int(ids.max(initial=-1)) + 1
        positions = np.full((len(log), width_n, 2), -1, dtype=np.int32)
        for t, frame in enumerate(log):
            positions[t, : len(frame)] = frame
    goal_cells = tasks.goal_cells()
    head_array = None
    if record and rotation:
        head_array = np.full((len(head_log), int(ids.max(initial=-1)) + 1), -1, dtype=np.int8)
        for t, frame in enumerate(head_log):
            head_array[t, : len(frame)] = frame
    return LifelongResult(
        agents=len(starts),
        steps=steps,
        completed=len(completions),
        plan_ms=np.asarray(plan_ms, dtype=np.float64),
        conflicts=conflicts,
        timeouts=timeouts,
        violations=violations,
        skipped=skipped,
        completions=np.asarray(completions, dtype=np.int32).reshape(-1, 3),
        goals=row_col(goal_cells, width) if goal_cells.size else np.zeros((0, 2), np.int32),
        positions=positions,
        per_robot_completed=per_robot,
        headings=head_array,
        errands=None
        if scheduled is None
        else np.asarray(scheduled.errand_visits, dtype=np.int32).reshape(-1, 3),
    )


def random_starts(navigable: np.ndarray, count: int, seed: int) -> np.ndarray:
    """``count`` distinct random free cells (flat ids) from a seeded stream."""
    free = np.flatnonzero(np.asarray(navigable, dtype=bool).ravel())
    if count > free.size:
        raise InputError("robots", f"{count} robots but only {free.size} free cells")
    rng = np.random.default_rng(seed)
    return free[rng.choice(free.size, count, replace=False)]
