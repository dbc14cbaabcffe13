"""The decision core's output is a function of its inputs: no wall-clock limit decides.

Re-sequencing used to get 20 ms of wall time; a plain descent on a long route of
scattered stops with a cut-off needs far longer to reach its optimum, so it was
cut wherever the clock stopped it and two identical runs could send different
orders. Here the routes are long enough that any wall-clock budget of that size
binds (on any machine); the search now stops on a count of solutions instead.
"""

from __future__ import annotations

import random

from fleet.dispatch.distances import FloorDistances
from fleet.manager.events import Command
from fleet.manager.sequence import SequenceParams, SequenceStop, resequence
from tests.fleet.manager.world import ACCESS, FLOOR, STATIONS, World, make_world, pick_route

ROUTE_STOPS = 60
"""Scattered stops, most of them late: descent to the optimum takes 25-40 solutions and
0.2-0.3 s (bench/resequence.py), so a time budget of tens of ms binds."""


def _scattered(seed: int, count: int = ROUTE_STOPS) -> list[tuple[int, int]]:
    return random.Random(seed).sample(ACCESS, count)


ROBOTS = 6


def _run(steps: int) -> tuple[World, list[Command]]:
    """Six robots, six long re-sequenced routes, ``steps`` lockstep steps; every command
    the core sent, in order."""
    world = make_world(ROBOTS, seed=5)
    sent: list[Command] = []
    deliver = world.sim.deliver

    def recording(commands: list[Command]) -> None:
        sent.extend(commands)
        deliver(commands)

    world.sim.deliver = recording  # type: ignore[method-assign]
    for k in range(ROBOTS):
        world.core.submit(pick_route(f"long{k}", _scattered(k), due_s=200.0))
    for _ in range(steps):
        world.sim.step()
    return world, sent


def test_two_lockstep_runs_send_the_same_commands() -> None:
    """Same floor, robots, tasks and seed: the same re-sequenced orders, task log and
    command stream, however long each OR-Tools search took on the machine that day."""
    first, first_sent = _run(120)
    second, second_sent = _run(120)
    resequenced = [e for e in first.sim.log.task_events if e.sequence is not None]
    assert {e.task_id for e in resequenced} == {f"long{k}" for k in range(ROBOTS)}
    assert all(e.sequence != tuple(range(ROUTE_STOPS + 1)) for e in resequenced)  # reordered
    assert first.sim.log.task_events == second.sim.log.task_events
    assert first_sent == second_sent
    assert {r: x.cell for r, x in first.robots.items()} == {
        r: x.cell for r, x in second.robots.items()
    }


def test_the_work_limit_stops_the_search_not_the_guard() -> None:
    """With the default limits the search stops after ``solution_limit`` solutions, long
    before the guard: a guard ten minutes long changes nothing, and so does repeating it;
    a larger work limit (the descent run further) does change the order."""
    distances = FloorDistances(FLOOR.navigable)
    stops = [SequenceStop(c, 4.0, 200.0) for c in _scattered(0)]
    start, end = STATIONS[0], STATIONS[0]
    default = resequence(start, stops, end, distances)
    assert default.solved
    assert resequence(start, stops, end, distances) == default
    unhurried = SequenceParams(guard_ms=600_000)
    assert resequence(start, stops, end, distances, unhurried) == default
    further = SequenceParams(solution_limit=SequenceParams().solution_limit + 20)
    assert resequence(start, stops, end, distances, further).order != default.order


def test_a_guard_that_binds_says_so(caplog) -> None:
    """A guard far too short for 100 late stops (the descent's first solutions alone take
    tens of ms): the order may then differ between runs, so a warning says so, and the
    result is still a permutation of the stops."""
    distances = FloorDistances(FLOOR.navigable)
    stops = [SequenceStop(c, 4.0, 200.0) for c in _scattered(1, 100)]
    with caplog.at_level("WARNING", logger="fleet.manager.sequence"):
        result = resequence(STATIONS[0], stops, STATIONS[0], distances, SequenceParams(guard_ms=1))
    assert "hit the 1 ms wall-clock guard" in caplog.text
    assert sorted(result.order) == list(range(len(stops)))
    caplog.clear()
    with caplog.at_level("WARNING", logger="fleet.manager.sequence"):
        resequence(STATIONS[0], stops, STATIONS[0], distances)
    assert "wall-clock guard" not in caplog.text  # the work limit stopped this one
