"""Rotation-model variants of our planner on Robot Runners instances, in one process.

Each variant is `guided` with one option changed (or a registered planner by
name), run one after the other on the same instance, starts and task stream,
in the rotation model; the first variant is the baseline of the same run.
``no_congestion`` is `guided` as it was before congestion-aware costs became
the rotation model's default (``guided`` is now ``stopped1_period5``). Rows are
appended as JSON lines to ``--out`` (default bench/results/rotation.jsonl)
with the load average, and printed.

    .venv/bin/python bench/rotation.py --instance EI23-warehouse_small_400 --steps 1000 \\
        --variants no_congestion,guided,lanes20
    .venv/bin/python bench/rotation.py --instance MR23-I-10 --steps 1000 \
        --variants no_congestion,guided

``--instance`` takes a path or the name of a 2023 example / main-round instance.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from fleet.traffic.evaluate import evaluate  # noqa: E402
from fleet.traffic.guided import (  # noqa: E402
    GUIDED_OPTIONS,
    CongestionParams,
    LaneParams,
    make_guided,
)
from fleet.traffic.instance import read_instance  # noqa: E402
from fleet.traffic.planner import ActionModel  # noqa: E402
from fleet.traffic.registry import PLANNERS  # noqa: E402

ROBOTRUNNERS = REPO.parent / "shared" / "benchmarks" / "robotrunners"
SEARCH = [
    ROBOTRUNNERS / "2023-example-instances" / "warehouse.domain",
    ROBOTRUNNERS / "2023-main-round" / "warehouse.domain",
]

VARIANTS: dict[str, dict[str, object]] = {
    "no_congestion": {"congestion": CongestionParams()},
    "cong1": {"congestion": CongestionParams(weight=1.0)},
    "cong3": {"congestion": CongestionParams(weight=3.0)},
    "cong1_period5": {"congestion": CongestionParams(weight=1.0, period=5, refresh=8)},
    "cong05_period5": {"congestion": CongestionParams(weight=0.5, period=5, refresh=8)},
    "cong2_period5": {"congestion": CongestionParams(weight=2.0, period=5, refresh=8)},
    "cong1_period2": {"congestion": CongestionParams(weight=1.0, period=2, refresh=16)},
    "stopped1_period5": {
        "congestion": CongestionParams(weight=1.0, stopped=True, period=5, refresh=8)
    },
    "stopped2_period5": {
        "congestion": CongestionParams(weight=2.0, stopped=True, period=5, refresh=8)
    },
    "cong05": {"congestion": CongestionParams(weight=0.5)},
    "cong2": {"congestion": CongestionParams(weight=2.0)},
    "lanes5": {"lanes": LaneParams(against=5, narrow_against=5)},
    "lanes20": {"lanes": LaneParams(against=20, narrow_against=20)},
    "no_penalties": {"options": replace(GUIDED_OPTIONS, occupied_penalty=0, headon_penalty=0)},
}
"""`guided` with one change each (docs/benchmarks.md, "Rotation model: variants")."""


def instance_path(name: str) -> Path:
    path = Path(name)
    if path.exists():
        return path
    for folder in SEARCH:
        candidate = folder / (name if name.endswith(".json") else name + ".json")
        if candidate.exists():
            return candidate
    raise SystemExit(f"error: no instance {name!r} (a path, or a name under {SEARCH[0]})")


def register(name: str) -> str:
    """The planner name to run for ``name``: a registered planner, or a variant made now."""
    if name in PLANNERS:
        return name
    if name not in VARIANTS:
        known = ", ".join(sorted({*PLANNERS, *VARIANTS}))
        raise SystemExit(f"error: unknown variant {name!r} (known: {known})")
    kwargs = VARIANTS[name]
    PLANNERS[name] = lambda nav, model, seed: make_guided(nav, model, seed, name=name, **kwargs)
    return name


def _blocks(completions: np.ndarray, steps: int) -> list[int]:
    """Tasks completed in each block of steps (1,000 steps, or a fifth of a shorter run)."""
    size = 1000 if steps >= 2000 else max(1, steps // 5)
    edges = np.arange(0, steps + size, size)
    return np.histogram(completions[:, 0], bins=edges)[0].tolist() if completions.size else []


class CountingTasks:
    """A round-robin task stream that counts the tasks handed out (progress lines)."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.handed = 0

    def next_task(self, robot: int) -> tuple[int, int]:
        self.handed += 1
        return self.inner.next_task(robot)  # type: ignore[attr-defined]

    def goal_cells(self) -> np.ndarray:
        return self.inner.goal_cells()  # type: ignore[attr-defined]


def progress_lines(
    name: str, counter: CountingTasks, every: int, team: int
) -> Callable[[int], None]:
    """A progress callback printing tasks completed so far every ``every`` steps."""

    def progress(step: int) -> None:
        if step % every == 0:
            done = counter.handed - team  # every task after each robot's first
            line = {"variant": name, "step": step, "completed": done, "load": os.getloadavg()[0]}
            print(json.dumps(line), file=sys.stderr, flush=True)

    return progress


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instance", required=True)
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--variants", default="guided")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--progress-every",
        type=int,
        default=0,
        help="print (step, tasks completed so far) to stderr every this many steps",
    )
    parser.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="the clock planners with a deadline read (cpu: process time, load drops out)",
    )
    parser.add_argument("--out", type=Path, default=REPO / "bench/results/rotation.jsonl")
    args = parser.parse_args()
    path = instance_path(args.instance)
    names = [register(name) for name in args.variants.split(",") if name]
    problem = read_instance(path)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for name in names:
        start = time.time()
        load_before = os.getloadavg()[0]
        tasks = None
        progress = None
        if args.progress_every > 0 and problem.default_scheduler is None:
            tasks = CountingTasks(problem.tasks())
            progress = progress_lines(name, tasks, args.progress_every, problem.agents)

        result = evaluate(
            problem,
            name,
            args.steps,
            time.process_time if args.clock == "cpu" else time.perf_counter,
            model=ActionModel.ROTATION,
            seed=args.seed,
            tasks=tasks,
            progress=progress,
        )
        summary = result.summary()
        row = {
            "variant": name,
            "instance": path.stem,
            "steps": args.steps,
            "seed": args.seed,
            "throughput": summary["throughput"],
            "plan_ms_p50": summary["plan_ms_p50"],
            "plan_ms_p95": summary["plan_ms_p95"],
            "plan_ms_max": summary["plan_ms_max"],
            "conflicts": summary["conflicts"],
            "per_block": _blocks(result.completions, args.steps),
            "clock": args.clock,
            "wall_s": round(time.time() - start, 1),
            "load_avg": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        }
        print(json.dumps(row), flush=True)
        with args.out.open("a") as handle:
            handle.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
