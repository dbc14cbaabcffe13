"""``warehouse bench mapf``: lifelong MAPF throughput and step time, ours vs a baseline."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import numpy as np
from tqdm import tqdm

from fleet.traffic.evaluate import evaluate, throughput_bound
from fleet.traffic.instance import random_problem, read_instance
from fleet.traffic.planner import ActionModel
from fleet.traffic.registry import make_planner, planner_names
from fleet.traffic.schedule import SCHEDULERS
from warehouse.cli.common import add_json, emit, int_in, seed_int
from wms.errors import InputError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "mapf", help="lifelong multi-robot path finding: throughput vs the bound and a baseline"
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--map", metavar="F.map", help="MovingAI map; random starts and goals")
    source.add_argument(
        "--instance", metavar="F.json", help="Robot Runners instance (2023 or 2024 format)"
    )
    parser.add_argument(
        "--agents", type=int_in(1, 100_000), help="robots (default: instance teamSize)"
    )
    parser.add_argument("--steps", type=int_in(1, 1_000_000), required=True, help="timesteps T")
    parser.add_argument("--seed", type=seed_int, default=0)
    parser.add_argument("--planner", default="guided", help=f"one of {', '.join(planner_names())}")
    parser.add_argument("--baseline", help="also run this planner in the same run")
    parser.add_argument("--model", choices=[m.value for m in ActionModel], default="grid4")
    parser.add_argument("--time-limit-ms", type=float, help="over this, every robot waits")
    parser.add_argument(
        "--scheduler",
        choices=sorted(SCHEDULERS),
        help="schedule the instance's task pool (default: ours for 2024, round robin for 2023)",
    )
    parser.add_argument(
        "--baseline-scheduler",
        choices=sorted(SCHEDULERS),
        help="also run our planner with this scheduler in the same run (e.g. greedy)",
    )
    parser.add_argument(
        "--prefetch-ms",
        type=float,
        help="scheduled tasks: prepare upcoming goals' tables until this long into a step "
        "(default: off)",
    )
    parser.add_argument("--log", metavar="OUT.npz", help="write the plan log of our planner")
    add_json(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    for name in filter(None, (args.planner, args.baseline)):
        make_planner(name, np.ones((1, 1), dtype=bool))  # unknown name: one-line error now
    if args.time_limit_ms is not None and args.time_limit_ms <= 0:
        raise InputError("--time-limit-ms", "must be positive")
    if args.prefetch_ms is not None and not 0 <= args.prefetch_ms <= 60_000:
        raise InputError("--prefetch-ms", "must be between 0 and 60000")
    if args.log and not args.log.endswith(".npz"):
        raise InputError("--log", f"{args.log!r} should end with .npz")
    if args.map and (args.scheduler or args.baseline_scheduler):
        raise InputError("--scheduler", "needs an --instance with a task list")
    if args.map:
        if args.agents is None:
            raise InputError("--agents", "required with --map")
        problem = random_problem(args.map, args.agents, args.seed)
    else:
        problem = read_instance(args.instance, args.agents)
    model = ActionModel(args.model)
    show = not args.json and sys.stderr.isatty()
    result: dict[str, Any] = {
        "map": problem.name,
        "model": model.value,
        "planner": args.planner,
        "scheduler": args.scheduler or problem.default_scheduler or "roundrobin",
        "bound": round(throughput_bound(problem.navigable, problem.agents), 4),
    }
    runs = [("planner", args.planner, args.scheduler)]
    if args.baseline:
        runs.append(("baseline", args.baseline, args.scheduler))
    if args.baseline_scheduler:
        runs.append(("baseline_scheduler", args.planner, args.baseline_scheduler))
    for role, name, scheduler in runs:
        with tqdm(total=args.steps, desc=name, file=sys.stderr, disable=not show) as bar:
            outcome = evaluate(
                problem,
                name,
                args.steps,
                time.perf_counter,
                model=model,
                seed=args.seed,
                time_limit_ms=args.time_limit_ms,
                record=bool(args.log) and role == "planner",
                progress=lambda _step, bar=bar: bar.update(1),
                scheduler=scheduler,
                prefetch_ms=args.prefetch_ms,
            )
        summary = outcome.summary()
        summary["tasks_completed"] = summary["completed"]
        summary["bound_ratio"] = (
            round(outcome.throughput / result["bound"], 4) if result["bound"] else 0.0
        )
        if role == "planner":
            result.update(summary)
            if args.log:
                log = {
                    "positions": outcome.positions,
                    "goals": outcome.goals,
                    "completions": outcome.completions,
                }
                if outcome.headings is not None:
                    log["headings"] = outcome.headings
                if outcome.errands is not None:
                    log["errands"] = outcome.errands
                np.savez_compressed(args.log, **log)
        elif role == "baseline_scheduler":
            result["baseline_scheduler"] = {"scheduler": scheduler, **summary}
            result["scheduler_ratio"] = (
                round(result["throughput"] / summary["throughput"], 4)
                if summary["throughput"]
                else None
            )
        else:
            result["baseline"] = {"planner": name, "bound": result["bound"], **summary}
            result["ratio"] = (
                round(result["throughput"] / summary["throughput"], 4)
                if summary["throughput"]
                else None
            )
    emit(result, args.json, _human)
    return 0


def _human(r: dict[str, Any]) -> str:
    lines = [
        f"{r['map']} ({r['model']}), {r['agents']} robots, {r['steps']} steps, "
        f"bound {r['bound']}/step",
        _line(r["planner"], r),
    ]
    if "baseline" in r:
        lines.append(_line(r["baseline"]["planner"], r["baseline"]))
        lines.append(f"ratio {r['planner']}/{r['baseline']['planner']}: {r['ratio']}")
    if "baseline_scheduler" in r:
        other = r["baseline_scheduler"]
        lines.append(_line(f"{r['planner']}+{other['scheduler']}", other))
        ratio = r["scheduler_ratio"]
        lines.append(f"ratio scheduler {r['scheduler']}/{other['scheduler']}: {ratio}")
    return "\n".join(lines)


def _line(name: str, s: dict[str, Any]) -> str:
    return (
        f"  {name:>8}: {s['completed']} tasks, throughput {s['throughput']} "
        f"({100 * s['bound_ratio']:.1f}% of bound), plan ms p50 {s['plan_ms_p50']} "
        f"p95 {s['plan_ms_p95']} max {s['plan_ms_max']}, conflicts {s['conflicts']}"
    )
