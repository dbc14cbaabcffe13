"""Task scheduling for multi-errand tasks (Robot Runners 2024): who does which task, when.

A task is a sequence of errands (cells) a robot must visit in order; the
competition reveals tasks from the file in order (cycling) so that
``numTasksReveal × team`` unfinished tasks are always known. Each step the
scheduler offers the robots that are free, or about to be free, and a rotating
share of those holding a task they have not started, together with every
revealed task nobody holds, to an `Assigner` — the fleet manager's own
(`fleet.dispatch.assign.FlowAssigner`, OR-Tools min-cost flow, ``ours``) or the
start-kit-style greedy one (`NearestTaskAssigner`, ``greedy``: each free robot
in id order takes the task with the smallest total errand distance).

Rules kept (tested): a task is held by at most one robot; a robot holds at
most a current task and one queued task (given while it is finishing its
last errand); a task is *opened* when its robot reaches its first errand and
is never moved after that; errands are visited in order; a task not opened
may move to a better robot (the assigner's hysteresis decides). Distances are
4-neighbour shortest paths (`FloorDistances`), turns not counted.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from fleet.dispatch.assign import (
    Assigner,
    Assignment,
    AssignRequest,
    CostWeights,
    EnergyModel,
    FlowAssigner,
    RobotOffer,
    TaskOffer,
    candidates,
)
from fleet.dispatch.distances import FloorDistances
from fleet.dispatch.kinds import RobotKind
from wms.errors import InputError

NONE = -1
MAX_OFFER = 192
"""Robots offered per step at most (free first): bounds the dense robot × task matrices."""
REOFFER = 24
"""Robots holding an unopened task re-offered per step (round robin), so tasks can move."""
SOON = 6
SHORTLIST = 24
"""Cheapest open tasks per offered robot passed to the assigner."""
"""A robot on its last errand within this Manhattan distance is 'about to be free'."""
FREE, HOLDER, LAST, BUSY = 0, 1, 2, 3
"""Offer classes: no task; holds a task not started (or a queued one); on its last errand
(about to be free when near it); anything else."""
NO_ENERGY = EnergyModel(pct_per_cell=0.0, reserve_pct=0.0)
SCHEDULE_WEIGHTS = CostWeights(work_weight=1.0, age_cells_per_s=0.05, crowd_cells=2.0)
"""Empty travel plus the task's own errand travel (short tasks first raise throughput), a
waiting credit so a long task is not starved for ever, and 2 cells per robot already bound
for (or sent this step to) the same first errand, so one step's free robots spread over
stations instead of queueing at the nearest (docs/traffic.md, "Robot Runners 2024")."""


@dataclass(frozen=True)
class ErrandTasks:
    """The task file: task ``k``'s errands are ``cells[offsets[k]:offsets[k + 1]]`` (flat ids)."""

    cells: np.ndarray
    offsets: np.ndarray
    reveal: int
    """Unfinished tasks known at any time (``ceil(numTasksReveal × team)``)."""

    def __post_init__(self) -> None:
        if len(self.offsets) < 2 or np.any(np.diff(self.offsets) <= 0):
            raise InputError("tasks", "every task needs at least one errand")
        if self.reveal <= 0:
            raise InputError("numTasksReveal", "must reveal at least one task")

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def frequent_cells(self, limit: int) -> np.ndarray:
        """Up to ``limit`` errand cells, most visited first (stations): worth warm tables."""
        cells, counts = np.unique(self.cells, return_counts=True)
        return cells[np.argsort(-counts, kind="stable")[:limit]]

    def errands(self, task: int) -> np.ndarray:
        k = task % len(self)
        return self.cells[self.offsets[k] : self.offsets[k + 1]]


@dataclass(frozen=True, slots=True)
class NearestTaskAssigner:
    """Start-kit-style greedy baseline: each robot free now, in offer order, takes the
    unassigned task with the smallest total errand distance (to the first errand, then
    along the errands). Never moves a held task; feasibility from the shared `candidates`."""

    name: str = "greedy"

    def assign(self, request: AssignRequest, distances: FloorDistances) -> Assignment:
        found = candidates(request, distances)
        robot_of: dict[str, str] = {
            t.task_id: t.assigned_to for t in request.tasks if t.assigned_to is not None
        }
        free = [i for i, r in enumerate(request.robots) if r.free_in_cells == 0 and not r.held_task]
        if free and request.tasks:
            drive = np.where(found.feasible, found.drive, np.iinfo(np.int64).max)
            taken = np.array([t.assigned_to is not None for t in request.tasks])
            drive[:, taken] = np.iinfo(np.int64).max
            for i in free:
                j = int(np.argmin(drive[i]))
                if drive[i, j] == np.iinfo(np.int64).max:
                    continue
                robot_of[request.tasks[j].task_id] = request.robots[i].robot_id
                drive[:, j] = np.iinfo(np.int64).max
        return Assignment(MappingProxyType(robot_of), found.refused)


SCHEDULERS: dict[str, Callable[[], Assigner]] = {
    "ours": lambda: FlowAssigner(weights=SCHEDULE_WEIGHTS),
    "greedy": NearestTaskAssigner,
}


def make_scheduler(name: str) -> Assigner:
    factory = SCHEDULERS.get(name)
    if factory is None:
        raise InputError(
            "scheduler", f"unknown scheduler {name!r} (known: {', '.join(sorted(SCHEDULERS))})"
        )
    return factory()


@dataclass
class _Robot:
    task: int = NONE
    errand: int = 0
    queued: int = NONE


@dataclass
class ScheduleStats:
    """What the scheduler did, for the benchmark's JSON."""

    calls: int = 0
    moved: int = 0
    completed: int = 0
    ms: list[float] = field(default_factory=list)


class ScheduledTasks:
    """A task stream for the lifelong harness that schedules a revealed pool of errand tasks.

    The harness calls `schedule` once per step (before planning), `arrive`
    when a robot reaches its current goal, and `next_task` for a robot's
    current goal. Robot ids index the fleet as given at the start.
    """

    def __init__(
        self,
        tasks: ErrandTasks,
        navigable: np.ndarray,
        assigner: Assigner,
        distances: FloorDistances | None = None,
    ) -> None:
        self.tasks = tasks
        self.width = int(navigable.shape[1])
        self.assigner = assigner
        self._prices_crowds = isinstance(assigner, FlowAssigner) and bool(
            assigner.weights.crowd_cells
        )
        self.distances = distances or FloorDistances(navigable)
        self._robots: dict[int, _Robot] = {}
        self._holder: dict[int, int] = {}
        self._queued_by: dict[int, int] = {}
        self._opened: set[int] = set()
        self._pool: dict[int, int] = {}
        self._unheld: dict[int, None] = {}
        """Revealed tasks nobody holds, in reveal order (kept, not recomputed per step)."""
        """Unfinished revealed task → its reveal step."""
        self._work: dict[int, int] = {}
        self._ends: dict[int, tuple[int, int]] = {}
        self._upcoming: dict[int, None] = {}
        """Errand cells of tasks given to robots, in the order given, until the planner
        has their tables (`upcoming_goals`, `goals_ready`)."""
        self._revealed = 0
        self._turn = 0
        self._class = np.zeros(0, dtype=np.int8)
        self._last = np.zeros(0, dtype=np.int64)
        self.errand_visits: list[tuple[int, int, int]] = []
        self.stats = ScheduleStats()

    # -- TaskStream ---------------------------------------------------------------

    def next_task(self, robot: int) -> tuple[int, int]:
        state = self._robots.setdefault(robot, _Robot())
        if state.task == NONE:
            return NONE, -1
        return state.task, int(self.tasks.errands(state.task)[state.errand])

    def goal_cells(self) -> np.ndarray:
        return np.array(
            [int(self.tasks.errands(k)[-1]) for k in range(self._revealed)], dtype=np.int64
        )

    def precompute(self) -> None:
        """Reveal the first pool and measure its tasks' errand travel before the run
        (the competition's preprocessing): the station tables this fills serve every step."""
        self._reveal(0)

    # -- GoalLookahead -----------------------------------------------------------------

    def upcoming_goals(self, limit: int) -> np.ndarray:
        """Up to ``limit`` errand cells of tasks already given to robots, oldest first:
        goals the planner will need once those robots reach their earlier errands."""
        return np.fromiter(itertools.islice(self._upcoming, limit), dtype=np.int64)

    def goals_ready(self, count: int) -> None:
        """The first ``count`` cells of `upcoming_goals` have their tables: drop them."""
        for cell in list(itertools.islice(self._upcoming, count)):
            del self._upcoming[cell]

    # -- scheduling hooks -----------------------------------------------------------

    def arrive(self, robot: int, step: int) -> bool:
        """``robot`` stands on its current errand: log it, move on; True when the task is done."""
        state = self._robots[robot]
        task = state.task
        self.errand_visits.append((step, robot, task))
        if state.errand == 0:
            self._opened.add(task)
        state.errand += 1
        if state.errand < len(self.tasks.errands(task)):
            self._classify(robot)
            return False
        self.stats.completed += 1
        del self._pool[task]
        del self._holder[task]
        self._opened.discard(task)
        self._work.pop(task, None)
        self._ends.pop(task, None)
        state.task, state.errand = state.queued, 0
        if state.queued != NONE:
            self._queued_by.pop(state.queued)
            self._holder[state.queued] = robot
            state.queued = NONE
        self._classify(robot)
        return True

    def schedule(
        self, step: int, robot_ids: np.ndarray, cells: np.ndarray, clock: Callable[[], float]
    ) -> dict[int, tuple[int, int]]:
        """Reveal, offer, assign; returns the robots whose current goal changed → (task, goal)."""
        started = clock()
        self._reveal(step)
        ids = np.asarray(robot_ids, dtype=np.int64)
        if ids.size and int(ids.max()) >= self._class.size:
            for robot in ids.tolist():
                self._robots.setdefault(robot, _Robot())
                self._classify(robot)
        offers = self._offers(ids, np.asarray(cells, dtype=np.int64))
        changed: dict[int, tuple[int, int]] = {}
        if offers:
            before = {robot: self._robots[robot].task for robot, _ in offers}
            self._apply(offers, step)
            for robot, _ in offers:
                self._classify(robot)
                if self._robots[robot].task != before[robot]:
                    changed[robot] = self.next_task(robot)
        self.stats.calls += 1
        self.stats.ms.append((clock() - started) * 1000.0)
        return changed

    # -- internals ------------------------------------------------------------------

    def _reveal(self, step: int) -> None:
        while len(self._pool) < self.tasks.reveal:
            task = self._revealed
            self._revealed += 1
            self._pool[task] = step
            self._unheld[task] = None
        missing = [k for k in self._pool if k not in self._work]
        if missing:
            self._work.update(zip(missing, self._route_lengths(missing), strict=True))
            for k in missing:
                errands = self.tasks.errands(k)
                self._ends[k] = (int(errands[0]), int(errands[-1]))

    def _route_lengths(self, tasks: list[int]) -> list[int]:
        """Travel along each task's errands (first to last), grouped by leg tail for reuse."""
        work = np.zeros(len(tasks), dtype=np.int64)
        legs: dict[int, list[tuple[int, int]]] = {}
        for k, task in enumerate(tasks):
            errands = self.tasks.errands(task).tolist()
            for a, b in itertools.pairwise(errands):
                legs.setdefault(a, []).append((k, b))
        tables = self.distances.tables
        for tail, heads in legs.items():
            table = tables.from_cell(divmod(tail, self.width)).ravel()
            for k, b in heads:
                work[k] += int(table[b])
        return work.tolist()

    def _classify(self, robot: int) -> None:
        """Refresh the robot's offer class (kept in arrays so `_offers` is vectorised)."""
        if robot >= self._class.size:
            grow = max(robot + 1, 2 * self._class.size)
            self._class = np.concatenate([self._class, np.full(grow - self._class.size, FREE)])
            self._last = np.concatenate([self._last, np.full(grow - self._last.size, -1)])
        state = self._robots[robot]
        if state.task == NONE:
            self._class[robot] = FREE
        elif state.task not in self._opened or state.queued != NONE:
            self._class[robot] = HOLDER
        elif state.errand == len(self.tasks.errands(state.task)) - 1:
            self._class[robot] = LAST
            self._last[robot] = int(self.tasks.errands(state.task)[-1])
        else:
            self._class[robot] = BUSY

    def _offers(self, ids: np.ndarray, cells: np.ndarray) -> list[tuple[int, RobotOffer]]:
        """Free robots, then those about to be free, then a round-robin share of holders."""
        kind = self._class[ids]
        free = ids[kind == FREE]
        last = kind == LAST
        near = np.zeros(ids.size, dtype=bool)
        if last.any():
            target = self._last[ids[last]]
            gap = np.abs(cells[last] // self.width - target // self.width) + np.abs(
                cells[last] % self.width - target % self.width
            )
            near[np.flatnonzero(last)[gap <= SOON]] = True
        soon = ids[near]
        holders = ids[kind == HOLDER]
        chosen = free[:MAX_OFFER].tolist()
        chosen += soon[: MAX_OFFER - len(chosen)].tolist()
        room = min(REOFFER, MAX_OFFER - len(chosen))
        if holders.size and room > 0:
            start = self._turn % holders.size
            chosen += np.roll(holders, -start)[:room].tolist()
            self._turn += room
        cell_of = dict(zip(ids.tolist(), cells.tolist(), strict=True))
        return [(robot, self._offer(robot, cell_of[robot])) for robot in chosen]

    def _offer(self, robot: int, cell: int) -> RobotOffer:
        state = self._robots[robot]
        free_in, at, held = 0, cell, None
        if state.task != NONE and state.task in self._opened:
            last = int(self.tasks.errands(state.task)[-1])
            free_in, at = _manhattan(cell, last, self.width), last
            held = state.queued if state.queued != NONE else None
        elif state.task != NONE:
            held = state.task
        return RobotOffer(
            robot_id=str(robot),
            cell=divmod(at, self.width),
            kind=RobotKind.AMR,
            max_payload_kg=math.inf,
            battery_pct=100.0,
            free_in_cells=free_in,
            held_task=None if held is None else str(held),
        )

    def _shortlist(self, offers: list[tuple[int, RobotOffer]], open_tasks: list[int]) -> list[int]:
        """Each offered robot's `SHORTLIST` cheapest open tasks (empty + errand travel), united.

        The assigner then works on a few thousand tasks instead of the whole pool;
        a robot's best tasks are all in, so its choice is only limited among tasks
        no offered robot ranks near the top (`cheapest_tasks`)."""
        if len(open_tasks) <= SHORTLIST * 4:
            return open_tasks
        first = np.array([self._ends[t][0] for t in open_tasks], dtype=np.int64)
        work = np.array([self._work[t] for t in open_tasks], dtype=np.int64)
        robots = [offer.cell for _, offer in offers]
        free_in = np.array([offer.free_in_cells for _, offer in offers], dtype=np.int64)

        def distances_to(cells: np.ndarray) -> np.ndarray:
            return self.distances.matrix(robots, np.stack(np.divmod(cells, self.width), axis=1))

        best = cheapest_tasks(first, work, free_in, distances_to, SHORTLIST)
        return [open_tasks[j] for j in best.tolist()]

    def _bound_for(self, offered: set[int], cells: set[tuple[int, int]]) -> dict:
        """Robots not offered now that hold a task not started, or queued, per first errand.

        The crowd the assigner's `CostWeights.crowd_cells` prices: robots still to
        arrive at that cell (a task is opened on arrival, so robots that have been
        there are not counted). Only assigners that price crowds read it."""
        if not self._prices_crowds:
            return {}
        load: dict[tuple[int, int], int] = {}
        for owners in (self._holder, self._queued_by):
            for task, robot in owners.items():
                if robot in offered or task in self._opened:
                    continue
                cell = divmod(self._ends[task][0], self.width)
                if cell in cells:
                    load[cell] = load.get(cell, 0) + 1
        return load

    def _apply(self, offers: list[tuple[int, RobotOffer]], step: int) -> None:
        offered = {robot for robot, _ in offers}
        holder_of: dict[int, int] = {}
        for robot in offered:
            state = self._robots[robot]
            if state.task != NONE and state.task not in self._opened:
                holder_of[state.task] = robot
            if state.queued != NONE:
                holder_of[state.queued] = robot
        held = list(holder_of)
        open_tasks = held + self._shortlist(offers, list(self._unheld))
        task_offers = tuple(
            TaskOffer(
                task_id=str(t),
                first_cell=divmod(self._ends[t][0], self.width),
                last_cell=divmod(self._ends[t][1], self.width),
                work_cells=self._work[t],
                age_s=float(step - self._pool[t]),
                assigned_to=str(holder_of[t]) if t in holder_of else None,
            )
            for t in open_tasks
        )
        request = AssignRequest(
            robots=tuple(offer for _, offer in offers),
            tasks=task_offers,
            now_s=float(step),
            energy=NO_ENERGY,
            bound_for=self._bound_for(offered, {t.first_cell for t in task_offers}),
        )
        answer = self.assigner.assign(request, self.distances)
        # release what the offered robots held, then hand out the answer
        for robot in offered:
            state = self._robots[robot]
            if state.task != NONE and state.task not in self._opened:
                self._holder.pop(state.task, None)
                self._unheld[state.task] = None
                state.task, state.errand = NONE, 0
            if state.queued != NONE:
                self._queued_by.pop(state.queued, None)
                self._unheld[state.queued] = None
                state.queued = NONE
        for task_id, robot_id in answer.robot_of.items():
            task, robot = int(task_id), int(robot_id)
            if holder_of.get(task, robot) != robot:
                self.stats.moved += 1
            self._unheld.pop(task, None)
            self._upcoming.update(dict.fromkeys(self.tasks.errands(task).tolist()))
            state = self._robots[robot]
            if state.task == NONE:
                state.task, state.errand = task, 0
                self._holder[task] = robot
            elif state.queued == NONE:
                state.queued = task
                self._queued_by[task] = robot
            else:  # an assigner broke "one task per robot": a bug, not bad input
                raise RuntimeError(f"robot {robot} given two tasks")

    def check(self) -> None:
        """Invariants (for tests): no task held twice; holders and queues consistent."""
        seen: dict[int, int] = {}
        for robot, state in self._robots.items():
            for task in (state.task, state.queued):
                if task == NONE:
                    continue
                if task in seen:
                    raise AssertionError(f"task {task} held by {seen[task]} and {robot}")
                seen[task] = robot
                if task not in self._pool:
                    raise AssertionError(f"robot {robot} holds finished task {task}")
            if state.queued != NONE and state.task == NONE:
                raise AssertionError(f"robot {robot} has a queued task but no current one")
        held = set(seen)
        if held & set(self._unheld) or set(self._pool) != held | set(self._unheld):
            raise AssertionError("the unheld set does not match the pool minus held tasks")


def cheapest_tasks(
    first: np.ndarray,
    work: np.ndarray,
    free_in: np.ndarray,
    distances_to: Callable[[np.ndarray], np.ndarray],
    k: int,
) -> np.ndarray:
    """Sorted indices of the tasks among each robot's ``k`` cheapest, united.

    Robot ``r``'s cost of task ``t`` is ``free_in[r] + d(r, first[t]) + work[t]``;
    ``distances_to(cells)`` gives ``d`` as ``[R, len(cells)]``. Tasks share first
    errands (a 2024 WAREHOUSE pool of 15,000 tasks starts at 352 stations), so
    the search is by first cell: a robot's ``k`` cheapest tasks lie among the
    ``k`` cheapest (by work) of each first cell, at the ``k`` first cells with
    the smallest lower bound ``free_in + d + least work`` (any other task has
    ``k`` tasks at least as cheap). Exact up to ties; ``[R, cells]`` distances
    instead of ``[R, tasks]``.
    """
    tasks = first.size
    if tasks <= k:
        return np.arange(tasks)
    order = np.lexsort((work, first))
    first_sorted, work_sorted = first[order], work[order]
    starts = np.flatnonzero(np.r_[True, first_sorted[1:] != first_sorted[:-1]])
    group = np.cumsum(np.r_[True, first_sorted[1:] != first_sorted[:-1]]) - 1
    rank = np.arange(tasks) - starts[group]
    table = np.full((starts.size, k), -1, dtype=np.int64)  # per first cell: its k least work
    kept = rank < k
    table[group[kept], rank[kept]] = np.flatnonzero(kept)
    dist = distances_to(first_sorted[starts]).astype(np.int64) + free_in[:, None]
    bound = dist + work_sorted[starts][None, :]
    if starts.size > k:
        cells = np.argpartition(bound, k - 1, axis=1)[:, :k]
    else:
        cells = np.broadcast_to(np.arange(starts.size), (free_in.size, starts.size))
    picks = table[cells].reshape(free_in.size, -1)  # [R, cells × k] sorted positions
    rows = np.arange(free_in.size)[:, None]
    reach = np.take_along_axis(dist, cells, axis=1)
    cost = np.repeat(reach, k, axis=1) + work_sorted[np.maximum(picks, 0)]
    cost = np.where(picks >= 0, cost, np.iinfo(np.int64).max)
    take = min(k, cost.shape[1])
    best = np.argpartition(cost, take - 1, axis=1)[:, :take]
    chosen = picks[rows, best]
    return np.unique(order[chosen[chosen >= 0]])


def _manhattan(a: int, b: int, width: int) -> int:
    ra, ca = divmod(a, width)
    rb, cb = divmod(b, width)
    return abs(ra - rb) + abs(ca - cb)
