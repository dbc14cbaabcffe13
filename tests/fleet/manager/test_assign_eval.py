"""The lifelong assignment simulation and ``warehouse bench fleet``: complete, deterministic."""

from __future__ import annotations

import json
from dataclasses import replace
from itertools import count

import pytest

from fleet.dispatch.assign import FlowAssigner, GreedyAssigner
from fleet.dispatch.distances import FloorDistances
from fleet.manager.assign_eval import StreamParams, random_request, simulate, task_stream
from fleet.manager.model import RobotKind
from tests.helpers import run_cli
from warehouse.config import load_config

SMALL = StreamParams(amrs=3, agvs=2, tasks_per_hour=300.0, arrival_hours=0.1)


@pytest.fixture(scope="module")
def floor_and_distances():
    floor = load_config(None).floor
    return floor, FloorDistances(floor.navigable)


def fake_clock():
    """A clock that advances 1 ms per reading: timings are counted, never measured."""
    ticks = count()
    return lambda: next(ticks) / 1000.0


def test_stream_is_seeded_and_well_formed(floor_and_distances) -> None:
    """Same seed, same tasks; pod moves end where they start, pick routes at a station."""
    floor, distances = floor_and_distances
    first = task_stream(floor, distances, SMALL)
    assert first == task_stream(floor, distances, SMALL)
    assert first != task_stream(floor, distances, replace(SMALL, seed=1))
    stations = {p.cell for p in floor.stations}
    for task in first:
        assert task.stops[-1] in stations or task.needs is RobotKind.AGV
        if task.needs is RobotKind.AGV:
            assert task.stops[0] == task.stops[-1] and task.stops[1] in stations
        assert task.work_cells == distances.route_lengths([task.stops])[0]


@pytest.mark.parametrize("assigner", [FlowAssigner(), GreedyAssigner()], ids=lambda a: a.name)
def test_every_task_is_done_once_and_runs_repeat_exactly(floor_and_distances, assigner) -> None:
    """The simulation drains the stream, and two runs give identical figures."""
    floor, distances = floor_and_distances
    stream = task_stream(floor, distances, SMALL)
    first = simulate(floor, distances, stream, assigner, SMALL, fake_clock())
    again = simulate(floor, distances, stream, assigner, SMALL, fake_clock())
    assert first.completed == first.tasks == len(stream) > 0
    assert first.work_cells == sum(t.work_cells for t in stream)
    assert first.makespan_s >= max(t.arrival_s for t in stream)
    assert first.summary() == again.summary()


def test_random_request_is_the_documented_size(floor_and_distances) -> None:
    """The timing case has exactly the robots and tasks asked for, robots on distinct free cells."""
    floor, distances = floor_and_distances
    request = random_request(floor, distances, 50, 120, 0)
    assert (len(request.robots), len(request.tasks)) == (50, 120)
    cells = {r.cell for r in request.robots}
    assert len(cells) == 50 and all(floor.navigable[c] for c in cells)


def test_bench_fleet_json_has_the_contract_keys() -> None:
    """``--json`` prints the figures DESIGN and issue 9 name, the ratio from the same run."""
    done = run_cli(
        "bench", "fleet", "--robots", "20", "--tasks", "40", "--repeats", "1",
        "--hours", "0.05", "--amrs", "3", "--agvs", "2", "--cycle-seconds", "5",
        "--traffic-hours", "0.02", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert {"assign_ms_40x20", "cycle_ms_p95_200", "empty_travel_vs_greedy"} <= result.keys()
    assert result["cycle_ms_p95_200"] is not None and result["cycle_200"]["robots"] == 200
    assert result["with_traffic"]["ours"]["safety_violations"] == 0
    ratio = result["ours"]["empty_cells"] / result["greedy"]["empty_cells"]
    assert result["empty_travel_vs_greedy"] == pytest.approx(ratio, abs=1e-4)
    assert result["ours"]["tasks"] == result["greedy"]["tasks"] == result["stream"]["tasks"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--robots", "5000"], "--robots: 5000 robots do not fit"),
        (["--amrs", "0", "--agvs", "0"], "at least one robot"),
        (["--rate", "0"], "--rate"),
        (["--config", "/nonexistent.toml"], "nonexistent"),
    ],
)
def test_bench_fleet_bad_input_is_one_line_and_exit_2(args, message) -> None:
    """Bad options fail before any work, with one line naming the option."""
    done = run_cli("bench", "fleet", "--repeats", "1", *args)
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
