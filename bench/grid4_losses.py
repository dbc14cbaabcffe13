"""Where `guided` loses throughput in grid4 on warehouse-10-20-10-2-1 (issue 13's N = 800
target), against two references computed on the same starts and goal queue.

For each seed it prints:

- ``pct``: tasks per step as a % of the usual bound, N / mean shortest distance (the
  targets table's metric);
- ``ideal_pct``: the same for an ideal fleet on the same goal queue that drives every
  task on a shortest path and never meets another robot (an event simulation: whoever
  finishes first takes the next goal). It is below 100% because tasks still under way
  at T are not counted; no planner can beat it on that seed;
- ``efficiency``: ``pct / ideal_pct``;
- robot-steps of the tasks finished, split by what they did to the true (shortest)
  distance to the goal: ``closer``, ``wait``, ``detour`` (farther from the goal but
  closer along the lanes: the lane design's detour) and ``pushed`` (farther along both:
  made way for another robot);
- ``lane_detour``: mean lane-path length over mean shortest length on 2,000 random
  pairs (the lanes' own cost, before any robot meets another).

    .venv/bin/python bench/grid4_losses.py --seeds 0,1,2
    .venv/bin/python bench/grid4_losses.py --seeds 0 --against 3 --narrow-against 3
"""

from __future__ import annotations

import argparse
import heapq
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from fleet.traffic.distances import GoalDistances  # noqa: E402
from fleet.traffic.evaluate import throughput_bound  # noqa: E402
from fleet.traffic.graph import FloorGraph  # noqa: E402
from fleet.traffic.guided import (  # noqa: E402
    GUIDED_OPTIONS,
    CongestionParams,
    GuidedPlanner,
    LaneParams,
)
from fleet.traffic.instance import MapfProblem, random_problem  # noqa: E402
from fleet.traffic.lifelong import LifelongResult, run_lifelong  # noqa: E402
from fleet.traffic.planner import ActionModel  # noqa: E402

MAP = REPO.parent / "shared/benchmarks/movingai/maps/warehouse-10-20-10-2-1.map"


def unit_tables(graph: FloorGraph) -> tuple[GoalDistances, np.ndarray]:
    """Shortest-distance rows for every free cell as a goal, and each node's row."""
    unit = GoalDistances(graph, np.ones((graph.size, 4), dtype=np.int64))
    every = np.arange(graph.size)
    unit.precompute(every)
    return unit, unit.slots(every)


def ideal_completed(problem: MapfProblem, graph: FloorGraph, steps: int) -> int:
    """Tasks an interference-free fleet on shortest paths finishes by ``steps``."""
    unit, rows = unit_tables(graph)
    tasks = problem.tasks()
    queue: list[tuple[int, int, int]] = []
    for robot, cell in enumerate(problem.starts.tolist()):
        _, goal = tasks.next_task(robot)
        far = int(unit.pool[rows[graph.node_of[goal]], graph.node_of[cell]])
        heapq.heappush(queue, (far, robot, goal))
    done = 0
    while queue:
        arrival, robot, goal = heapq.heappop(queue)
        if arrival > steps:
            break
        done += 1
        _, following = tasks.next_task(robot)
        far = int(unit.pool[rows[graph.node_of[following]], graph.node_of[goal]])
        heapq.heappush(queue, (arrival + max(far, 1), robot, following))
    return done


def step_shares(
    result: LifelongResult, graph: FloorGraph, lanes: GoalDistances
) -> dict[str, float]:
    """Robot-steps of finished tasks by their effect on the true and the lane distance."""
    assert result.positions is not None
    width = graph.width
    nodes = graph.node_of[result.positions[..., 0] * width + result.positions[..., 1]]
    goal_cells = result.goals[:, 0] * width + result.goals[:, 1]
    steps, robots = nodes.shape[0] - 1, nodes.shape[1]
    current = np.full((steps, robots), -1, dtype=np.int64)
    since = np.zeros(robots, dtype=np.int64)
    for step, robot, task in result.completions.tolist():
        current[since[robot] : step, robot] = goal_cells[task]
        since[robot] = step
    goal_nodes = graph.node_of[np.maximum(current, 0)]
    unit, rows = unit_tables(graph)
    lane_rows = lanes.slots(np.arange(graph.size))
    now = unit.pool[rows[goal_nodes], nodes[:-1]].astype(np.int64)
    then = unit.pool[rows[goal_nodes], nodes[1:]].astype(np.int64)
    lane_now = lanes.pool[lane_rows[goal_nodes], nodes[:-1]].astype(np.int64)
    lane_then = lanes.pool[lane_rows[goal_nodes], nodes[1:]].astype(np.int64)
    counted = (current >= 0) & (now > 0)
    moved = nodes[1:] != nodes[:-1]
    closer = then < now
    farther = counted & moved & ~closer
    total = counted.sum()
    return {
        "closer": round(100 * (counted & closer).sum() / total, 2),
        "wait": round(100 * (counted & ~moved).sum() / total, 2),
        "detour": round(100 * (farther & (lane_then < lane_now)).sum() / total, 2),
        "pushed": round(100 * (farther & (lane_then >= lane_now)).sum() / total, 2),
    }


def lane_detour(graph: FloorGraph, lanes: GoalDistances, pairs: int = 2000) -> float:
    rng = np.random.default_rng(1)
    starts = rng.integers(0, graph.size, pairs)
    goals = rng.integers(0, graph.size, pairs)
    unit = GoalDistances(graph, np.ones((graph.size, 4), dtype=np.int64))
    shortest = (unit.paths(starts, goals, 4 * graph.size) >= 0).sum(axis=1) - 1
    along = (lanes.paths(starts, goals, 4 * graph.size) >= 0).sum(axis=1) - 1
    return float(along.sum() / shortest.sum())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--agents", type=int, default=800)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--against", type=int, default=LaneParams.against)
    parser.add_argument("--narrow-against", type=int, default=LaneParams.narrow_against)
    args = parser.parse_args()
    if not MAP.exists():
        parser.error(f"{MAP} is missing (needs ../shared)")
    lanes = LaneParams(against=args.against, narrow_against=args.narrow_against)
    for seed in [int(s) for s in args.seeds.split(",")]:
        problem = random_problem(MAP, args.agents, seed)
        graph = FloorGraph(problem.navigable)
        planner = GuidedPlanner(
            graph,
            lanes,
            CongestionParams(),
            name="guided",
            model=ActionModel.GRID4,
            options=GUIDED_OPTIONS,
            seed=seed,
        )
        planner.precompute(np.flatnonzero(problem.navigable.ravel()), args.agents)
        result = run_lifelong(
            planner, problem.navigable, problem.starts, problem.tasks(), args.steps,
            time.perf_counter, record=True,
        )  # fmt: skip
        bound = throughput_bound(problem.navigable, args.agents)
        pct = 100 * result.throughput / bound
        ideal = 100 * ideal_completed(problem, graph, args.steps) / args.steps / bound
        row = {
            "seed": seed,
            "agents": args.agents,
            "steps": args.steps,
            "lanes": {"against": lanes.against, "narrow_against": lanes.narrow_against},
            "pct": round(pct, 2),
            "ideal_pct": round(ideal, 2),
            "efficiency": round(pct / ideal, 4),
            **step_shares(result, graph, planner.distances),
            "lane_detour": round(lane_detour(graph, planner.distances), 4),
            "conflicts": result.conflicts,
        }
        print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
