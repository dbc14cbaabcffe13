"""Windowed planning for the rotation model: every robot's next few actions, turns included.

The one-step planner decides a 4-connected move and only then turns it into
rotation actions, so a robot that must turn keeps its cell and everyone queued
behind it stands still too. Here each robot chooses a whole *operation* — a
sequence of ``window`` actions (forward, turn clockwise, turn counter-clockwise,
wait; multi-action PIBT, after EPIBT) — scored by where and how it ends: the
lane distance to its goal from the last cell, plus the quarter turns still
needed to face the best way on from there, plus a little for the cells on the
way (progress early is better than late). A robot queued behind a turning one
can then plan "wait, forward, forward": the window knows the cell ahead is
free from the second step.

Search (sequential, priority order as in PIBT): a robot reserves its best
operation's space-time cells and edges; every robot not yet planned whose
cell the operation passes must then be planned around it (priority
inheritance); if one of them cannot, the attempt is rolled back — the robot's
reservation and everything planned inside the attempt — and the next
operation is tried. A robot planned from the top of the order that finds no
operation waits for the whole window, which is always free of conflicts: any
reservation through its cell would have planned it first (docs/traffic.md).
Only the first action is executed; the window is planned afresh every step.

Time: the search checks the clock (passed in: `use_clock`, which `evaluate`
calls with the harness's) every few robots and gives up at the deadline
(`WindowParams.budget_ms`); the step is then planned by the one-step
planner on the same priorities, so a step always has a legal plan in time.
"""

from __future__ import annotations

import itertools
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from fleet.traffic.graph import FloorGraph
from fleet.traffic.guided import (
    GUIDED_OPTIONS,
    CongestionParams,
    GuidedPlanner,
    LaneParams,
)
from fleet.traffic.pibt import StepInput, _turns
from fleet.traffic.planner import ActionModel, PlanRequest, PlanResult

FORWARD, CLOCKWISE, COUNTER, WAIT = 0, 1, 2, 3
EFFORT = 256
"""Operations tried per search from the top of the order (inheritance included)."""


def operations(window: int) -> np.ndarray:
    """``int8 [S, window]`` action sequences; a turn straight after its opposite (a no-op
    that costs two steps) is left out, the all-wait sequence is last."""
    keep = []
    for seq in itertools.product(range(4), repeat=window):
        if any({a, b} == {CLOCKWISE, COUNTER} for a, b in itertools.pairwise(seq)):
            continue
        if all(a == WAIT for a in seq):
            continue
        keep.append(seq)
    keep.append((WAIT,) * window)
    return np.array(keep, dtype=np.int8)


@dataclass(frozen=True)
class WindowParams:
    """``window`` actions per operation; the ``candidates`` best operations per robot are
    searched; ``budget_ms`` is the search's share of the step (then the fallback);
    ``early`` weighs the distances on the way against the end distance."""

    window: int = 3
    candidates: int = 64
    budget_ms: float = 500.0
    early: float = 0.1
    commit: bool = False
    """Execute two actions of each window (the second without a new search) when the
    fleet did the first as planned: commitment against dithering, and half the search."""


@dataclass(frozen=True, eq=False)
class Window:
    """A planned window: ``nodes``/``headings`` ``[window + 1, N]`` (row 0: now)."""

    nodes: np.ndarray
    headings: np.ndarray


class WindowedPlanner(GuidedPlanner):
    """Our planner with multi-action windows in the rotation model (grid4: as `guided`)."""

    def __init__(
        self,
        graph: FloorGraph,
        lanes: LaneParams,
        congestion: CongestionParams,
        params: WindowParams = WindowParams(),
        clock: Callable[[], float] | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(graph, lanes, congestion, **kwargs)
        self.params = params
        self._clock = clock
        """Seconds, for the deadline (the library owns no clock: the caller passes one);
        ``None``: no deadline, the window is always searched to the end."""
        self._ops = operations(params.window)
        self.windows = 0
        self.fallbacks = 0
        self.commits = 0
        self._kept: tuple[np.ndarray, Window] | None = None

    def _step(self, request: PlanRequest) -> PlanResult:
        if self.model is not ActionModel.ROTATION:
            return super()._step(request)
        step = self._prepare(request)
        if step is None:
            empty = np.zeros(0, dtype=np.int64)
            return PlanResult(empty, empty.astype(np.int8))
        ids = np.arange(step.positions.size) if request.robot_ids is None else request.robot_ids
        kept = self._kept
        if (
            kept is not None
            and step.held is None
            and np.array_equal(kept[0], ids)
            and np.array_equal(kept[1].nodes[1], step.positions)
            and np.array_equal(kept[1].headings[1], step.headings)
        ):
            # the fleet did the window's first action: its second is still conflict-free
            self._kept = None
            self.commits += 1
            window = kept[1]
            return PlanResult(self.graph.cells(window.nodes[2]), window.headings[2].astype(np.int8))
        clock = self._clock
        deadline = math.inf if clock is None else clock() + self.params.budget_ms / 1000.0
        window = self._window(step, deadline)
        if window is None:
            self._kept = None
            self.fallbacks += 1
            return self._one_step(step)
        self.windows += 1
        self._kept = (np.array(ids, copy=True), window) if self.params.commit else None
        return PlanResult(self.graph.cells(window.nodes[1]), window.headings[1].astype(np.int8))

    def use_clock(self, clock: Callable[[], float]) -> None:
        """Set the clock the deadline is read from (`evaluate` passes the harness's)."""
        self._clock = clock

    def plan_window(self, request: PlanRequest, deadline: float = math.inf) -> Window | None:
        """The whole window for ``request`` (row 0 is the request), or ``None`` at the
        deadline; advances the planner's per-robot memory like a `plan` call."""
        step = self._prepare(request)
        if step is None or step.headings is None:
            raise ValueError("plan_window needs robots in the rotation model")
        return self._window(step, deadline)

    # -- vectorised half ----------------------------------------------------------

    def _score(self, step: StepInput) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every robot's operations: space-time nodes ``[N, S, w+1]``, headings, and the
        indices of its best ``candidates`` feasible ones (``-1`` pads)."""
        ops = self._ops
        count, (n_ops, window) = step.positions.size, ops.shape
        nbrs = self.graph.neighbours
        node = np.repeat(step.positions[:, None], n_ops, axis=1)
        head = np.repeat(np.asarray(step.headings)[:, None], n_ops, axis=1)
        nodes = np.empty((count, n_ops, window + 1), dtype=np.int64)
        heads = np.empty_like(nodes)
        nodes[:, :, 0], heads[:, :, 0] = node, head
        valid = np.ones((count, n_ops), dtype=bool)
        home = step.positions[:, None]
        early = np.zeros((count, n_ops), dtype=np.float64)
        for t in range(window):
            act = ops[None, :, t]
            ahead = nbrs[node, head]
            fwd = act == FORWARD
            ok = (ahead >= 0) & ~step.closed[np.maximum(ahead, 0)]
            valid &= ~fwd | ok
            node = np.where(fwd & ok, ahead, node)
            head = np.where(act == CLOCKWISE, (head + 1) % 4, head)
            head = np.where(act == COUNTER, (head + 3) % 4, head)
            nodes[:, :, t + 1], heads[:, :, t + 1] = node, head
            if t + 1 < window:
                early += self._lookup(step.slots[:, None], node, home)
        dist = self._lookup(step.slots[:, None], node, home).astype(np.float64)
        around = nbrs[node]  # [N, S, 4]
        open_ = (around >= 0) & ~step.closed[np.maximum(around, 0)]
        onward = self._lookup(step.slots[:, None, None], np.maximum(around, 0), home[:, :, None])
        onward = np.where(open_, onward, np.iinfo(np.int64).max)
        best = np.argmin(onward, axis=2)
        unit = self.distances.unit
        turns = np.where(dist == 0, 0, _turns(head, best)) * unit
        dist[dist >= self.distances.unreachable] = 1e12
        score = dist + turns + self.params.early * early
        score += self._rng.random(score.shape) * 0.3
        score[~valid] = math.inf
        if step.held is not None:
            score[step.held, :-1] = math.inf  # a held robot only waits
        k = min(self.params.candidates, n_ops)
        top = np.argpartition(score, k - 1, axis=1)[:, :k]
        top = np.take_along_axis(top, np.argsort(np.take_along_axis(score, top, 1), 1), 1)
        top = np.where(np.isfinite(np.take_along_axis(score, top, 1)), top, -1)
        return nodes, heads, top

    # -- sequential half ------------------------------------------------------------

    def _window(self, step: StepInput, deadline: float) -> Window | None:
        nodes, heads, top = self._score(step)
        count, window = step.positions.size, self._ops.shape[1]
        size = self.graph.size
        starts = step.positions.tolist()
        paths = [
            [nodes[i, s, 1:].tolist() for s in row if s >= 0] for i, row in enumerate(top.tolist())
        ]
        cell_res: dict[int, int] = {}
        edge_res: set[int] = set()
        chosen = [-1] * count
        journal: list[tuple[int, list[int], list[int]]] = []
        occupant = {v: i for i, v in enumerate(starts)}
        if sys.getrecursionlimit() < 4 * count + 1000:
            sys.setrecursionlimit(4 * count + 1000)

        def feasible(i: int, path: list[int]) -> bool:
            prev = starts[i]
            for t, v in enumerate(path, 1):
                if cell_res.get(t * size + v, i) != i:
                    return False
                if v != prev and ((t * size + v) * size + prev) in edge_res:
                    return False
                prev = v
            return True

        def reserve(i: int, k: int, path: list[int]) -> None:
            cells, edges = [], []
            prev = starts[i]
            for t, v in enumerate(path, 1):
                key = t * size + v
                cell_res[key] = i
                cells.append(key)
                if v != prev:
                    edge = (t * size + prev) * size + v
                    edge_res.add(edge)
                    edges.append(edge)
                prev = v
            chosen[i] = k
            journal.append((i, cells, edges))

        def rollback(mark: int) -> None:
            while len(journal) > mark:
                j, cells, edges = journal.pop()
                for key in cells:
                    del cell_res[key]
                edge_res.difference_update(edges)
                chosen[j] = -1

        failed: set[int] = set()
        effort = [0]

        def plan(i: int) -> bool:
            if i in failed:
                return False  # it failed once in this search: do not search it again
            for k, path in enumerate(paths[i]):
                effort[0] += 1
                if effort[0] > EFFORT:
                    break  # this search has done enough: keep it linear, not exponential
                if not feasible(i, path):
                    continue
                mark = len(journal)
                reserve(i, k, path)
                ok = True
                for v in path:
                    j = occupant.get(v, -1)
                    if j != -1 and j != i and chosen[j] == -1 and not plan(j):
                        ok = False
                        break
                if ok:
                    return True
                rollback(mark)
            failed.add(i)
            return False

        wait = [[starts[i]] * window for i in range(count)]
        if step.held is not None:
            for i in np.flatnonzero(step.held).tolist():
                reserve(i, -2, wait[i])
        order = np.argsort(-step.priority, kind="stable").tolist()
        clock = self._clock
        for n, i in enumerate(order):
            if n % 64 == 0 and clock is not None and clock() > deadline:
                return None
            if chosen[i] == -1:
                effort[0] = 0
                if not plan(i):
                    reserve(i, -2, wait[i])  # nobody reserved its cell: waiting is free
                journal.clear()
                failed.clear()
        out_nodes = np.repeat(step.positions[None, :], window + 1, axis=0)
        out_heads = np.repeat(np.asarray(step.headings)[None, :], window + 1, axis=0)
        picked = np.array(chosen, dtype=np.int64)
        moved = picked >= 0
        rows = np.flatnonzero(moved)
        ops = top[rows, picked[moved]]
        out_nodes[:, rows] = nodes[rows, ops].T
        out_heads[:, rows] = heads[rows, ops].T
        return Window(out_nodes, out_heads)


def make_windowed(
    navigable: np.ndarray,
    model: ActionModel = ActionModel.GRID4,
    seed: int = 0,
    params: WindowParams = WindowParams(),
    clock: Callable[[], float] | None = None,
) -> WindowedPlanner:
    """``windowed``: `guided` plus multi-action windows in the rotation model."""
    return WindowedPlanner(
        FloorGraph(navigable),
        LaneParams(),
        CongestionParams(),
        params,
        clock,
        name="windowed",
        model=model,
        options=GUIDED_OPTIONS,
        seed=seed,
    )
