"""Who does which task: the assignment phase of the decision core, as swappable strategies.

Each cycle the core offers the robots that are free or about to be free and
the queued (or assigned but not started) tasks; a strategy returns which
robot takes which task, and which tasks no offered robot can take, with the
reason. Two strategies, chosen by name (`make_assigner`):

- ``ours`` (`FlowAssigner`): a min-cost flow (OR-Tools `SimpleMinCostFlow`)
  over a sparsified robot × task graph. It assigns as many tasks as possible,
  then minimises empty travel, priority, lateness and waiting time together;
  a held task moves to another robot only when that saves more than a
  hysteresis threshold.
- ``greedy`` (`GreedyAssigner`): the baseline dispatcher: tasks by priority,
  then first come first served, each takes the nearest free robot that may
  take it.

Both share one feasibility check (`candidates`), so the hard rules are one
piece of code: a robot never gets a task of another kind, heavier than its
payload, that it cannot reach, or that would leave it unable to reach a
charger above its battery reserve; no task goes to two robots and no robot
gets two tasks. Pure: plain data and `FloorDistances` in, plain data out.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Protocol

import numpy as np
from ortools.graph.python import min_cost_flow

from fleet.dispatch.distances import FloorDistances
from fleet.dispatch.kinds import RobotKind
from wms.errors import InputError
from wms.layout import UNREACHABLE, Cell


@dataclass(frozen=True, slots=True)
class RobotOffer:
    """A robot that may be given a task this cycle.

    ``free_in_cells`` is 0 for a robot that is free now; for one that is about
    to be free it is the travel left on its current task, and ``cell`` is then
    where that task ends. ``held_task`` is a task assigned to it but not yet
    started, which may be handed to a better robot.
    """

    robot_id: str
    cell: Cell
    kind: RobotKind
    max_payload_kg: float
    battery_pct: float
    free_in_cells: int = 0
    held_task: str | None = None


@dataclass(frozen=True, slots=True)
class TaskOffer:
    """A task waiting for a robot (queued, or assigned to ``assigned_to`` and not started).

    ``work_cells`` is the travel along its stops, first to last; ``needs`` the
    robot kind it needs (``None``: any); ``pinned_to`` restricts it to one robot.
    """

    task_id: str
    first_cell: Cell
    last_cell: Cell
    work_cells: int
    needs: RobotKind | None = None
    payload_kg: float = 0.0
    priority: int = 0
    due_s: float | None = None
    age_s: float = 0.0
    assigned_to: str | None = None
    pinned_to: str | None = None


@dataclass(frozen=True, slots=True)
class EnergyModel:
    """Battery use per cell driven, and the charge a robot must keep when it reaches a charger."""

    pct_per_cell: float = 0.02
    reserve_pct: float = 15.0


@dataclass(frozen=True, slots=True)
class CostWeights:
    """How `FlowAssigner` trades the terms of its cost, all in cells of empty travel.

    A task of priority ``p`` is worth ``p × priority_cells`` cells; each second
    it has waited is worth ``age_cells_per_s`` (so a far task is not starved
    forever by near ones). Due times act twice: a task whose slack (time to
    its due time minus its own work) is below ``urgency_horizon_s`` earns
    ``urgency_cells_per_s`` per second of shortfall, so urgent tasks go first
    (leaving a task unassigned does not stop its clock); and each second a
    given robot would finish it late costs ``lateness_cells_per_s``, so it goes
    to the robot that finishes soonest. A held task stays with its robot
    unless another saves more than ``hysteresis_cells``. ``work_weight`` adds that
    share of the task's own travel (``work_cells``), so that when tasks outnumber
    robots short tasks go first (default 0: the cost is empty travel only).
    ``crowd_cells`` prices robots converging on one first stop (see below): a term of
    the assignment as a whole, not of a pair, so it sits in the flow's network
    (`crowd_cost` gives its value).
    """

    priority_cells: float = 20.0
    age_cells_per_s: float = 0.02
    urgency_cells_per_s: float = 0.1
    urgency_horizon_s: float = 300.0
    lateness_cells_per_s: float = 1.0
    hysteresis_cells: float = 5.0
    work_weight: float = 0.0
    crowd_cells: float = 0.0
    """Convex per-stop cost: the ``m``-th robot sent to a first stop that ``b`` robots are
    already bound for (`AssignRequest.bound_for`) costs ``crowd_cells × (b + m)`` more, so
    one cycle spreads robots over stops instead of sending them all to the nearest ones
    (default 0: off, the graph and the result are those without the term)."""


@dataclass(frozen=True, slots=True, eq=False)
class AssignRequest:
    """One cycle's question: these robots, these tasks, this time.

    ``charger_distance`` is an ``[H, W]`` table of moves from every cell to
    the nearest charger (`FloorDistances.table_to_nearest`); ``None`` means
    the floor has no chargers to return to, and the battery rule then covers
    the task alone. Raises ``ValueError`` on inconsistent input (duplicate
    ids, a held task that is not offered or names another robot).
    """

    robots: tuple[RobotOffer, ...]
    tasks: tuple[TaskOffer, ...]
    now_s: float = 0.0
    seconds_per_cell: float = 1.0
    energy: EnergyModel = field(default_factory=EnergyModel)
    charger_distance: np.ndarray | None = None
    bound_for: Mapping[Cell, int] = field(default_factory=dict)
    """Robots not in this offer already on their way to (or queued at) each cell: the
    starting load of `CostWeights.crowd_cells` (cells not named: 0)."""

    def __post_init__(self) -> None:
        robot_ids = [r.robot_id for r in self.robots]
        task_ids = [t.task_id for t in self.tasks]
        if len(set(robot_ids)) != len(robot_ids):
            raise ValueError("duplicate robot ids in the offer")
        if len(set(task_ids)) != len(task_ids):
            raise ValueError("duplicate task ids in the offer")
        if not self.seconds_per_cell > 0:
            raise ValueError("seconds_per_cell must be positive")
        if any(load < 0 for load in self.bound_for.values()):
            raise ValueError("bound_for counts must not be negative")
        holder = {t.task_id: t.assigned_to for t in self.tasks}
        held = {r.robot_id: r.held_task for r in self.robots}
        for task in self.tasks:
            if task.assigned_to in held and held[task.assigned_to] != task.task_id:
                raise ValueError(
                    f"task {task.task_id} is offered as assigned to {task.assigned_to}, "
                    "which does not hold it"
                )
        for robot in self.robots:
            if robot.free_in_cells < 0:
                raise ValueError(f"robot {robot.robot_id}: free_in_cells is negative")
            if robot.held_task is not None and holder.get(robot.held_task, "") != robot.robot_id:
                raise ValueError(
                    f"robot {robot.robot_id} holds {robot.held_task}, which is not offered "
                    "as assigned to it"
                )


class RefusalReason(enum.Enum):
    """Why no offered robot can take a task, checked in this order."""

    NO_ROBOT = "no_robot"
    """No robot offered (or the robot it is pinned to is not offered)."""
    KIND = "kind"
    PAYLOAD = "payload"
    UNREACHABLE = "unreachable"
    BATTERY = "battery"


@dataclass(frozen=True, slots=True)
class Refusal:
    """A task no offered robot can take this cycle; ``detail`` is one line for operators."""

    task_id: str
    reason: RefusalReason
    detail: str


@dataclass(frozen=True, slots=True)
class Assignment:
    """The cycle's answer: every task assigned this cycle → its robot, and the refusals.

    ``robot_of`` is the full map (held tasks kept as well as new ones), so the
    core applies it as is; `changes` lists only what differs from the offer.
    """

    robot_of: Mapping[str, str]
    refused: tuple[Refusal, ...] = ()

    def changes(self, request: AssignRequest) -> tuple[tuple[str, str | None, str | None], ...]:
        """``(task_id, old robot, new robot)`` per task whose robot changed; ``None``: no robot."""
        out = []
        for task in request.tasks:
            new = self.robot_of.get(task.task_id)
            if new != task.assigned_to:
                out.append((task.task_id, task.assigned_to, new))
        return tuple(out)


class Assigner(Protocol):
    """A strategy: `AssignRequest` and distances in, `Assignment` out; no state between cycles."""

    name: str

    def assign(self, request: AssignRequest, distances: FloorDistances) -> Assignment: ...


@dataclass(frozen=True, slots=True, eq=False)
class Candidates:
    """Everything both strategies need about robot × task pairs, computed once per cycle.

    ``empty`` is the travel (cells) before the robot can start the task:
    ``free_in_cells`` plus the distance from its cell to the first stop;
    ``drive`` the whole drive a pair commits the robot to (empty + work, in
    cells); ``feasible`` the hard rules.
    """

    distance: np.ndarray
    """``int64 [R, T]`` robot cell → first stop, `UNREACHABLE` where no path."""
    empty: np.ndarray
    drive: np.ndarray
    feasible: np.ndarray
    refused: tuple[Refusal, ...]


def candidates(request: AssignRequest, distances: FloorDistances) -> Candidates:
    """Distances and the hard rules for every pair, plus the reason for each refused task."""
    robots, tasks = request.robots, request.tasks
    dist = distances.matrix([r.cell for r in robots], [t.first_cell for t in tasks])
    dist = dist.astype(np.int64)
    free_in = np.array([r.free_in_cells for r in robots], dtype=np.int64)
    work = np.array([t.work_cells for t in tasks], dtype=np.int64)
    work_ok = (work >= 0) & (work < UNREACHABLE)
    kind_ok = _kind_ok(robots, tasks)
    payload_ok = (
        np.array([r.max_payload_kg for r in robots])[:, None]
        >= np.array([t.payload_kg for t in tasks])[None, :]
    )
    reach_ok = (dist < UNREACHABLE) & work_ok[None, :]
    empty = free_in[:, None] + dist
    drive = empty + np.where(work_ok, work, 0)[None, :]
    if request.charger_distance is not None:
        back = distances.at(request.charger_distance, [t.last_cell for t in tasks]).astype(np.int64)
    else:
        back = np.zeros(len(tasks), dtype=np.int64)
    battery = np.array([r.battery_pct for r in robots], dtype=np.float64)
    energy = request.energy
    left = battery[:, None] - energy.pct_per_cell * (drive + back[None, :])
    battery_ok = (left >= energy.reserve_pct) & (back < UNREACHABLE)[None, :]
    stages = (kind_ok, payload_ok, reach_ok, battery_ok)
    feasible = np.logical_and.reduce(stages) if len(robots) else kind_ok
    refused = _refusals(request, stages, feasible, work_ok, back)
    return Candidates(dist, empty, drive, feasible, refused)


def _kind_ok(robots: tuple[RobotOffer, ...], tasks: tuple[TaskOffer, ...]) -> np.ndarray:
    """``bool [R, T]``: the robot is of the kind the task needs, and the one it is pinned to."""
    code = {kind: i for i, kind in enumerate(RobotKind)}
    kinds = np.array([code[r.kind] for r in robots], dtype=np.int64)
    needs = np.array([-1 if t.needs is None else code[t.needs] for t in tasks], dtype=np.int64)
    row = {r.robot_id: i for i, r in enumerate(robots)}
    pins = np.array(
        [-1 if t.pinned_to is None else row.get(t.pinned_to, -2) for t in tasks], dtype=np.int64
    )
    of_kind = (needs[None, :] < 0) | (kinds[:, None] == needs[None, :])
    pinned = (pins[None, :] == -1) | (np.arange(len(robots))[:, None] == pins[None, :])
    return of_kind & pinned


def _refusals(
    request: AssignRequest,
    stages: tuple[np.ndarray, ...],
    feasible: np.ndarray,
    work_ok: np.ndarray,
    back: np.ndarray,
) -> tuple[Refusal, ...]:
    """One `Refusal` per task with no feasible robot: the first rule that rules every robot out."""
    robots, tasks = request.robots, request.tasks
    nobody = np.flatnonzero(~feasible.any(axis=0)) if len(robots) else np.arange(len(tasks))
    if nobody.size == 0:
        return ()
    offered = {r.robot_id for r in robots}
    passing = np.ones((len(robots), len(tasks)), dtype=bool)
    first_fail = np.full(len(tasks), len(stages), dtype=np.int64)
    for index, stage in enumerate(stages):
        passing &= stage
        newly = ~passing.any(axis=0) & (first_fail == len(stages))
        first_fail[newly] = index
    out = []
    for j in nobody:
        task = tasks[j]
        stage = int(first_fail[j])
        if not robots or (task.pinned_to is not None and task.pinned_to not in offered):
            who = f"robot {task.pinned_to}" if task.pinned_to else "no robot"
            out.append(Refusal(task.task_id, RefusalReason.NO_ROBOT, f"{who} available"))
        elif stage == 0:
            kind = task.needs.value if task.needs else "any"
            detail = f"no robot of kind {kind}" + (
                f" pinned as {task.pinned_to}" if task.pinned_to else ""
            )
            out.append(Refusal(task.task_id, RefusalReason.KIND, detail))
        elif stage == 1:
            fit = stages[0][:, j]
            heaviest = max(r.max_payload_kg for r, ok in zip(robots, fit, strict=True) if ok)
            who = f"every {task.needs.value}" if task.needs else "every robot"
            detail = f"payload {task.payload_kg:g} kg exceeds {who} (max {heaviest:g} kg)"
            out.append(Refusal(task.task_id, RefusalReason.PAYLOAD, detail))
        elif stage == 2:
            detail = "unreachable from every robot" if work_ok[j] else "its stops are not connected"
            out.append(Refusal(task.task_id, RefusalReason.UNREACHABLE, detail))
        else:
            detail = (
                "no charger reachable from its last stop"
                if back[j] >= UNREACHABLE
                else "no robot has the charge to finish it and reach a charger above reserve"
            )
            out.append(Refusal(task.task_id, RefusalReason.BATTERY, detail))
    return tuple(out)


def pair_costs(request: AssignRequest, found: Candidates, weights: CostWeights) -> np.ndarray:
    """``float64 [R, T]`` cost of each pair in cells (infeasible pairs included, unmasked).

    Empty travel, minus the priority, waiting and urgency credits of the task,
    plus lateness against ``due_s`` (finish estimated as now + drive ×
    seconds_per_cell), minus the hysteresis credit where the robot already
    holds the task. See `CostWeights`.
    """
    tasks, robots = request.tasks, request.robots
    priority = np.array([t.priority for t in tasks], dtype=np.float64)
    age = np.array([t.age_s for t in tasks], dtype=np.float64)
    due = np.array([math.inf if t.due_s is None else t.due_s for t in tasks])
    cost = found.empty.astype(np.float64)
    cost -= (weights.priority_cells * priority + weights.age_cells_per_s * age)[None, :]
    if weights.work_weight:
        work = np.array([max(t.work_cells, 0) for t in tasks], dtype=np.float64)
        cost += weights.work_weight * np.minimum(work, float(UNREACHABLE))[None, :]
    if np.isfinite(due).any():
        spc = request.seconds_per_cell
        work = np.array([t.work_cells for t in tasks], dtype=np.float64)
        slack = due - request.now_s - work * spc
        urgency = np.where(
            np.isfinite(due), np.maximum(weights.urgency_horizon_s - slack, 0.0), 0.0
        )
        cost -= weights.urgency_cells_per_s * urgency[None, :]
        finish = request.now_s + found.drive * spc
        cost += weights.lateness_cells_per_s * np.maximum(finish - due[None, :], 0.0)
    if any(t.assigned_to is not None for t in tasks):
        row = {r.robot_id: i for i, r in enumerate(robots)}
        for j, task in enumerate(tasks):
            i = row.get(task.assigned_to or "")
            if i is not None:
                cost[i, j] -= weights.hysteresis_cells
    return cost


def total_cost(
    request: AssignRequest,
    distances: FloorDistances,
    assignment: Assignment,
    weights: CostWeights | None = None,
) -> float:
    """Sum of `pair_costs` over the assigned pairs plus `crowd_cost`: what `FlowAssigner`
    minimises (among maximal assignments)."""
    weights = weights or CostWeights()
    found = candidates(request, distances)
    cost = pair_costs(request, found, weights)
    row = {r.robot_id: i for i, r in enumerate(request.robots)}
    col = {t.task_id: j for j, t in enumerate(request.tasks)}
    pairs = float(sum(cost[row[r], col[t]] for t, r in assignment.robot_of.items()))
    return pairs + crowd_cost(request, assignment, weights)


def crowd_cost(request: AssignRequest, assignment: Assignment, weights: CostWeights) -> float:
    """``crowd_cells × Σ_stops Σ_{m < n} (bound + m)``, ``n`` tasks given at each first stop."""
    if not weights.crowd_cells:
        return 0.0
    first = {t.task_id: t.first_cell for t in request.tasks}
    given: dict[Cell, int] = {}
    for task_id in assignment.robot_of:
        given[first[task_id]] = given.get(first[task_id], 0) + 1
    total = 0
    for cell, n in given.items():
        bound = request.bound_for.get(cell, 0)
        total += n * bound + n * (n - 1) // 2
    return weights.crowd_cells * total


def _crowd_arcs(request: AssignRequest, crowd_cells: float) -> tuple[np.ndarray, list[np.ndarray]]:
    """Each task's first-stop group, and per group the costs of its 1st, 2nd, ... task.

    Costs are increasing in the group (convex), so a min-cost flow through unit arcs
    of these costs takes them in order: the sum is exactly `crowd_cost`."""
    group_of: dict[Cell, int] = {}
    groups = np.array(
        [group_of.setdefault(t.first_cell, len(group_of)) for t in request.tasks], dtype=np.int64
    )
    sizes = np.bincount(groups, minlength=len(group_of))
    costs = [
        crowd_cells * (request.bound_for.get(cell, 0) + np.arange(sizes[g], dtype=np.float64))
        for cell, g in group_of.items()
    ]
    return groups, costs


def _assignment(
    request: AssignRequest, pairs: list[tuple[int, int]], found: Candidates
) -> Assignment:
    robot_of = {request.tasks[j].task_id: request.robots[i].robot_id for i, j in pairs}
    return Assignment(MappingProxyType(robot_of), found.refused)


COST_SCALE: Final = 100
"""Costs go to OR-Tools as integers in hundredths of a cell."""


@dataclass(frozen=True, slots=True)
class FlowAssigner:
    """Ours: min-cost flow over each robot's ``k_nearest`` tasks and each task's nearest robots.

    Guarantees: every assigned pair is feasible; no task or robot twice; the
    assignment is maximal (no offered robot is left without a task while a
    task it may take is left unassigned: when the sparse graph leaves such a
    robot idle, it gets all its feasible arcs, every robot and task twice as
    many nearest, and the flow is solved again); among the pairs in
    the graph it assigns as many tasks as possible and then minimises
    `pair_costs`. With ``k_nearest`` at least the number of tasks or robots
    the graph is complete and the result is optimal. At 1,000 × 500,
    ``k_nearest = 32`` came within 0.6 % of the complete graph's cost in about
    half its time (docs/benchmarks.md, "Fleet: task assignment").
    """

    weights: CostWeights = field(default_factory=CostWeights)
    k_nearest: int = 32
    name: str = "ours"

    def assign(self, request: AssignRequest, distances: FloorDistances) -> Assignment:
        found = candidates(request, distances)
        if not request.robots or not request.tasks or not found.feasible.any():
            return _assignment(request, [], found)
        cost = pair_costs(request, found, self.weights)
        crowd = _crowd_arcs(request, self.weights.crowd_cells) if self.weights.crowd_cells else None
        k = self.k_nearest
        arcs = self._sparse_arcs(found.empty, found.feasible, request, k)
        while True:
            pairs = _min_cost_matching(arcs, cost, len(request.robots), len(request.tasks), crowd)
            idle = _idle_robots_with_work(pairs, found.feasible)
            if idle.size == 0:
                return _assignment(request, pairs, found)
            # Robots were left idle with work they could do: the graph was too thin
            # there. Give them every arc and everyone twice as many, and solve again.
            k *= 2
            wider = self._sparse_arcs(found.empty, found.feasible, request, k)
            arcs = np.union1d(wider, _full_rows(idle, found.feasible))

    @staticmethod
    def _sparse_arcs(
        empty: np.ndarray, feasible: np.ndarray, request: AssignRequest, k: int
    ) -> np.ndarray:
        """Flat ``r * T + t`` arc ids: the K nearest per robot and per task, plus held pairs.

        Nearest by empty travel, not by cost: a task's own credits (priority,
        waiting, urgency) are the same for every robot, so ranking by cost
        would point every robot at the same few attractive tasks.
        """
        n_robots, n_tasks = empty.shape
        masked = np.where(feasible, empty, np.iinfo(np.int64).max)
        keys = []
        if k >= n_tasks or k >= n_robots:
            keys.append(np.flatnonzero(feasible))
        else:
            cols = np.argpartition(masked, k, axis=1)[:, :k]
            keys.append(np.arange(n_robots)[:, None] * n_tasks + cols)
            rows = np.argpartition(masked, k, axis=0)[:k, :]
            keys.append(rows * n_tasks + np.arange(n_tasks)[None, :])
        row = {r.robot_id: i for i, r in enumerate(request.robots)}
        held = [
            row[t.assigned_to] * n_tasks + j
            for j, t in enumerate(request.tasks)
            if t.assigned_to in row
        ]
        keys.append(np.array(held, dtype=np.int64))
        # A mask over all R × T pairs: the sorted distinct feasible ids, as `np.unique` then a
        # filter would give, without sorting the ~(R + T) × k keys every cycle.
        chosen = np.zeros(n_robots * n_tasks, dtype=bool)
        for key in keys:
            chosen[key.ravel()] = True
        return np.flatnonzero(chosen & feasible.ravel())


def _full_rows(rows: np.ndarray, feasible: np.ndarray) -> np.ndarray:
    n_tasks = feasible.shape[1]
    r, t = np.nonzero(feasible[rows])
    return rows[r] * n_tasks + t


def _idle_robots_with_work(pairs: list[tuple[int, int]], feasible: np.ndarray) -> np.ndarray:
    """Robots left without a task while a task they may take is left unassigned."""
    busy = np.zeros(feasible.shape[0], dtype=bool)
    taken = np.zeros(feasible.shape[1], dtype=bool)
    for i, j in pairs:
        busy[i] = True
        taken[j] = True
    open_work = feasible[:, ~taken].any(axis=1)
    return np.flatnonzero(~busy & open_work)


def _min_cost_matching(
    arcs: np.ndarray,
    cost: np.ndarray,
    n_robots: int,
    n_tasks: int,
    crowd: tuple[np.ndarray, list[np.ndarray]] | None = None,
) -> list[tuple[int, int]]:
    """Maximum-cardinality, then minimum-cost matching over ``arcs`` with OR-Tools min-cost flow.

    Network: source → robot (1) → task (1) → sink, plus robot → sink at a cost
    larger than any matching could save, so leaving a robot idle is only ever
    chosen when no augmenting path exists. With ``crowd`` (`_crowd_arcs`) a task
    reaches the sink through its first stop's node, whose unit arcs to the sink
    cost the stop's increasing crowd costs.
    """
    rows, cols = np.divmod(arcs, n_tasks)
    raw = np.rint(cost[rows, cols] * COST_SCALE).astype(np.int64)
    arc_cost = raw - (raw.min() if raw.size else 0) + 1
    source, sink = n_robots + n_tasks, n_robots + n_tasks + 1
    robots = np.arange(n_robots, dtype=np.int64)
    task_nodes = n_robots + np.arange(n_tasks, dtype=np.int64)
    if crowd is None:
        out_tails, out_heads = task_nodes, np.full(n_tasks, sink)
        out_costs = np.zeros(n_tasks, dtype=np.int64)
    else:
        groups, group_costs = crowd
        group_nodes = sink + 1 + np.arange(len(group_costs), dtype=np.int64)
        sizes = [c.size for c in group_costs]
        out_tails = np.concatenate([task_nodes, np.repeat(group_nodes, sizes)])
        out_heads = np.concatenate([group_nodes[groups], np.full(sum(sizes), sink)])
        steps = np.rint(np.concatenate(group_costs) * COST_SCALE).astype(np.int64)
        out_costs = np.concatenate([np.zeros(n_tasks, dtype=np.int64), steps])
    longest = int(arc_cost.max(initial=1)) + int(out_costs.max(initial=0))
    idle_cost = longest * (n_robots + 1) + 1
    tails = np.concatenate([np.full(n_robots, source), rows, out_tails, robots])
    heads = np.concatenate([robots, n_robots + cols, out_heads, np.full(n_robots, sink)])
    costs = np.concatenate(
        [
            np.zeros(n_robots, dtype=np.int64),
            arc_cost,
            out_costs,
            np.full(n_robots, idle_cost, dtype=np.int64),
        ]
    )
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, np.ones(tails.size, np.int64), costs)
    flow.set_node_supply(source, n_robots)
    flow.set_node_supply(sink, -n_robots)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed: {status}")
    used = flow.flows(np.arange(n_robots, n_robots + rows.size)) > 0
    return [(int(r), int(c)) for r, c in zip(rows[used], cols[used], strict=True)]


@dataclass(frozen=True, slots=True)
class GreedyAssigner:
    """The baseline: what a good plain dispatcher does, vectorised.

    Tasks in order of priority (higher first), then waiting time (older
    first), then submission order; each takes the nearest feasible robot that
    is free now (``free_in_cells == 0``; ties: offer order). A held task stays
    with its robot while that is still feasible: the baseline never hands
    work over. Guarantees the same hard rules as `FlowAssigner`, and is
    maximal over free robots.
    """

    name: str = "greedy"

    def assign(self, request: AssignRequest, distances: FloorDistances) -> Assignment:
        found = candidates(request, distances)
        robots, tasks = request.robots, request.tasks
        pairs: list[tuple[int, int]] = []
        if not robots or not tasks:
            return _assignment(request, pairs, found)
        row = {r.robot_id: i for i, r in enumerate(robots)}
        taken = np.zeros(len(robots), dtype=bool)
        done = np.zeros(len(tasks), dtype=bool)
        for j, task in enumerate(tasks):
            i = row.get(task.assigned_to or "")
            if i is not None and found.feasible[i, j] and not taken[i]:
                pairs.append((i, j))
                taken[i] = True
                done[j] = True
        free_now = np.array([r.free_in_cells == 0 for r in robots])
        score = np.where(found.feasible & free_now[:, None], found.distance, np.iinfo(np.int64).max)
        score[taken] = np.iinfo(np.int64).max
        order = sorted(
            (j for j in range(len(tasks)) if not done[j]),
            key=lambda j: (-tasks[j].priority, -tasks[j].age_s, j),
        )
        left = int((~taken & free_now).sum())
        for j in order:
            if left == 0:
                break
            i = int(np.argmin(score[:, j]))
            if score[i, j] == np.iinfo(np.int64).max:
                continue
            pairs.append((i, j))
            score[i, :] = np.iinfo(np.int64).max
            left -= 1
        return _assignment(request, pairs, found)


ASSIGNERS: Final[dict[str, type[FlowAssigner] | type[GreedyAssigner]]] = {
    "ours": FlowAssigner,
    "greedy": GreedyAssigner,
}


def assigner_names() -> list[str]:
    return sorted(ASSIGNERS)


def make_assigner(name: str) -> Assigner:
    """A strategy by name; `InputError` for an unknown name lists the known ones."""
    factory = ASSIGNERS.get(name)
    if factory is None:
        raise InputError(
            "assigner", f"unknown assigner {name!r} (known: {', '.join(assigner_names())})"
        )
    return factory()
