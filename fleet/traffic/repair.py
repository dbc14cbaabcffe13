"""Windowed planning with large-neighbourhood repair (`lns`; grid4 and the rotation model).

Why (docs/traffic.md, "Windowed repair"): with strict one-way lanes every trip is
about 6% longer than the shortest one, and with soft lanes the one-step planner
loses as much again in head-on meetings, which it can only resolve by pushing a
robot back down its aisle. Planning a few steps ahead and repairing the plan lets
robots take the short way while their meetings are planned away in time — the
approach of the 2023 Robot Runners winner (PIBT for a first window, then
large-neighbourhood search; Jiang et al., "Scaling Lifelong Multi-Agent Path
Finding to More Realistic Settings", after RHCR's rolling windows).

Each step:

1. `guided`'s one-step plan, which also advances PIBT's per-robot memory
   (waiting times, watchdog). It is the fallback.
2. A ``window``-step PIBT rollout from the current floor: the first window,
   collision-free by construction.
3. Repair, for at most ``iterations`` neighbourhoods or until the deadline: pick a
   delayed robot (its window costs more than its lane distance) among the most
   delayed, with the robots whose window cells lie on its unhindered way; lift their
   paths, replan them one by one (random order) by space-time A* against everyone
   else's reserved cells and moves, and keep the new paths only if the
   neighbourhood's total cost fell. A robot's cost is the lane cost of its moves (a
   wait or a turn costs one move) until it first reaches its goal, or, if it does
   not, of the whole window plus its lane distance from where the window ends (and,
   in the rotation model, the turns to face its best way on).
4. The window's first row is the step.

Soft lanes in grid4 below ``dense_density``; strict ones on denser floors and in the
rotation model (`RepairParams`).

Guaranteed: every window, after any number of repairs, has no vertex conflict,
no swap, no move into a blocked cell and keeps held robots where they are
(`test_repair_never_conflicts` checks every row with the independent checker).
Robots that are held, have no goal, were raised by the stall watchdog, or come
first in PIBT's order are never lifted: they keep their PIBT paths, so the
watchdog's liveness argument (docs/traffic.md) applies to them unchanged. The
repair reads the clock (passed in: `use_clock`) every few neighbourhoods; the
rollout is skipped when it would not end in time, and one that ends past the
deadline is dropped for the one-step plan.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from fleet.traffic.graph import FloorGraph
from fleet.traffic.guided import (
    GUIDED_OPTIONS,
    ROTATION_CONGESTION,
    CongestionParams,
    GuidedPlanner,
    LaneParams,
)
from fleet.traffic.pibt import BOOST, StepInput
from fleet.traffic.planner import ActionModel, PlanRequest, PlanResult

FREE = -1
CLOCK_EVERY = 8
"""Neighbourhoods between two reads of the clock."""


@dataclass(frozen=True)
class RepairParams:
    """``window`` steps are planned; at most ``iterations`` neighbourhoods of up to
    ``neighbourhood`` robots are repaired per step (a bound on work, so a run is the
    same on any machine while the deadline does not bind); ``budget_ms`` is the
    wall-clock guard for window and repair together; neighbourhoods start from one
    of the ``seeds_from`` most delayed robots."""

    window: int = 10
    iterations: int = 1000
    neighbourhood: int = 8
    budget_ms: float = 800.0
    seeds_from: int = 64
    rotation: bool = True
    """Repair in the rotation model too (`TurnWindowRepair`); off: `guided` there."""
    lanes: LaneParams = field(default_factory=lambda: LaneParams(against=2, narrow_against=2))
    """Soft lanes (grid4, below ``dense_density``): the repair plans head-on meetings
    away, so the short way is worth taking (docs/benchmarks.md, "Windowed repair")."""
    dense_density: float = 0.2
    """Robots per free cell from which the lanes are ``dense_lanes``: on a crowded floor
    the rollout on soft lanes jams beyond repair (N = 1,600 on warehouse-10-20-10-2-1,
    28%: 70.0% of the bound soft, 82.1% strict, `guided` 79.2%)."""
    dense_lanes: LaneParams = field(default_factory=LaneParams)
    """Strict lanes, as `guided`'s; the rotation model always uses them."""


@dataclass
class RepairStats:
    steps: int = 0
    fallbacks: int = 0
    neighbourhoods: int = 0
    accepted: int = 0
    gain: int = 0
    """Sum of the accepted cost decreases, in lane-cost units."""


class WindowRepair:
    """One window and its repair: pure (lists in, lists out), no clock of its own.

    A path holds one *state* a time step; in grid4 a state is the node (``SHIFT`` 0),
    in `TurnWindowRepair` the node and heading (``node << 2 | heading``).

    ``paths[a]`` is robot ``a``'s node for times ``0 … window``; ``fixed[a]`` robots are
    never lifted. ``h_row(a)`` gives robot ``a``'s lane-distance row (units, for the
    searches) and ``h_at(a, node)`` one value of it (for costs: no row built).
    """

    SHIFT = 0

    def __init__(
        self,
        paths: list[list[int]],
        goals: list[int],
        fixed: list[bool],
        h_row: Callable[[int], list[int]],
        h_at: Callable[[int, int], int],
        neighbours: list[list[int]],
        costs: list[list[int]],
        closed: list[bool],
        unit: int,
    ) -> None:
        self.paths = paths
        self.goals = goals
        self.fixed = fixed
        self.h_row = h_row
        self.h_at = h_at
        self.neighbours = neighbours
        self.costs = costs
        self.closed = closed
        self.unit = unit
        self.window = len(paths[0]) - 1 if paths else 0
        size = len(neighbours)
        self.size = size
        self.occ = [[FREE] * size for _ in range(self.window + 1)]
        for robot, path in enumerate(paths):
            self._reserve(robot, path)
        self.cost = [self.cost_of(robot, path) for robot, path in enumerate(paths)]

    # -- costs ------------------------------------------------------------------------

    def cost_of(self, robot: int, path: list[int]) -> int:
        """Lane cost of the moves until the goal is first reached (a wait: one move), or,
        when it is not reached, of the whole window plus the lane distance left."""
        goal = self.goals[robot]
        if goal < 0 or path[0] == goal:
            return 0
        total = 0
        for t in range(self.window):
            here, there = path[t], path[t + 1]
            if here == there:
                total += self.unit
            else:
                total += self.costs[here][self.neighbours[here].index(there)]
            if there == goal:
                return total
        return total + self.h_at(robot, path[-1])

    def delay(self, robot: int) -> int:
        """Window cost above the lane distance from the start (0: unhindered)."""
        if self.goals[robot] < 0:
            return 0
        return self.cost[robot] - self.h_at(robot, self.paths[robot][0] >> self.SHIFT)

    # -- repair -----------------------------------------------------------------------

    def repair(
        self,
        iterations: int,
        neighbourhood: int,
        seeds_from: int,
        rng: np.random.Generator,
        expired: Callable[[], bool] = lambda: False,
    ) -> tuple[int, int, int]:
        """Up to ``iterations`` neighbourhoods; ``(tried, accepted, gain)``."""
        delays = [(self.delay(r), r) for r in range(len(self.paths)) if not self.fixed[r]]
        seeds = [r for d, r in sorted(delays, key=lambda x: (-x[0], x[1])) if d > 0][:seeds_from]
        tried = accepted = gain = 0
        if not seeds:
            return tried, accepted, gain
        for k in range(iterations):
            if k % CLOCK_EVERY == 0 and expired():
                break
            tried += 1
            seed = seeds[int(rng.integers(len(seeds)))]
            saved = self._replan(self.neighbourhood_of(seed, neighbourhood), rng)
            if saved > 0:
                accepted += 1
                gain += saved
        return tried, accepted, gain

    def neighbourhood_of(self, seed: int, size: int) -> list[int]:
        """``seed`` and the robots in its way: along its unhindered lane path, whoever
        holds one of those cells one step before, at or after the seed would be there."""
        group = [seed]
        h = self.h_row(seed)
        here = self.paths[seed][0] >> self.SHIFT
        for t in range(1, self.window + 1):
            best, step = math.inf, -1
            for way, there in enumerate(self.neighbours[here]):
                if there >= 0 and not self.closed[there]:
                    value = self.costs[here][way] + h[there]
                    if value < best:
                        best, step = value, there
            if step < 0:
                break
            here = step
            for when in range(t - 1, min(self.window, t + 1) + 1):
                other = self.occ[when][here]
                if other != FREE and other not in group and not self.fixed[other]:
                    group.append(other)
                    if len(group) >= size:
                        return group
            if h[here] == 0:
                break
        return group

    def _replan(self, group: list[int], rng: np.random.Generator) -> int:
        """Replan ``group`` in a random order; keep the result only if cheaper, else
        restore the old paths. Returns the cost saved (0: nothing kept)."""
        old = {r: self.paths[r] for r in group}
        before = sum(self.cost[r] for r in group)
        for r in group:
            self._release(r, self.paths[r])
        order = list(group)
        rng.shuffle(order)
        found: dict[int, tuple[list[int], int]] = {}
        for r in order:
            planned = self.search(r)
            if planned is None:
                break
            found[r] = planned
            self._reserve(r, planned[0])
        after = sum(c for _, c in found.values())
        if len(found) == len(group) and after < before:
            for r, (path, cost) in found.items():
                self.paths[r] = path
                self.cost[r] = cost
            return before - after
        for r, (path, _) in found.items():
            self._release(r, path)
        for r in group:
            self.paths[r] = old[r]
            self._reserve(r, old[r])
        return 0

    def search(self, robot: int) -> tuple[list[int], int] | None:
        """Space-time A* for ``robot`` against every reserved cell and move: a path of least
        `cost_of`, or ``None`` when every way is blocked. States carry whether the goal
        was reached (after it, steps are free: in operation the robot has its next task);
        the lane distance is an admissible, consistent heuristic for the rest."""
        window, size, unit = self.window, self.size, self.unit
        occ, neighbours, costs, closed = self.occ, self.neighbours, self.costs, self.closed
        goal = self.goals[robot]
        h = self.h_row(robot)
        start = self.paths[robot][0]
        arrived0 = start == goal
        heap: list[tuple[int, int, int, int, bool, int]] = [
            (0 if arrived0 else h[start], 0, 0, start, arrived0, -1)
        ]
        trail: list[tuple[int, int, int]] = []
        seen: set[int] = set()
        while heap:
            _, spent, t, here, arrived, parent = heapq.heappop(heap)
            key = 2 * (t * size + here) + arrived
            if key in seen:
                continue
            seen.add(key)
            index = len(trail)
            trail.append((t, here, parent))
            if t == window:
                return self._path(trail, index, window), spent + (0 if arrived else h[here])
            if (
                arrived
                and here == goal
                and all(occ[later][here] == FREE for later in range(t + 1, window + 1))
            ):
                return self._path(trail, index, window), spent  # it stays at its goal
            now, then = occ[t], occ[t + 1]
            if then[here] == FREE:
                cost = spent if arrived else spent + unit
                if 2 * ((t + 1) * size + here) + arrived not in seen:
                    rest = 0 if arrived else h[here]
                    heapq.heappush(heap, (cost + rest, cost, t + 1, here, arrived, index))
            for way, there in enumerate(neighbours[here]):
                if there < 0 or closed[there] or then[there] != FREE:
                    continue
                other = now[there]
                if other != FREE and then[here] == other:
                    continue  # a swap with the robot coming the other way
                reached = arrived or there == goal
                if 2 * ((t + 1) * size + there) + reached in seen:
                    continue
                cost = spent if arrived else spent + costs[here][way]
                rest = 0 if reached else h[there]
                heapq.heappush(heap, (cost + rest, cost, t + 1, there, reached, index))
        return None

    @staticmethod
    def _path(trail: list[tuple[int, int, int]], index: int, window: int) -> list[int]:
        """The nodes from the start to ``trail[index]``, then staying there to the end."""
        _, end, _ = trail[index]
        path = [end] * (window + 1)
        while index >= 0:
            t, node, index = trail[index]
            path[t] = node
        return path

    def _reserve(self, robot: int, path: list[int]) -> None:
        shift = self.SHIFT
        for t, state in enumerate(path):
            self.occ[t][state >> shift] = robot

    def _release(self, robot: int, path: list[int]) -> None:
        shift = self.SHIFT
        for t, state in enumerate(path):
            if self.occ[t][state >> shift] == robot:
                self.occ[t][state >> shift] = FREE


class TurnWindowRepair(WindowRepair):
    """`WindowRepair` in the rotation model: a state is ``node << 2 | heading``; a step is
    forward (along the heading), a quarter turn either way, or a wait. A turn or a wait
    costs one move; a window that ends short of the goal adds the quarter turns still
    needed to face its best way on (as `windowed` scores operations)."""

    SHIFT = 2

    def cost_of(self, robot: int, path: list[int]) -> int:
        goal = self.goals[robot]
        if goal < 0 or path[0] >> 2 == goal:
            return 0
        total = 0
        for t in range(self.window):
            here, there = path[t], path[t + 1]
            if here >> 2 == there >> 2:
                total += self.unit
            else:
                total += self.costs[here >> 2][here & 3]
            if there >> 2 == goal:
                return total
        return total + self.end_cost(robot, path[-1])

    def end_cost(self, robot: int, state: int) -> int:
        """Lane distance from the state's node plus the turns to face its best way on."""
        node, heading = state >> 2, state & 3
        best, way = math.inf, heading
        for d, there in enumerate(self.neighbours[node]):
            if there >= 0 and not self.closed[there]:
                value = self.costs[node][d] + self.h_at(robot, there)
                if value < best:
                    best, way = value, d
        turns = abs(heading - way) % 4
        return self.h_at(robot, node) + self.unit * min(turns, 4 - turns)

    def search(self, robot: int) -> tuple[list[int], int] | None:
        """Space-time A* over (node, heading) states; see `WindowRepair.search`."""
        window, size, unit = self.window, self.size, self.unit
        occ, neighbours, costs, closed = self.occ, self.neighbours, self.costs, self.closed
        goal = self.goals[robot]
        h = self.h_row(robot)
        start = self.paths[robot][0]
        arrived0 = start >> 2 == goal
        heap: list[tuple[int, int, int, int, bool, int]] = [
            (0 if arrived0 else h[start >> 2], 0, 0, start, arrived0, -1)
        ]
        trail: list[tuple[int, int, int]] = []
        seen: set[int] = set()
        while heap:
            _, spent, t, state, arrived, parent = heapq.heappop(heap)
            key = 2 * (t * size * 4 + state) + arrived
            if key in seen:
                continue
            seen.add(key)
            index = len(trail)
            trail.append((t, state, parent))
            here, heading = state >> 2, state & 3
            if t == window:
                return self._path(trail, index, window), spent
            if (
                arrived
                and here == goal
                and all(occ[later][here] == FREE for later in range(t + 1, window + 1))
            ):
                return self._path(trail, index, window), spent
            now, then = occ[t], occ[t + 1]
            last = t + 1 == window
            moves: list[tuple[int, int]] = []
            if then[here] == FREE:
                moves.append((state, unit))
                moves.append((here << 2 | (heading + 1) & 3, unit))
                moves.append((here << 2 | (heading + 3) & 3, unit))
            there = neighbours[here][heading]
            if there >= 0 and not closed[there] and then[there] == FREE:
                other = now[there]
                if not (other != FREE and then[here] == other):
                    moves.append((there << 2 | heading, costs[here][heading]))
            for nxt, step in moves:
                reached = arrived or nxt >> 2 == goal
                if 2 * ((t + 1) * size * 4 + nxt) + reached in seen:
                    continue
                cost = spent if arrived else spent + step
                if reached:
                    rest = 0
                elif last:
                    rest = self.end_cost(robot, nxt)  # exact: the window ends here
                else:
                    rest = h[nxt >> 2]
                if last:
                    cost, rest = cost + rest, 0
                heapq.heappush(heap, (cost + rest, cost, t + 1, nxt, reached, index))
        return None


class RepairPlanner(GuidedPlanner):
    """`guided` with a repaired ``window``-step plan behind every step."""

    def __init__(
        self,
        graph: FloorGraph,
        lanes: LaneParams,
        congestion: CongestionParams,
        params: RepairParams = RepairParams(),
        clock: Callable[[], float] | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(graph, lanes, congestion, **kwargs)  # type: ignore[arg-type]
        self.params = params
        self._clock = clock
        seed = kwargs.get("seed", 0)
        self._repair_rng = np.random.default_rng([seed if isinstance(seed, int) else 0, 5050])
        self._lists: tuple[list[list[int]], list[list[int]]] | None = None
        self._lists_of: np.ndarray | None = None
        self._last_priority: np.ndarray | None = None
        self.stats = RepairStats()

    def use_clock(self, clock: Callable[[], float]) -> None:
        """Set the clock the deadline is read from (`evaluate` passes the harness's)."""
        self._clock = clock

    def _fit_lanes(self, robots: int) -> None:
        """Soft lanes on a grid4 floor below ``dense_density``, strict lanes otherwise."""
        density = robots / max(1, self.graph.size)
        params = self.params
        soft = self.model is ActionModel.GRID4 and density < params.dense_density
        self._lanes = params.lanes if soft else params.dense_lanes
        super()._fit_lanes(robots)

    def _prepare(self, request: PlanRequest) -> StepInput | None:
        step = super()._prepare(request)
        self._last_priority = None if step is None else step.priority
        return step

    def plan(self, request: PlanRequest) -> PlanResult:
        clock = self._clock
        deadline = math.inf if clock is None else clock() + self.params.budget_ms / 1000.0
        started = clock() if clock is not None else 0.0
        fallback = super().plan(request)
        rotation = self.model is ActionModel.ROTATION
        if rotation and not self.params.rotation:
            return fallback
        if clock is not None:
            now = clock()
            if now + (now - started) * self.params.window >= deadline:
                # the rollout (``window`` more such steps) would not end in time
                self.stats.steps += 1
                self.stats.fallbacks += 1
                return fallback
        priority = self._last_priority
        count = len(request.cells)
        self.stats.steps += 1
        if count == 0 or priority is None or self.params.window <= 0:
            return fallback
        rollout = self.rollout(request, self.params.window)
        if clock is not None and clock() >= deadline:
            self.stats.fallbacks += 1
            return fallback
        graph = self.graph
        nodes = graph.node_of[np.asarray(rollout.cells, dtype=np.int64)]  # [W+1, N]
        states = nodes
        if rotation:
            assert rollout.headings is not None
            states = nodes << 2 | np.asarray(rollout.headings, dtype=np.int64)
        goals = np.asarray(request.goals, dtype=np.int64)
        goal_nodes = np.where(goals >= 0, graph.node_of[np.maximum(goals, 0)], -1)
        slots = self._slots(np.where(goal_nodes >= 0, goal_nodes, nodes[0]), goals < 0)
        fixed = goal_nodes < 0
        fixed |= priority >= BOOST  # raised by the watchdog
        fixed[int(np.argmax(priority))] = True  # PIBT's first robot keeps its way
        if request.held is not None:
            fixed |= np.asarray(request.held, dtype=bool)
        pool = self.distances.pool
        rows: dict[int, list[int]] = {}

        def h_row(robot: int) -> list[int]:
            slot = int(slots[robot])
            row = rows.get(slot)
            if row is None:
                row = rows[slot] = pool[slot].tolist()
            return row

        def h_at(robot: int, node: int) -> int:
            return int(pool[slots[robot], node])

        neighbours, costs = self._tables()
        repair = (TurnWindowRepair if rotation else WindowRepair)(
            states.T.tolist(),
            goal_nodes.tolist(),
            fixed.tolist(),
            h_row,
            h_at,
            neighbours,
            costs,
            graph.blocked.tolist(),
            self.distances.unit,
        )
        tried, accepted, gain = repair.repair(
            self.params.iterations,
            self.params.neighbourhood,
            self.params.seeds_from,
            self._repair_rng,
            (lambda: clock() >= deadline) if clock is not None else (lambda: False),
        )
        self.stats.neighbourhoods += tried
        self.stats.accepted += accepted
        self.stats.gain += gain
        first = np.array([path[1] for path in repair.paths], dtype=np.int64)
        if rotation:
            return PlanResult(graph.cells(first >> 2), (first & 3).astype(np.int8))
        return PlanResult(graph.cells(first), None)

    def _tables(self) -> tuple[list[list[int]], list[list[int]]]:
        """Neighbour table and move costs as lists (rebuilt when the costs change)."""
        costs = self.distances.costs
        cached = self._lists
        if cached is None or self._lists_of is not costs:
            cached = (self.graph.neighbours.tolist(), costs.tolist())
            self._lists, self._lists_of = cached, costs
        return cached


def make_repair(
    navigable: np.ndarray,
    model: ActionModel = ActionModel.GRID4,
    seed: int = 0,
    params: RepairParams = RepairParams(),
    clock: Callable[[], float] | None = None,
) -> RepairPlanner:
    """``lns``: `guided` plus a repaired window behind every step (in the rotation model
    with `guided`'s lanes and congestion costs, as `make_guided` sets them)."""
    rotation = model is ActionModel.ROTATION
    return RepairPlanner(
        FloorGraph(navigable),
        LaneParams() if rotation else params.lanes,
        ROTATION_CONGESTION if rotation else CongestionParams(),
        params,
        clock,
        name="lns",
        model=model,
        options=GUIDED_OPTIONS,
        seed=seed,
    )
