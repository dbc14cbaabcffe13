"""Robot Runners 2024 instances: the reader, the scheduled task pool, the plan log's errands."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleet.traffic.check import validate_errands, validate_log
from fleet.traffic.evaluate import evaluate
from fleet.traffic.instance import read_instance
from fleet.traffic.lifelong import run_lifelong
from fleet.traffic.planner import ActionModel
from fleet.traffic.registry import make_planner
from fleet.traffic.schedule import ErrandTasks, ScheduledTasks, cheapest_tasks, make_scheduler
from warehouse.cli import main
from wms.errors import InputError

MAP = "type octile\nheight 5\nwidth 7\nmap\n.......\n.@.@.@.\n.......\n.@.@.@.\n.......\n"
WIDTH = 7


def write_instance(tmp_path: Path, agents: str, tasks: str, **spec_extra) -> Path:
    (tmp_path / "m.map").write_text(MAP)
    (tmp_path / "a.agents").write_text(agents)
    (tmp_path / "t.tasks").write_text(tasks)
    spec = {
        "mapFile": "m.map",
        "agentFile": "a.agents",
        "teamSize": 3,
        "taskFile": "t.tasks",
        "numTasksReveal": 1.5,
        "version": "2024 LoRR",
        **spec_extra,
    }
    path = tmp_path / "i.json"
    path.write_text(json.dumps(spec))
    return path


AGENTS = "# version for LoRR 2024\n3\n0\n6\n28\n"
TASKS = "# version for LoRR 2024\n5\n0,34\n14,6\n2,20,4\n34,0\n7,27\n"


def test_reads_2024_errands_and_reveal(tmp_path: Path) -> None:
    problem = read_instance(write_instance(tmp_path, AGENTS, TASKS))
    tasks = problem.errand_tasks
    assert problem.agents == 3 and problem.default_scheduler == "ours"
    assert tasks is not None and len(tasks) == 5 and tasks.reveal == 5  # ceil(1.5 * 3)
    assert tasks.errands(2).tolist() == [2, 20, 4]
    assert tasks.errands(5).tolist() == [0, 34]  # the file cycles


def test_2023_instance_with_reveal_one_is_round_robin(tmp_path: Path) -> None:
    """2023 instances carry ``numTasksReveal: 1`` as well; their ``taskAssignmentStrategy``
    says they are assigned round robin, not scheduled (MR23-I-10 was read as 2024)."""
    path = write_instance(tmp_path, AGENTS, "3\n0\n34\n14\n")
    spec = json.loads(path.read_text())
    del spec["version"]
    spec.update(numTasksReveal=1, taskAssignmentStrategy="roundrobin")
    path.write_text(json.dumps(spec))
    problem = read_instance(path)
    assert problem.default_scheduler is None
    assert problem.known_goals is not None and problem.known_goals.tolist() == [0, 34, 14]


@pytest.mark.parametrize(
    ("agents", "tasks", "extra", "message"),
    [
        (AGENTS, "# c\n2\n0,34\n", {}, "count line says 2 but 1 lines follow"),
        (AGENTS, "1\n0,x\n", {}, "'x' is not an integer cell id"),
        (AGENTS, "1\n0,,3\n", {}, "'' is not an integer cell id"),
        (AGENTS, "1\n0,999\n", {}, "cell 999 is off the map"),
        (AGENTS, "1\n0,8\n", {}, "is blocked"),
        (AGENTS, "# only a comment\n", {}, "empty file"),
        ("3\n0\n6\n8\n", TASKS, {}, "is blocked"),
        (AGENTS, TASKS, {"numTasksReveal": 0}, "numTasksReveal: 0 is not a positive number"),
        (AGENTS, TASKS, {"numTasksReveal": "many"}, "is not a positive number"),
    ],
)
def test_bad_2024_files_are_one_line_exit_2(
    tmp_path: Path, capsys, agents: str, tasks: str, extra: dict, message: str
) -> None:
    path = write_instance(tmp_path, agents, tasks, **extra)
    with pytest.raises(InputError):
        read_instance(path)
    assert main(["bench", "mapf", "--instance", str(path), "--steps", "5", "--json"]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err, err


def test_2023_file_with_several_errands_needs_reveal(tmp_path: Path, capsys) -> None:
    path = write_instance(tmp_path, AGENTS, TASKS)
    spec = json.loads(path.read_text())
    del spec["numTasksReveal"]
    path.write_text(json.dumps(spec))
    assert main(["bench", "mapf", "--instance", str(path), "--steps", "5"]) == 2
    assert "need numTasksReveal" in capsys.readouterr().err


def run_scheduled(nav, starts, tasks: ErrandTasks, scheduler: str, steps: int, model, seed=0):
    planner = make_planner("guided", nav, model, seed)
    stream = ScheduledTasks(tasks, nav, make_scheduler(scheduler))
    checks = []

    def progress(_step: int) -> None:
        stream.check()  # no task held twice, queues consistent, at every step
        checks.append(1)

    result = run_lifelong(
        planner,
        nav,
        starts,
        stream,
        steps,
        time.perf_counter,
        headings=np.ones(len(starts), dtype=np.int64),
        progress=progress,
    )
    assert len(checks) == steps
    return result, stream


def errand_cells(tasks: ErrandTasks, width: int):
    return lambda task: [divmod(int(c), width) for c in tasks.errands(task)]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**16),
    robots=st.integers(1, 8),
    scheduler=st.sampled_from(["ours", "greedy"]),
    model=st.sampled_from(list(ActionModel)),
)
def test_scheduler_invariants_and_errand_order(seed, robots, scheduler, model) -> None:
    """No task held by two robots, errands visited in order by one robot, every
    completion is the last errand's visit, and the log passes the independent checker."""
    rng = np.random.default_rng(seed)
    nav = np.ones((6, 8), dtype=bool)
    nav[1:5:2, 1:7:2] = False
    free = np.flatnonzero(nav.ravel())
    starts = rng.choice(free, robots, replace=False)
    lengths = rng.integers(1, 4, 40)
    cells = rng.choice(free, int(lengths.sum()))
    tasks = ErrandTasks(cells, np.concatenate([[0], np.cumsum(lengths)]), reveal=robots + 2)
    result, _ = run_scheduled(nav, starts, tasks, scheduler, 150, model, seed)
    assert result.conflicts == 0
    assert result.completed > 0
    assert (
        validate_log(nav, result.positions, result.goals, result.completions, result.headings) == []
    )
    found = validate_errands(
        result.positions, result.errands, errand_cells(tasks, 8), result.completions
    )
    assert found == []
    if model is ActionModel.ROTATION:
        assert result.headings is not None and result.headings.shape == (151, robots)


def two_robot_floor(scheduler: str) -> ScheduledTasks:
    """3 x 30 floor; robot 0 at (0, 0), robot 1 at (2, 23); tasks of one errand each at
    (0, 25), (2, 24), then (0, 2); two revealed at a time. Step 0: robot 0 takes task 0,
    robot 1 task 1 (the cheaper pairing)."""
    nav = np.ones((3, 30), dtype=bool)
    tasks = ErrandTasks(np.array([25, 84, 2]), np.array([0, 1, 2, 3]), reveal=2)
    stream = ScheduledTasks(tasks, nav, make_scheduler(scheduler))
    stream.schedule(0, np.array([0, 1]), np.array([0, 83]), time.perf_counter)
    assert (stream.next_task(0)[0], stream.next_task(1)[0]) == (0, 1)
    assert stream.arrive(1, 1)  # robot 1 finishes task 1 at (2, 24); task 2 is revealed next
    return stream


def test_unstarted_task_moves_to_a_better_robot() -> None:
    """Task 0 (not started) moves to robot 1, now 3 cells from it, and robot 0 takes the
    new task 2 one cell away: 4 cells of empty travel instead of 47."""
    stream = two_robot_floor("ours")
    changed = stream.schedule(2, np.array([0, 1]), np.array([1, 84]), time.perf_counter)
    assert stream.next_task(1) == (0, 25) and stream.next_task(0) == (2, 2)
    assert set(changed) == {0, 1} and stream.stats.moved >= 1
    stream.check()


def test_greedy_never_moves_a_held_task() -> None:
    stream = two_robot_floor("greedy")
    stream.schedule(2, np.array([0, 1]), np.array([1, 84]), time.perf_counter)
    assert stream.next_task(0) == (0, 25) and stream.next_task(1) == (2, 2)
    stream.check()


def test_cli_2024_instance_json_and_log(tmp_path: Path, capsys) -> None:
    path = write_instance(tmp_path, AGENTS, TASKS)
    log = tmp_path / "run.npz"
    argv = ["bench", "mapf", "--instance", str(path), "--steps", "80", "--model", "rotation"]
    assert main([*argv, "--baseline-scheduler", "greedy", "--log", str(log), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("throughput", "tasks_completed", "plan_ms_p95", "plan_ms_max", "conflicts"):
        assert key in out and key in out["baseline_scheduler"]
    assert out["conflicts"] == 0 and out["tasks_completed"] > 0 and out["scheduler"] == "ours"
    data = np.load(log)
    assert data["headings"].dtype == np.int8 and data["headings"].shape == (81, 3)
    assert data["errands"].dtype == np.int32 and data["errands"].shape[1] == 3
    nav = np.array([[ch != "@" for ch in row] for row in MAP.split("\n")[4:9]])
    assert (
        validate_log(nav, data["positions"], data["goals"], data["completions"], data["headings"])
        == []
    )
    tasks = read_instance(path).errand_tasks
    assert (
        validate_errands(
            data["positions"], data["errands"], errand_cells(tasks, WIDTH), data["completions"]
        )
        == []
    )


def test_cli_scheduler_on_a_2023_instance(tmp_path: Path, capsys) -> None:
    path = write_instance(tmp_path, AGENTS, "3\n0\n34\n14\n")
    spec = json.loads(path.read_text())
    del spec["numTasksReveal"]
    path.write_text(json.dumps(spec))
    argv = ["bench", "mapf", "--instance", str(path), "--steps", "60", "--json"]
    assert main([*argv, "--scheduler", "greedy"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["scheduler"] == "greedy" and out["conflicts"] == 0 and out["tasks_completed"] > 0


@pytest.mark.shared
def test_robot_runners_2024_warehouse_loads(shared_dir: Path) -> None:
    path = shared_dir / "benchmarks/robotrunners/2024-main-round/warehouse.domain"
    for name in ("WAREHOUSE.json", "SORTATION.json"):
        problem = read_instance(path / name, agents=200)
        assert problem.errand_tasks is not None and problem.errand_tasks.reveal == 300
        result = evaluate(problem, "guided", 30, time.perf_counter, model=ActionModel.ROTATION)
        assert result.conflicts == 0


def test_work_weight_prefers_the_short_task() -> None:
    """`CostWeights.work_weight` (default 0, the manager's behaviour) counts a task's own
    travel: with it one robot between two equally near tasks takes the shorter one."""
    from fleet.dispatch.assign import (
        AssignRequest,
        CostWeights,
        FlowAssigner,
        RobotOffer,
        TaskOffer,
    )
    from fleet.dispatch.distances import FloorDistances
    from fleet.dispatch.kinds import RobotKind

    robot = RobotOffer("r", (0, 5), RobotKind.AMR, 100.0, 100.0)
    long_task = TaskOffer("long", (0, 4), (0, 0), work_cells=4)
    short_task = TaskOffer("short", (0, 6), (0, 7), work_cells=1)
    request = AssignRequest((robot,), (long_task, short_task))
    distances = FloorDistances(np.ones((1, 10), dtype=bool))
    picked = FlowAssigner(CostWeights(work_weight=1.0)).assign(request, distances)
    assert dict(picked.robot_of) == {"short": "r"}
    plain = FlowAssigner().assign(request, distances)
    assert len(plain.robot_of) == 1  # a tie on empty travel alone: either may be taken


@pytest.mark.parametrize("model", list(ActionModel))
def test_prefetching_upcoming_goals_changes_no_plan(model: ActionModel) -> None:
    """Tables prepared ahead for tasks' later errands hold the values a step would
    compute, so a run with prefetching moves every robot exactly as one without; the
    stream's queue of upcoming goals drains as the planner prepares them."""
    rng = np.random.default_rng(5)
    nav = np.ones((6, 8), dtype=bool)
    nav[1:5:2, 1:7:2] = False
    free = np.flatnonzero(nav.ravel())
    starts = rng.choice(free, 6, replace=False)
    lengths = rng.integers(2, 4, 60)
    cells = rng.choice(free, int(lengths.sum()))
    tasks = ErrandTasks(cells, np.concatenate([[0], np.cumsum(lengths)]), reveal=9)
    runs = []
    for prefetch_ms in (None, 1e9):
        planner = make_planner("guided", nav, model, 0)
        planner.precompute(np.zeros(0, dtype=np.int64), len(starts))  # reserve the pool
        stream = ScheduledTasks(tasks, nav, make_scheduler("ours"))
        result = run_lifelong(
            planner,
            nav,
            starts,
            stream,
            120,
            lambda: 0.0,  # a clock that never moves: every prefetch runs to the end
            headings=np.ones(len(starts), dtype=np.int64),
            prefetch_ms=prefetch_ms,
        )
        runs.append((result, stream, planner))
    (plain, plain_stream, _), (ahead, ahead_stream, _) = runs
    assert ahead.completed == plain.completed > 0
    assert (ahead.positions == plain.positions).all()
    assert ahead.conflicts == 0
    assert ahead_stream.upcoming_goals(1000).size == 0  # every prefetch ran to the end
    assert plain_stream.upcoming_goals(1000).size > 0  # nobody drained it


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    robots=st.integers(1, 6),
    tasks=st.integers(1, 80),
    cells=st.integers(1, 12),
    k=st.integers(1, 8),
)
def test_cheapest_tasks_by_first_cell_is_the_brute_force_shortlist(
    seed, robots, tasks, cells, k
) -> None:
    """Searching by first errand cell finds, for every robot, tasks as cheap as its
    ``k`` cheapest over the whole pool (the same costs; ties may pick other tasks)."""
    rng = np.random.default_rng(seed)
    first = rng.integers(0, cells, tasks)
    work = rng.integers(0, 30, tasks)
    free_in = rng.integers(0, 5, robots)
    far = rng.integers(0, 50, (robots, cells))
    cost = free_in[:, None] + far[:, first] + work[None, :]
    chosen = cheapest_tasks(first, work, free_in, lambda c: far[:, c], k)
    assert np.array_equal(chosen, np.unique(chosen))
    take = min(k, tasks)
    for r in range(robots):
        want = np.sort(cost[r])[:take]
        got = np.sort(cost[r, chosen])[:take]
        assert np.array_equal(got, want)


@pytest.mark.parametrize(("crowd", "second"), [(0.0, 2), (5.0, 6)])
def test_crowd_term_counts_robots_already_bound_for_a_stop(crowd: float, second: int) -> None:
    """One row; tasks of one errand at cells 2, 2, 6, 6. Robot 0 (at 0) takes a task at 2.
    Next step robot 1 (at 3) is offered alone: 1 cell to 2, 3 cells to 6. Plain, it also
    goes to 2; with 5 cells per robot already bound there, to 6 (2 cells further < 5)."""
    from dataclasses import replace

    from fleet.dispatch.assign import FlowAssigner
    from fleet.traffic.schedule import SCHEDULE_WEIGHTS

    nav = np.ones((1, 12), dtype=bool)
    tasks = ErrandTasks(np.array([2, 2, 6, 6]), np.arange(5), reveal=4)
    weights = replace(SCHEDULE_WEIGHTS, crowd_cells=crowd, age_cells_per_s=0.0)
    stream = ScheduledTasks(tasks, nav, FlowAssigner(weights=weights))
    stream.schedule(0, np.array([0]), np.array([0]), time.perf_counter)
    assert stream.next_task(0)[1] == 2
    stream.schedule(1, np.array([1]), np.array([3]), time.perf_counter)
    assert stream.next_task(1)[1] == second
    assert stream.next_task(0)[1] == 2  # robot 0 was not offered: its task stays
    stream.check()
