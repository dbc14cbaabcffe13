"""Distance-to-goal tables for planners: one row per goal in a shared numpy pool.

A PIBT step asks "how far is each robot's candidate cell from that robot's
goal?" for every robot at once. Keeping each goal's table as a row of one 2-D
array lets a step answer with a single fancy-indexing gather
(``pool[slot_of_robot, candidate_nodes]``) instead of N Python lookups.

Tables are distances *to* the goal over a directed, weighted graph (edge
``v → neighbours[v, d]`` costs ``costs[v, d]`` integer units), computed as a
single-source search from the goal on the transposed graph with scipy's
compiled Dijkstra (BFS when every cost is equal). Unit costs give the floor's
plain shortest-path distances, the same numbers as `wms.layout.DistanceTables`;
weighted costs give one-way lane guidance and congestion-aware distances.
Cells blocked at run time are cut out of the graph; changing the blocked set
invalidates the pool and tables are recomputed lazily.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Final

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from fleet.traffic.graph import NO_NODE, FloorGraph

BATCH: Final = 128
PREFETCH_BATCH: Final = 4
"""Tables computed between two deadline checks in `GoalDistances.prefetch` (~20 ms)."""
UNREACHABLE16: Final = np.iinfo(np.uint16).max
UNREACHABLE32: Final = np.iinfo(np.int32).max


class GoalDistances:
    """Cached distance-to-goal rows over a `FloorGraph` with per-edge costs.

    ``costs`` is ``[n, 4]`` positive integers (``None``: every move costs 1);
    ``unit`` is the cost of one plain move, so ``table / unit`` is in moves.
    The pool grows as needed; rows of goals no robot holds any more are
    evicted least-recently-used first once ``capacity`` is reached.
    """

    def __init__(
        self, graph: FloorGraph, costs: np.ndarray | None = None, capacity: int = 1024
    ) -> None:
        self.graph = graph
        if costs is None:
            costs = np.ones((graph.size, 4), dtype=np.int64)
        costs = np.asarray(costs, dtype=np.int64)
        if costs.shape != (graph.size, 4) or (costs <= 0).any():
            raise ValueError("costs must be positive integers of shape [nodes, 4]")
        self.costs = costs
        self.unit = int(costs.min())
        self._uniform = bool((costs == costs.flat[0]).all())
        self._capacity = max(1, min(capacity, graph.size))
        self.pool = np.zeros((0, graph.size), dtype=np.uint16)
        self.unreachable = int(UNREACHABLE16)
        self._slot_of_goal = np.full(graph.size, -1, dtype=np.int64)
        self._lru: OrderedDict[int, int] = OrderedDict()
        self._free_slots: list[int] = []
        self._in_use = np.zeros(0, dtype=np.int64)
        """Goals of the last `slots` call: a prefetch never evicts their rows."""
        self._blocked_version = graph.blocked.copy()
        self._transposed = self._build()
        self.computed = 0
        self.version = 0
        self._row_version = np.zeros(0, dtype=np.int64)
        self.stale_refresh = 0

    def _build(self) -> csr_matrix:
        graph = self.graph
        src = np.repeat(np.arange(graph.size), 4)
        dst = graph.neighbours.ravel()
        cost = self.costs.ravel()
        keep = dst >= 0
        keep[keep] &= ~graph.blocked[dst[keep]]
        keep &= ~graph.blocked[src]
        # transposed: a search from the goal follows edges backwards
        return csr_matrix(
            (cost[keep].astype(np.float64), (dst[keep], src[keep])),
            shape=(graph.size, graph.size),
        )

    def set_costs(self, costs: np.ndarray, stale_refresh: int) -> None:
        """New move costs (congestion changed); existing rows become stale.

        Stale rows stay usable (a goal's table from a few steps ago is still
        a good guide); each `slots` call recomputes at most ``stale_refresh``
        of the stale rows it is asked for, oldest first, so the cost of
        following congestion is spread evenly over steps.
        """
        costs = np.asarray(costs, dtype=np.int64)
        if costs.shape != self.costs.shape or (costs <= 0).any():
            raise ValueError("costs must be positive integers of shape [nodes, 4]")
        self.costs = costs
        self._uniform = bool((costs == costs.flat[0]).all())
        self._transposed = self._build()
        self.version += 1
        self.stale_refresh = stale_refresh

    def refresh(self) -> bool:
        """Drop every table if the graph's blocked set changed; returns whether it did."""
        if np.array_equal(self._blocked_version, self.graph.blocked):
            return False
        self._blocked_version = self.graph.blocked.copy()
        self._transposed = self._build()
        self._slot_of_goal[:] = -1
        self._free_slots = list(range(self.pool.shape[0]))
        self._lru.clear()
        return True

    def slots(self, goals: np.ndarray) -> np.ndarray:
        """Pool row of each goal node, computing the missing tables in batches."""
        self.refresh()
        goals = np.asarray(goals, dtype=np.int64)
        unique = np.unique(goals)
        have = self._slot_of_goal[unique] >= 0
        for goal in unique[have].tolist():
            self._lru.move_to_end(goal)
        missing = unique[~have]
        self._in_use = unique
        if self.stale_refresh and have.any():
            present = unique[have]
            age = self.version - self._row_version[self._slot_of_goal[present]]
            stale = present[age > 0]
            if stale.size:
                oldest = stale[np.argsort(-age[age > 0], kind="stable")[: self.stale_refresh]]
                self._compute(oldest, reuse=True)
        if missing.size:
            self._make_room(missing.size, keep=set(unique.tolist()))
            for start in range(0, missing.size, BATCH):
                self._compute(missing[start : start + BATCH])
        return self._slot_of_goal[goals]

    def precompute(self, goals: np.ndarray) -> None:
        """Tables for a known goal set up front (e.g. a Robot Runners task file)."""
        goals = np.unique(np.asarray(goals, dtype=np.int64))
        self._capacity = max(self._capacity, min(self.graph.size, goals.size + 64))
        self.slots(goals)

    def cached(self, goals: np.ndarray) -> np.ndarray:
        """``bool`` per goal node: its table is in the pool (a `slots` call costs no search)."""
        self.refresh()
        return self._slot_of_goal[np.asarray(goals, dtype=np.int64)] >= 0

    def prefetch(self, goals: np.ndarray, until: Callable[[], bool]) -> int:
        """Compute tables for goals needed soon, in order, until ``until()`` says stop.

        ``goals`` are node ids (negative: no node, nothing to compute, counted as
        done). Returns how many of them (from the front) now have their table, so
        the caller can drop them from its queue. The deadline is checked before
        every batch of `PREFETCH_BATCH` tables, so it overruns by one batch at
        most. Room is made as `slots` makes it (least recently used first, up to
        the capacity; the pool does not grow, so no mid-run copy), but never by
        evicting a goal of the last `slots` call or one this call counted as
        done: prefetching cannot take a table from a robot that uses it. It stops
        early when there is no such room. Values are the same as a `slots` call
        would compute (the same search), so prefetching changes no plan, only
        when the work is done.
        """
        goals = np.asarray(goals, dtype=np.int64)
        self.refresh()
        keep = set(self._in_use.tolist())
        done = 0
        while done < goals.size:
            rest = goals[done:]
            have = (rest < 0) | (self._slot_of_goal[np.maximum(rest, 0)] >= 0)
            ready = int(np.argmin(have)) if not have.all() else int(have.size)
            keep.update(rest[:ready].tolist())
            done += ready
            if done >= goals.size or until():
                break
            batch: list[int] = []
            for goal in goals[done:].tolist():
                if len(batch) == PREFETCH_BATCH:
                    break
                if goal >= 0 and self._slot_of_goal[goal] < 0 and goal not in batch:
                    batch.append(goal)
            keep.update(batch)
            self._make_room(len(batch), keep=keep, grow=False)
            if len(self._free_slots) < len(batch) or len(self._lru) + len(batch) > self._capacity:
                break  # no room without taking a row in use
            self._compute(np.asarray(batch, dtype=np.int64))
            # the fresh rows go to the back of the LRU, after the goals in use
        return done

    def reserve(self, rows: int) -> None:
        """Allocate pool rows up front: growing a large pool mid-run copies it."""
        rows = min(rows, self.graph.size)
        have = self.pool.shape[0]
        if rows > have:
            extra = np.zeros((rows - have, self.graph.size), dtype=self.pool.dtype)
            self.pool = np.concatenate([self.pool, extra]) if have else extra
            self._free_slots.extend(range(have, rows))
            self._capacity = max(self._capacity, rows)

    def distance(self, slot: int, node: int) -> int:
        return int(self.pool[slot, node])

    def paths(self, starts: np.ndarray, goals: np.ndarray, max_len: int) -> np.ndarray:
        """Greedy-descent shortest paths, at most ``max_len`` nodes each, start included.

        Row ``i`` walks from ``starts[i]`` down ``goals[i]``'s table: each step
        goes to the open neighbour minimising move cost plus remaining
        distance, ties to the lowest direction (north, east, south, west), so
        the same tables always give the same path. It stops at the goal, or
        where no neighbour gets closer (a start cut off from its goal keeps
        only itself). Blocked nodes are never entered. ``[N, max_len]`` node
        ids, `NO_NODE` after each path's end.
        """
        starts = np.asarray(starts, dtype=np.int64)
        goals = np.asarray(goals, dtype=np.int64)
        out = np.full((starts.size, max(0, max_len)), NO_NODE, dtype=np.int64)
        if starts.size == 0 or max_len <= 0:
            return out
        rows = self.slots(goals)[:, None]
        out[:, 0] = current = starts
        alive = np.ones(starts.size, dtype=bool)
        every = np.arange(starts.size)
        for k in range(1, max_len):
            here = self.pool[rows[:, 0], current].astype(np.int64)
            alive &= (current != goals) & (here < self.unreachable)
            if not alive.any():
                break
            around = self.graph.neighbours[current]
            open_ = around >= 0
            safe = np.where(open_, around, 0)
            open_ &= ~self.graph.blocked[safe]
            remaining = self.pool[rows, safe].astype(np.int64)
            open_ &= remaining < here[:, None]
            total = np.where(open_, self.costs[current] + remaining, np.iinfo(np.int64).max)
            best = np.argmin(total, axis=1)
            alive &= open_[every, best]
            current = np.where(alive, around[every, best], current)
            out[alive, k] = current[alive]
        return out

    def _make_room(self, count: int, keep: set[int], grow: bool = True) -> None:
        """Free ``count`` slots: evict least recently used rows not in ``keep`` down to
        the capacity, then (``grow``) enlarge the pool for what is still missing."""
        target = max(self._capacity, len(self._lru) + count - len(self._free_slots))
        over = len(self._lru) + count - self._capacity
        if over > 0:
            victims = []
            for goal in self._lru:  # oldest first; rows in use sit at the back
                if len(victims) == over:
                    break
                if goal not in keep:
                    victims.append(goal)
            for goal in victims:
                self._free_slots.append(self._lru.pop(goal))
                self._slot_of_goal[goal] = -1
        shortfall = count - len(self._free_slots)
        if shortfall > 0 and not grow:
            return
        if shortfall > 0:
            rows = self.pool.shape[0]
            more = max(shortfall, min(rows, self.graph.size - rows), 16)
            extra = np.zeros((more, self.graph.size), dtype=self.pool.dtype)
            self.pool = np.concatenate([self.pool, extra]) if rows else extra
            self._free_slots.extend(range(rows, rows + more))
        self._capacity = max(self._capacity, min(target, self.pool.shape[0]))

    def _compute(self, goals: np.ndarray, reuse: bool = False) -> None:
        dist = dijkstra(
            self._transposed,
            directed=True,
            indices=goals,
            unweighted=self._uniform,
        )
        dist = np.atleast_2d(dist)
        if self._uniform:
            dist = dist * float(self.costs.flat[0])
        finite = np.isfinite(dist)
        largest = float(dist[finite].max()) if finite.any() else 0.0
        if largest >= self.unreachable and self.pool.dtype == np.uint16:
            self.pool = self.pool.astype(np.int32)
            self.pool[self.pool == UNREACHABLE16] = UNREACHABLE32
            self.unreachable = int(UNREACHABLE32)
        rows = np.where(finite, dist, self.unreachable).astype(self.pool.dtype)
        if self._row_version.size < self.pool.shape[0]:
            grown = np.zeros(self.pool.shape[0], dtype=np.int64)
            grown[: self._row_version.size] = self._row_version
            self._row_version = grown
        for goal, row in zip(goals.tolist(), rows, strict=True):
            slot = int(self._slot_of_goal[goal]) if reuse else self._free_slots.pop()
            self.pool[slot] = row
            self._row_version[slot] = self.version
            self._slot_of_goal[goal] = slot
            self._lru[goal] = slot
        self.computed += len(goals)
