"""Re-sequencing the remaining stops of a multi-stop route from where the robot actually is.

A pick route is planned by the WMS from the station; by the time a robot
starts it (or after a detour) it may be elsewhere, and some stops may carry
cut-offs. This solves one open route with OR-Tools routing: start at the
robot's cell, visit every remaining stop once, finish at a fixed end cell
(the station) or anywhere when there is none. Arc costs are true floor
distances (a transit matrix, so the solver never calls back into Python);
cut-offs are soft upper bounds on a time dimension, so a route that must be
late still comes out, with the lateness priced in. The search is the picking
router's plain descent (`wms.picking.RouteSearch`: Christofides, then greedy
descent), bounded by work, not by time.

Guarantees: the order is a permutation of the given stops; its cost (travel
plus priced lateness) is never worse than the given order's, which is kept
when the solver finds nothing better or nothing at all within its limit. The
result is a function of the inputs alone: the search stops at its local
optimum or after ``solution_limit`` solutions, whichever comes first, never at
a wall-clock deadline, so a loaded machine (or a replay) gets the same order.
``guard_ms`` is a safety net for the real-time cycle that does not bind in
normal operation; when OR-Tools reports that it did, a warning is logged (that
order may then differ between runs).
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from fleet.dispatch.distances import FloorDistances
from wms.layout import Cell
from wms.picking import RouteSearch

log = logging.getLogger("fleet.manager.sequence")

COST_SCALE = 10
"""Arc costs go to OR-Tools in tenths of a cell, so lateness can be priced finely."""


@dataclass(frozen=True, slots=True)
class SequenceStop:
    """A stop still to visit: where, how long the robot stands there, and its cut-off if any."""

    cell: Cell
    service_s: float = 0.0
    due_s: float | None = None


@dataclass(frozen=True, slots=True)
class Sequenced:
    """The new visiting order (indices into the given stops) and what it costs."""

    order: tuple[int, ...]
    travel_cells: int
    """From the start through the stops to the end (when there is one)."""
    late_s: float
    """Summed over the stops: seconds past each cut-off on arrival."""
    solved: bool
    """False when the given order was kept."""


@dataclass(frozen=True, slots=True)
class SequenceParams:
    """Timing, pricing and search effort: ``lateness_cells_per_s`` trades a second late
    against travel."""

    now_s: float = 0.0
    seconds_per_cell: float = 1.0
    lateness_cells_per_s: float = 10.0
    solution_limit: int = 20
    """Deterministic work limit: solutions the search may produce, the first included.
    Descent on a WMS pick batch (up to ~32 stops) reaches its local optimum in fewer, so
    this binds only on long, late routes, where it keeps one search to ~0.2 s
    (bench/resequence.py)."""
    guard_ms: int = 1000
    """Wall-clock safety cap, for the real-time cycle only: several times the slowest search
    the work limit allows, so it does not bind in normal operation. A warning is logged
    when OR-Tools reports a search it cut short before the work limit."""


def resequence(
    start: Cell,
    stops: Sequence[SequenceStop],
    end: Cell | None,
    distances: FloorDistances,
    params: SequenceParams | None = None,
) -> Sequenced:
    """The best order found for ``stops`` from ``start`` to ``end`` (``None``: open end)."""
    params = params or SequenceParams()
    given = tuple(range(len(stops)))
    cells = [start, *(stop.cell for stop in stops), *([end] if end is not None else [])]
    dist = distances.matrix(cells, cells).astype(np.int64)
    if len(stops) <= 1:
        return _priced(given, stops, dist, end is not None, params, solved=False)
    kept = _priced(given, stops, dist, end is not None, params, solved=False)
    found = _solve(stops, dist, end is not None, params)
    if found is None:
        return kept
    better = _priced(found, stops, dist, end is not None, params, solved=True)
    return better if _cost(better, params) < _cost(kept, params) else kept


def _solve(
    stops: Sequence[SequenceStop], dist: np.ndarray, fixed_end: bool, params: SequenceParams
) -> tuple[int, ...] | None:
    """OR-Tools' order over nodes 1..n (0: start, n + 1: end, free when there is no end)."""
    n = len(stops)
    arcs = np.zeros((n + 2, n + 2), dtype=np.int64)
    arcs[: dist.shape[0], : dist.shape[1]] = dist * COST_SCALE
    if not fixed_end:
        arcs[:, n + 1] = 0  # a dummy end reachable from anywhere for free
    arcs[n + 1, :] = 0
    manager = pywrapcp.RoutingIndexManager(n + 2, 1, [0], [n + 1])
    model = pywrapcp.RoutingModel(manager)
    model.SetArcCostEvaluatorOfAllVehicles(model.RegisterTransitMatrix(arcs.tolist()))
    dues = [(i + 1, stop.due_s) for i, stop in enumerate(stops) if stop.due_s is not None]
    if dues:
        service = [0.0, *(stop.service_s for stop in stops), 0.0]
        seconds = np.ceil(arcs / COST_SCALE * params.seconds_per_cell + np.array(service)[:, None])
        horizon = int(seconds.sum()) + 1
        time = model.RegisterTransitMatrix(seconds.astype(np.int64).tolist())
        model.AddDimension(time, 0, horizon, True, "time")
        dimension = model.GetDimensionOrDie("time")
        penalty = max(1, round(params.lateness_cells_per_s * COST_SCALE))
        for node, due in dues:
            bound = max(0, math.floor(due - params.now_s))
            dimension.SetCumulVarSoftUpperBound(manager.NodeToIndex(node), bound, penalty)
    solution = model.SolveWithParameters(_search(params))
    if model.status() in _CUT and model.solver().Solutions() < params.solution_limit:
        log.warning(
            "re-sequencing %d stops hit the %d ms wall-clock guard: this order may differ "
            "between runs",
            n,
            params.guard_ms,
        )
    if solution is None:
        return None
    order = []
    index = solution.Value(model.NextVar(model.Start(0)))
    while not model.IsEnd(index):
        order.append(manager.IndexToNode(index) - 1)
        index = solution.Value(model.NextVar(index))
    return tuple(order)


_CUT = (
    routing_enums_pb2.RoutingSearchStatus.ROUTING_PARTIAL_SUCCESS_LOCAL_OPTIMUM_NOT_REACHED,
    routing_enums_pb2.RoutingSearchStatus.ROUTING_FAIL_TIMEOUT,
)
"""Statuses of a search stopped by a limit (the work limit or the guard)."""


def _search(params: SequenceParams) -> pywrapcp.DefaultRoutingSearchParameters:
    """Plain descent, stopped by ``solution_limit``; both of OR-Tools' wall-clock limits
    (the whole search, and each neighbour's completion, 100 ms by default) are raised to
    the guard, so neither decides anything in normal operation."""
    search = RouteSearch().parameters()
    search.solution_limit = params.solution_limit
    search.time_limit.FromMilliseconds(params.guard_ms)
    search.lns_time_limit.FromMilliseconds(params.guard_ms)
    return search


def _priced(
    order: tuple[int, ...],
    stops: Sequence[SequenceStop],
    dist: np.ndarray,
    fixed_end: bool,
    params: SequenceParams,
    solved: bool,
) -> Sequenced:
    """Travel and lateness of ``order`` (the solver's model, without its rounding to seconds)."""
    nodes = [0, *(i + 1 for i in order), *([len(stops) + 1] if fixed_end else [])]
    travel = int(sum(int(dist[a, b]) for a, b in itertools.pairwise(nodes)))
    clock, late = params.now_s, 0.0
    previous = 0
    for i in order:
        clock += dist[previous, i + 1] * params.seconds_per_cell
        due = stops[i].due_s
        if due is not None:
            late += max(0.0, clock - due)
        clock += stops[i].service_s
        previous = i + 1
    return Sequenced(order, travel, late, solved)


def _cost(result: Sequenced, params: SequenceParams) -> float:
    return result.travel_cells + params.lateness_cells_per_s * result.late_s
