"""Re-sequencing: a permutation of the stops, the fixed end kept, cut-offs honoured, never worse."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ortools.constraint_solver import pywrapcp

from fleet.dispatch.distances import FloorDistances
from fleet.manager.sequence import SequenceParams, SequenceStop, resequence
from tests.fleet.dispatch.assign_cases import FLOOR, grid

LINE = FloorDistances(grid(["." * 21]))
"""One row of 21 cells: distances are |a - b|, so optimal orders are obvious."""

free_cells = [
    (int(r), int(c)) for r in range(FLOOR.shape[0]) for c in range(FLOOR.shape[1]) if FLOOR[r, c]
]


def at(*cols: int, **kw) -> list[SequenceStop]:
    return [SequenceStop((0, c), **kw) for c in cols]


@given(
    st.sampled_from(free_cells),
    st.lists(
        st.tuples(st.sampled_from(free_cells), st.sampled_from([None, 3.0, 30.0])), max_size=7
    ),
    st.one_of(st.none(), st.sampled_from(free_cells)),
)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_result_is_a_permutation_never_worse_than_the_given_order(start, raw, end) -> None:
    """Any stops, any end: every stop exactly once, and travel + priced lateness not above given."""
    stops = [SequenceStop(cell, service_s=2.0, due_s=due) for cell, due in raw]
    params = SequenceParams(lateness_cells_per_s=2.0)
    distances = FloorDistances(FLOOR)
    result = resequence(start, stops, end, distances, params)
    assert sorted(result.order) == list(range(len(stops)))
    given_cost = _cost_of(start, stops, end, tuple(range(len(stops))), distances, params)
    assert result.travel_cells + 2.0 * result.late_s <= given_cost + 1e-9
    assert result.travel_cells + 2.0 * result.late_s == pytest.approx(
        _cost_of(start, stops, end, result.order, distances, params)
    )


def _cost_of(start, stops, end, order, distances, params) -> float:
    """Pricing written apart from the module's: walk the order leg by leg."""
    path = [start, *(stops[i].cell for i in order), *([end] if end is not None else [])]
    travel = sum(distances.distance(a, b) for a, b in itertools.pairwise(path))
    clock, late, here = params.now_s, 0.0, start
    for i in order:
        clock += distances.distance(here, stops[i].cell) * params.seconds_per_cell
        if stops[i].due_s is not None:
            late += max(0.0, clock - stops[i].due_s)
        clock += stops[i].service_s
        here = stops[i].cell
    return travel + params.lateness_cells_per_s * late


def test_the_fixed_end_decides_which_side_comes_first() -> None:
    """From the middle, ending at the east end means sweeping west first, and vice versa."""
    stops = at(20, 2, 15)
    east = resequence((0, 10), stops, (0, 20), LINE)
    west = resequence((0, 10), stops, (0, 0), LINE)
    assert [stops[i].cell[1] for i in east.order] == [2, 15, 20]
    assert east.travel_cells == 8 + 13 + 5
    assert stops[west.order[-1]].cell == (0, 2)
    assert west.travel_cells == 10 + 18 + 2


def test_an_open_route_ends_at_the_last_stop() -> None:
    """Without an end cell the route is the shortest sweep through the stops."""
    stops = at(12, 20, 16)
    result = resequence((0, 10), stops, None, LINE)
    assert [stops[i].cell[1] for i in result.order] == [12, 16, 20]
    assert (result.travel_cells, result.solved) == (10, True)


@pytest.mark.parametrize(("price", "first"), [(1.0, (0, 12)), (5.0, (0, 2))])
def test_a_cut_off_pulls_a_stop_forward_when_lateness_costs_enough(price, first) -> None:
    """East first is 16 cells shorter but 7 s late at the west stop: worth it at 1 cell/s, not 5."""
    stops = [SequenceStop((0, 12)), SequenceStop((0, 14)), SequenceStop((0, 2), due_s=9.0)]
    params = SequenceParams(lateness_cells_per_s=price)
    result = resequence((0, 10), stops, (0, 0), LINE, params)
    assert stops[result.order[0]].cell == first
    assert result.late_s == (7.0 if first == (0, 12) else 0.0)


def test_the_given_order_is_kept_when_the_solver_finds_nothing(monkeypatch) -> None:
    """No solution within the limit: the stops come back in the order they were given."""
    monkeypatch.setattr(pywrapcp.RoutingModel, "SolveWithParameters", lambda self, p: None)
    stops = at(20, 2, 15)
    result = resequence((0, 10), stops, (0, 0), LINE)
    assert (result.order, result.solved) == ((0, 1, 2), False)
    assert result.travel_cells == 10 + 18 + 13 + 15


@pytest.mark.parametrize("count", [0, 1])
def test_trivial_routes_need_no_solver(count) -> None:
    """No stop or one stop: that order, priced."""
    stops = at(*range(3, 3 + count))
    result = resequence((0, 0), stops, (0, 5), LINE)
    assert result.order == tuple(range(count))
    assert result.travel_cells == 5
