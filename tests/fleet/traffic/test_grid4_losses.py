"""The interference-free reference of bench/grid4_losses.py on a floor checked by hand."""

from __future__ import annotations

from pathlib import Path

from bench.grid4_losses import ideal_completed
from fleet.traffic.graph import FloorGraph
from fleet.traffic.instance import random_problem


def test_one_robot_on_a_corridor_drives_its_goal_queue(tmp_path: Path) -> None:
    path = tmp_path / "line.map"
    path.write_text("type octile\nheight 1\nwidth 12\nmap\n............\n")
    problem = random_problem(path, 1, seed=3)
    graph = FloorGraph(problem.navigable)
    # the goals reached by each horizon, walking the same queue by hand
    for steps in (5, 17, 40):
        tasks = problem.tasks()
        here, clock, reached = int(problem.starts[0]), 0, 0
        while True:
            _, goal = tasks.next_task(0)
            clock += max(abs(goal - here), 1)
            here = goal
            if clock > steps:
                break
            reached += 1
        assert ideal_completed(problem, graph, steps) == reached


def test_robots_do_not_slow_each_other(tmp_path: Path) -> None:
    path = tmp_path / "room.map"
    path.write_text("type octile\nheight 4\nwidth 4\nmap\n....\n....\n....\n....\n")
    one = random_problem(path, 1, seed=0)
    many = random_problem(path, 8, seed=0)
    # eight robots on 16 cells still finish about eight times the tasks of one
    solo = ideal_completed(one, FloorGraph(one.navigable), 200)
    fleet = ideal_completed(many, FloorGraph(many.navigable), 200)
    assert fleet >= 6 * solo
