"""The Robot Runners 2024 throughput bound (bench/rr24_bound.py) on hand-checked cases."""

from __future__ import annotations

import numpy as np

from bench.rr24_bound import most_tasks, task_costs
from fleet.traffic.schedule import ErrandTasks
from wms.layout.distances import DistanceTables


def test_task_costs_on_a_corridor() -> None:
    navigable = np.ones((1, 10), dtype=bool)
    # task 0: 0 -> 4 -> 9 (travel 9); task 1: 2 -> 3 (travel 1); first errands {0, 2}
    tasks = ErrandTasks(np.array([0, 4, 9, 2, 3]), np.array([0, 3, 5]), reveal=1)
    travel, floor = task_costs(DistanceTables(navigable), tasks, 10)
    assert travel.tolist() == [9, 1]
    assert floor.tolist() == [7, 1]  # 9 -> nearest first errand 2; 3 -> 2


def test_budget_and_reveal_limit_the_count() -> None:
    travel = np.array([10, 10, 1, 1])
    floor = np.zeros(4, dtype=np.int64)
    # one robot, 3 steps. Only X + reveal tasks are known after X completions:
    # with reveal 1 the first completion must come from the two 10-cell tasks
    assert most_tasks(travel, floor, reveal=1, team=1, steps=3) == 0
    # with reveal 2 the first 1-cell task is known at once, the second after one
    assert most_tasks(travel, floor, reveal=2, team=1, steps=3) == 2
    # the budget: a third task would be a 10-cell one
    assert most_tasks(travel, floor, reveal=2, team=1, steps=11) == 2
    assert most_tasks(travel, floor, reveal=2, team=1, steps=12) == 3


def test_last_leg_is_credited_per_robot() -> None:
    travel = np.array([2, 2])
    floor = np.array([5, 5])
    # two tasks need 2 + 5 + 2 moves (no leg after the last): 9 steps for one robot
    assert most_tasks(travel, floor, reveal=2, team=1, steps=9) == 2
    assert most_tasks(travel, floor, reveal=2, team=1, steps=8) == 1
