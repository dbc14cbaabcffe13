"""PIBT (Okumura et al., 2019/2022): priority inheritance with backtracking.

One engine serves the baseline and our planner; they differ only in the
distance tables and the `PIBTOptions` they pass in.

A step has two halves. The vectorised half (numpy, O(N)) gathers every
robot's candidate cells and their distances to its goal from the
`GoalDistances` pool, scores and sorts them. The sequential half is the PIBT
recursion over plain Python lists: robots in priority order reserve their
best free candidate; a robot whose candidate is occupied by an unplanned robot
lends it its priority, and that robot must move away or the candidate is
given up. Reservations per cell make vertex conflicts impossible and the
"occupant already moves into my cell" test rules out swaps.

Plain PIBT guarantees that the highest-priority robot reaches its goal only
when every pair of adjacent cells lies on a cycle. Dead-end aisles break that;
`PIBTOptions.swap` adds the corridor swap (pull instead of push) and
`stall_steps` raises a robot that makes no progress above everyone else —
see docs/traffic.md for the argument.
"""

from __future__ import annotations

import copy
import math
import sys
from dataclasses import dataclass, replace

import numpy as np

from fleet.traffic.distances import GoalDistances
from fleet.traffic.graph import FloorGraph
from fleet.traffic.planner import ActionModel, PlanRequest, PlanResult, Rollout

BOOST = 1e9
EXTERNAL = 1e6


@dataclass(frozen=True)
class PIBTOptions:
    """Knobs of the engine; all off is plain PIBT with random tie-breaking."""

    swap: bool = False
    """Corridor swap: pull a robot through a dead end instead of pushing it in."""
    occupied_penalty: float = 0.0
    """Extra cost, in moves, of a candidate cell another robot stands on."""
    headon_penalty: float = 0.0
    """Extra cost, in moves, of a cell whose occupant wants to come to my cell."""
    stall_steps: int = 0
    """Steps without getting closer to the goal before top priority (0: off)."""
    rotation_stall_steps: int = 0
    """``stall_steps`` in the rotation model (0: the same). Turns and make-way
    detours cost more there, so more robots pass a short threshold without being
    stuck, and a large boosted set re-ordered at random every epoch throws away
    PIBT's waiting-time order (docs/traffic.md, Limitations)."""


@dataclass(frozen=True, eq=False)
class StepInput:
    """One step's prepared input: robots' nodes, goal nodes and pool rows (``-1``: no
    goal), priorities (memory already advanced), headings (rotation), closed nodes
    (blocked or held), the held mask."""

    positions: np.ndarray
    goal_nodes: np.ndarray
    slots: np.ndarray
    priority: np.ndarray
    headings: np.ndarray | None
    closed: np.ndarray
    held: np.ndarray | None


def _turns(facing: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Quarter turns needed to face ``direction`` (0, 1 or 2)."""
    diff = np.abs(facing - direction) % 4
    return np.minimum(diff, 4 - diff)


class _Memory:
    """Per-robot state kept between steps, keyed by robot id."""

    def __init__(self, ids: np.ndarray, rng: np.random.Generator) -> None:
        n = ids.size
        self.ids = ids.copy()
        self.goal = np.full(n, -1, dtype=np.int64)
        self.elapsed = np.zeros(n, dtype=np.int64)
        self.best = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        self.stall = np.zeros(n, dtype=np.int64)
        self.tiebreak = rng.random(n)
        self.key = rng.random(n)

    def remap(self, ids: np.ndarray, rng: np.random.Generator) -> _Memory:
        fresh = _Memory(ids, rng)
        index = {int(robot): k for k, robot in enumerate(self.ids.tolist())}
        old = np.array([index.get(int(r), -1) for r in ids.tolist()], dtype=np.int64)
        keep = old >= 0
        for name in ("goal", "elapsed", "best", "stall", "tiebreak", "key"):
            getattr(fresh, name)[keep] = getattr(self, name)[old[keep]]
        return fresh


def _held_mask(held: np.ndarray | None, count: int) -> np.ndarray | None:
    """The request's held mask as bools, or ``None`` when no robot is held."""
    if held is None:
        return None
    mask = np.asarray(held, dtype=bool)
    if mask.shape != (count,):
        raise ValueError(f"held must be a bool mask of {count} robots, got shape {mask.shape}")
    return mask if mask.any() else None


class PIBTPlanner:
    """A `Planner` running PIBT over the given distance tables."""

    def __init__(
        self,
        graph: FloorGraph,
        distances: GoalDistances,
        *,
        name: str = "pibt",
        model: ActionModel = ActionModel.GRID4,
        options: PIBTOptions | None = None,
        seed: int = 0,
    ) -> None:
        self.name = name
        self.model = model
        self.graph = graph
        self.distances = distances
        self.options = options or PIBTOptions()
        self._rng = np.random.default_rng(seed)
        self._memory: _Memory | None = None
        self._steps = 0
        self._occ_now = [-1] * graph.size
        self._occ_next = [-1] * graph.size
        costs = distances.costs
        self._grain = float(np.gcd.reduce(costs.ravel())) if costs.size else 1.0
        self._open: list[list[int]] = []
        self._open_version: np.ndarray | None = None

    # -- public -----------------------------------------------------------------

    def precompute(self, goal_cells: np.ndarray, fleet_size: int | None = None) -> None:
        if fleet_size is not None:
            # every robot holds a goal row, and goals turn over: room for 1.3x
            self.distances.reserve(int(1.3 * fleet_size) + 64)
        self.distances.precompute(self.graph.nodes(goal_cells, "goals"))

    def plan(self, request: PlanRequest) -> PlanResult:
        return self._step(request)

    def rollout(self, request: PlanRequest, steps: int) -> Rollout:
        """`Planner.rollout`: ``steps`` engine steps on a copy of the per-robot memory.

        Waiting times, stall counters, the watchdog's step count and the random
        generator are restored afterwards; goal tables the rollout needed stay in
        the cache (values do not depend on when they were computed). Stale rows
        are not refreshed during a rollout. One inexactness is left, with
        congestion-aware costs only: a stale row the rollout evicts from a full
        pool comes back fresh in the next plan.
        """
        rotation = self.model is ActionModel.ROTATION
        if steps < 0:
            raise ValueError("steps must be >= 0")
        if rotation and request.headings is None:
            raise ValueError("the rotation model needs headings")
        saved = (copy.deepcopy(self._memory), self._rng.bit_generator.state, self._steps)
        stale_refresh = self.distances.stale_refresh
        self.distances.stale_refresh = 0
        cells = [np.asarray(request.cells, dtype=np.int64)]
        headings = [np.asarray(request.headings, dtype=np.int64) % 4] if rotation else []
        try:
            current = request
            for _ in range(steps):
                result = self._step(current)
                current = replace(current, cells=result.cells, headings=result.headings)
                cells.append(np.asarray(result.cells, dtype=np.int64))
                if rotation:
                    headings.append(np.asarray(result.headings, dtype=np.int64))
        finally:
            self._memory, self._steps = saved[0], saved[2]
            self._rng.bit_generator.state = saved[1]
            self.distances.stale_refresh = stale_refresh
        return Rollout(np.stack(cells), np.stack(headings) if rotation else None)

    def paths(self, request: PlanRequest, max_len: int) -> np.ndarray:
        """`Planner.paths`: `GoalDistances.paths` over this planner's tables."""
        starts, goal_nodes = self._nodes_of(request)
        nodes = self.distances.paths(starts, goal_nodes, max_len)
        return np.where(nodes >= 0, self.graph.cell_of[np.maximum(nodes, 0)], -1)

    def _nodes_of(self, request: PlanRequest) -> tuple[np.ndarray, np.ndarray]:
        """Apply the request's blocked cells; robots' nodes and goal nodes (a robot
        without a goal has its own node as goal)."""
        graph = self.graph
        graph.set_blocked(request.blocked)
        positions = graph.nodes(request.cells, "cells")
        goals = np.asarray(request.goals, dtype=np.int64)
        goal_nodes = positions.copy()
        has_goal = goals >= 0
        if has_goal.any():
            goal_nodes[has_goal] = graph.nodes(goals[has_goal], "goals")
        return positions, goal_nodes

    def _step(self, request: PlanRequest) -> PlanResult:
        """One PIBT step: the engine behind `plan` and `rollout`."""
        step = self._prepare(request)
        if step is None:
            empty = np.zeros(0, dtype=np.int64)
            return PlanResult(
                empty, empty.astype(np.int8) if self.model is ActionModel.ROTATION else None
            )
        return self._one_step(step)

    def _prepare(self, request: PlanRequest) -> StepInput | None:
        """Nodes, tables, this step's priorities (memory updated once); ``None``: no robots."""
        graph = self.graph
        positions, goal_nodes = self._nodes_of(request)
        count = positions.size
        ids = (
            np.arange(count, dtype=np.int64)
            if request.robot_ids is None
            else np.asarray(request.robot_ids, dtype=np.int64)
        )
        if count == 0:
            return None
        held = _held_mask(request.held, count)
        closed = graph.blocked
        if held is not None:
            # held robots are obstacles for this step only: a mask, not a floor change
            closed = closed.copy()
            closed[positions[held]] = True
        slots = self._slots(goal_nodes, np.asarray(request.goals) < 0)
        priority = self._priorities(ids, positions, goal_nodes, slots, request.priorities, held)
        headings = None
        if self.model is ActionModel.ROTATION:
            if request.headings is None:
                raise ValueError("the rotation model needs headings")
            headings = np.asarray(request.headings, dtype=np.int64) % 4
        return StepInput(positions, goal_nodes, slots, priority, headings, closed, held)

    def _one_step(self, step: StepInput) -> PlanResult:
        """PIBT's one-step plan (4-connected, then the rotation post-pass)."""
        graph = self.graph
        positions, goal_nodes, slots = step.positions, step.goal_nodes, step.slots
        headings, closed, held = step.headings, step.closed, step.held
        candidates, counts = self._grid_candidates(positions, slots, closed, headings)
        order = np.argsort(-step.priority, kind="stable").tolist()
        held_list = [] if held is None else np.flatnonzero(held).tolist()
        nxt = self._run(order, positions.tolist(), goal_nodes, candidates, counts, slots, held_list)
        next_nodes = np.asarray(nxt, dtype=np.int64)
        if headings is not None:
            next_nodes, new_headings = self._rotate(
                positions, headings, next_nodes, slots, closed, held
            )
            return PlanResult(graph.cells(next_nodes), new_headings)
        next_cells = graph.cells(next_nodes)
        return PlanResult(next_cells, None)

    # -- vectorised half ----------------------------------------------------------

    def _priorities(
        self,
        ids: np.ndarray,
        positions: np.ndarray,
        goals: np.ndarray,
        slots: np.ndarray,
        external: np.ndarray | None,
        held: np.ndarray | None = None,
    ) -> np.ndarray:
        """This step's priority of every robot, updating the per-robot memory.

        A held robot's waiting time and stall counter are frozen: holding is
        not waiting in traffic, and its memory must survive the hold intact.
        """
        memory = self._memory
        if memory is None or not np.array_equal(memory.ids, ids):
            memory = memory.remap(ids, self._rng) if memory is not None else None
            memory = memory or _Memory(ids, self._rng)
            self._memory = memory
        changed = memory.goal != goals
        memory.goal = goals.copy()
        memory.elapsed[changed] = 0
        memory.stall[changed] = 0
        memory.best[changed] = np.iinfo(np.int64).max
        now = self._lookup(slots, positions, positions).astype(np.int64)
        at_goal = positions == goals
        progress = now < memory.best
        memory.best = np.minimum(memory.best, now)
        stall = np.where(progress | at_goal, 0, memory.stall + 1)
        elapsed = np.where(at_goal, 0, memory.elapsed + 1)
        if held is not None:
            stall = np.where(held, memory.stall, stall)
            elapsed = np.where(held, memory.elapsed, elapsed)
        memory.stall, memory.elapsed = stall, elapsed
        priority = memory.elapsed + memory.tiebreak
        stall_steps = self.options.stall_steps
        if self.model is ActionModel.ROTATION and self.options.rotation_stall_steps > 0:
            stall_steps = self.options.rotation_stall_steps
        if stall_steps > 0:
            # Livelock breaker: robots stuck for a while outrank everyone, in an
            # order re-drawn every epoch, so any order that frees them is tried.
            if self._steps % stall_steps == 0:
                memory.key = self._rng.random(ids.size)
            stalled = memory.stall > stall_steps
            priority = priority + stalled * BOOST * (1.0 + memory.key)
        self._steps += 1
        if external is not None:
            priority = priority + EXTERNAL * np.asarray(external, dtype=np.float64)
        return priority

    def _slots(self, goal_nodes: np.ndarray, idle: np.ndarray) -> np.ndarray:
        """Pool rows of the goals; ``-1`` for robots without a goal (no table: see `_lookup`)."""
        if not idle.any():
            return self.distances.slots(goal_nodes)
        slots = np.full(goal_nodes.size, -1, dtype=np.int64)
        if not idle.all():
            slots[~idle] = self.distances.slots(goal_nodes[~idle])
        return slots

    def _lookup(self, slots: np.ndarray, nodes: np.ndarray, home: np.ndarray) -> np.ndarray:
        """``pool[slots, nodes]``; a robot without a goal (slot ``-1``) is 0 from its own
        cell ``home`` and one move from anywhere else: it parks, yet yields when pushed,
        and needs no distance table (a table per parked cell cost seconds per step at
        10,000 robots waiting for their first task)."""
        pool = self.distances.pool
        idle = slots < 0
        if pool.shape[0] == 0:  # every robot idle, no table yet
            values = np.zeros(np.broadcast(slots, nodes).shape, dtype=pool.dtype)
        else:
            values = pool[np.maximum(slots, 0), nodes]
        if idle.any():
            if home.ndim < nodes.ndim:  # one home per robot row
                home = home.reshape(home.shape + (1,) * (nodes.ndim - home.ndim))
            parked = np.where(nodes == home, 0, self.distances.unit).astype(values.dtype)
            values = np.where(idle, parked, values)
        return values

    def _distances_of(
        self, slots: np.ndarray, nodes: np.ndarray, closed: np.ndarray, home: np.ndarray
    ) -> np.ndarray:
        """Distances of candidate ``nodes [N, K]`` (``-1``: none) to each robot's goal;
        ``inf`` for nodes marked in ``closed`` (blocked, or held robots' cells); ``home``
        is each robot's cell (robots without a goal park there)."""
        valid = nodes >= 0
        valid[valid] &= ~closed[nodes[valid]]
        gathered = self._lookup(slots[:, None], np.where(valid, nodes, 0), home).astype(np.float64)
        gathered[gathered >= self.distances.unreachable] = 1e12
        gathered[~valid] = math.inf
        return gathered

    def _grid_candidates(
        self,
        positions: np.ndarray,
        slots: np.ndarray,
        closed: np.ndarray,
        headings: np.ndarray | None = None,
    ) -> tuple[list[list[int]], list[int]]:
        count = positions.size
        nodes = np.empty((count, 5), dtype=np.int64)
        nodes[:, :4] = self.graph.neighbours[positions]
        nodes[:, 4] = positions
        score = self._distances_of(slots, nodes, closed, positions)
        if headings is not None:
            # rotation model: a move off the current heading first costs the turns
            turn_cost = _turns(headings[:, None], np.arange(4)[None, :]) * self.distances.unit
            best = np.argmin(score[:, :4], axis=1)
            score[:, :4] += turn_cost
            # staying does not save the turns towards the best way on
            at_goal = score[:, 4] == 0
            score[:, 4] += np.where(at_goal, 0, turn_cost[np.arange(count), best])
        score += self._rng.random(score.shape) * (0.45 * self._grain)
        options = self.options
        if options.occupied_penalty or options.headon_penalty:
            unit = self.distances.unit
            occupant = np.full(self.graph.size, -1, dtype=np.int64)
            occupant[positions] = np.arange(count)
            safe = np.where(nodes >= 0, nodes, 0)
            who = np.where(nodes >= 0, occupant[safe], -1)
            who[:, 4] = -1
            taken = who >= 0
            if options.occupied_penalty:
                score += taken * (options.occupied_penalty * unit)
            if options.headon_penalty:
                wish = nodes[np.arange(count), np.argmin(score, axis=1)]
                their_wish = np.where(taken, wish[np.where(taken, who, 0)], -2)
                score += (their_wish == positions[:, None]) * (options.headon_penalty * unit)
        order = np.argsort(score, axis=1, kind="stable")
        ranked = np.take_along_axis(nodes, order, axis=1)
        counts = np.isfinite(score).sum(axis=1)
        return ranked.tolist(), counts.tolist()

    def _rotate(
        self,
        positions: np.ndarray,
        headings: np.ndarray,
        wanted: np.ndarray,
        slots: np.ndarray,
        closed: np.ndarray,
        held: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Turn PIBT's 4-connected step into rotation-model actions.

        A robot whose wanted cell is straight ahead drives there; one that
        must face another way turns one quarter towards it and stays. A robot
        wanting the cell of one that stays must stay too (repeated to a fixed
        point), which keeps the step free of vertex conflicts; swaps cannot
        appear because PIBT's step has none. Robots that stay for any reason
        face their wanted (or best) direction, so a robot asked to make way
        is turned and ready to move next tick. A held robot keeps its heading.
        """
        count = positions.size
        nbrs = self.graph.neighbours[positions]
        moving = wanted != positions
        direction = np.argmax(nbrs == wanted[:, None], axis=1)
        stays = moving & (direction != headings)
        occupant = np.full(self.graph.size, -1, dtype=np.int64)
        occupant[positions] = np.arange(count)
        while True:
            blocker = occupant[wanted]
            blocked = moving & ~stays & (blocker >= 0) & (blocker != np.arange(count))
            blocked &= stays[np.maximum(blocker, 0)]
            if not blocked.any():
                break
            stays |= blocked
        goes = moving & ~stays
        next_nodes = np.where(goes, wanted, positions)
        # where to face while staying: the wanted cell, else the best neighbour
        around = self._distances_of(slots, nbrs, closed, positions)
        best = np.argmin(around, axis=1)
        here = self._lookup(slots, positions, positions)
        face = np.where(moving, direction, best)
        face = np.where(~moving & (here == 0), headings, face)
        diff = (face - headings) % 4
        turn = np.where(diff == 3, -1, np.where(diff == 0, 0, 1))
        if held is not None:
            turn[held] = 0
        new_headings = np.where(goes, headings, (headings + turn) % 4)
        return next_nodes, new_headings.astype(np.int8)

    # -- sequential half ----------------------------------------------------------

    def _open_neighbours(self) -> list[list[int]]:
        """Unblocked neighbours of every node (for the corridor walks of the swap)."""
        blocked = self.graph.blocked
        if self._open_version is None or not np.array_equal(self._open_version, blocked):
            nbrs = self.graph.neighbours
            ok = (nbrs >= 0) & ~blocked[np.where(nbrs >= 0, nbrs, 0)]
            self._open = [row[mask].tolist() for row, mask in zip(nbrs, ok, strict=True)]
            self._open_version = blocked.copy()
        return self._open

    def _run(
        self,
        order: list[int],
        positions: list[int],
        goals: np.ndarray,
        candidates: list[list[int]],
        counts: list[int],
        slots: np.ndarray,
        held: list[int],
    ) -> list[int]:
        count = len(positions)
        occ_now = self._occ_now
        occ_next = self._occ_next
        nxt = [-1] * count
        for i, v in enumerate(positions):
            occ_now[v] = i
        for i in held:  # planned before anyone: they stay, so nobody can push them
            nxt[i] = positions[i]
            occ_next[positions[i]] = i
        swap = self.options.swap and self.model is ActionModel.GRID4
        pool = self.distances.pool
        goal_list = goals.tolist()
        slot_list = slots.tolist()
        open_nbrs = self._open_neighbours() if swap else []
        if sys.getrecursionlimit() < 4 * count + 1000:
            sys.setrecursionlimit(4 * count + 1000)

        def parked(u: int, pusher_side: int) -> bool:
            """A dead-end cell holding a robot that sits on its goal: it need not move."""
            if u == pusher_side or len(open_nbrs[u]) != 1:
                return u == pusher_side
            k = occ_now[u]
            return k != -1 and goal_list[k] == u

        def corridor_next(behind: int, at: int) -> tuple[int, int]:
            """Ways on from ``at`` other than ``behind``: (count, one of them)."""
            ways = 0
            onward = -1
            for u in open_nbrs[at]:
                if not parked(u, behind):
                    ways += 1
                    onward = u
            return ways, onward

        def swap_required(puller: int, v_pusher: int, v_puller: int) -> bool:
            """Pushing ``puller`` back would drive it into a dead end, yet it wants out."""
            behind, at = v_pusher, v_puller
            for _ in range(len(open_nbrs)):
                ways, onward = corridor_next(behind, at)
                if ways >= 2 or onward == v_pusher:
                    return False  # it can step aside (or it is a loop): plain PIBT copes
                if ways == 0:
                    break
                behind, at = at, onward
            if slot_list[puller] < 0:
                return False  # parked without a goal: it does not want out
            other = pool[slot_list[puller]]
            return bool(other[v_pusher] < other[v_puller])

        def swap_possible(v_pusher: int, v_puller: int) -> bool:
            origin = v_pusher
            for _ in range(len(open_nbrs)):
                ways, onward = corridor_next(v_pusher, v_puller)
                if ways >= 2:
                    return True
                if ways <= 0 or onward == origin:
                    return False
                v_pusher, v_puller = v_puller, onward
            return False

        def swap_partner(i: int, cands: list[int]) -> int:
            vi = positions[i]
            best = cands[0]
            if best == vi:
                return -1
            j = occ_now[best]
            if j != -1 and nxt[j] == -1 and swap_required(j, vi, best) and swap_possible(best, vi):
                return j
            return -1

        def pibt(i: int) -> bool:
            vi = positions[i]
            cands = candidates[i][: counts[i]]
            partner = -1
            if swap and len(cands) > 1:
                partner = swap_partner(i, cands)
                if partner != -1:
                    cands = cands[::-1]
            for k, u in enumerate(cands):
                if occ_next[u] != -1:
                    continue
                j = occ_now[u]
                if j != -1 and nxt[j] == vi:
                    continue
                occ_next[u] = i
                nxt[i] = u
                if j != -1 and j != i and nxt[j] == -1 and not pibt(j):
                    continue
                if k == 0 and partner != -1 and nxt[partner] == -1 and occ_next[vi] == -1:
                    occ_next[vi] = partner
                    nxt[partner] = vi
                return True
            occ_next[vi] = i
            nxt[i] = vi
            return False

        try:
            for i in order:
                if nxt[i] == -1:
                    pibt(i)
        finally:
            for v in positions:
                occ_now[v] = -1
            for v in nxt:
                if v >= 0:
                    occ_next[v] = -1
        return nxt
