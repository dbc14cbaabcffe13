"""``warehouse bench fleet``: assignment time at scale, and ours vs greedy on a lifelong stream.

Two measurements on one floor (default: configs/default.toml), both strategies
in the same run: the median time of one assignment of ``--tasks`` queued
tasks to ``--robots`` free robots (`fleet.manager.assign_eval.random_request`),
and a lifelong task-stream simulation (`fleet.manager.assign_eval.simulate`)
giving each strategy's empty travel and throughput on the same seeded stream.
`bench/fleet.py` runs it at several loads and writes docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from fleet.dispatch.assign import Assigner, make_assigner
from fleet.dispatch.distances import FloorDistances
from fleet.manager.assign_eval import StreamParams, random_request, simulate, task_stream
from warehouse.cli.common import add_json, emit, float_in, int_in, seed_int
from warehouse.config import REPO_ROOT as REPO
from warehouse.config import load_config
from warehouse.fleet_lockstep import cycle_timing, stream_run
from wms.errors import InputError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "fleet", help="task assignment: time at 1,000 x 500, empty travel vs greedy dispatch"
    )
    parser.add_argument("--config", metavar="F", help="TOML config (default: configs/default.toml)")
    parser.add_argument("--robots", type=int_in(1, 100_000), default=500, help="timing: robots")
    parser.add_argument("--tasks", type=int_in(1, 100_000), default=1000, help="timing: tasks")
    parser.add_argument("--repeats", type=int_in(1, 1000), default=7, help="timing repeats")
    parser.add_argument(
        "--rate", type=float_in(1, 100_000), default=600.0, help="stream: tasks per hour"
    )
    parser.add_argument("--hours", type=float_in(0.01, 24), default=2.0, help="stream: arrivals")
    parser.add_argument("--amrs", type=int_in(0, 10_000), default=16, help="stream: AMRs")
    parser.add_argument("--agvs", type=int_in(0, 10_000), default=8, help="stream: AGVs")
    parser.add_argument("--seed", type=seed_int, default=0)
    parser.add_argument("--no-stream", action="store_true", help="only the timing case")
    parser.add_argument(
        "--cycle-config",
        metavar="F",
        default=str(REPO / "configs" / "retail.toml"),
        help="floor for the full-cycle timing at 200 robots (default: configs/retail.toml)",
    )
    parser.add_argument(
        "--cycle-seconds",
        type=float_in(0, 36_000),
        default=120.0,
        help="simulated seconds of the 200-robot cycle timing (0: skip it)",
    )
    parser.add_argument(
        "--traffic-hours",
        type=float_in(0, 24),
        default=0.5,
        help="arrival hours of the same stream run through the whole manager with traffic "
        "(0: skip it)",
    )
    add_json(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    params = StreamParams(
        amrs=args.amrs,
        agvs=args.agvs,
        tasks_per_hour=args.rate,
        arrival_hours=args.hours,
        seed=args.seed,
    )
    result = measure(
        args.config,
        robots=args.robots,
        tasks=args.tasks,
        repeats=args.repeats,
        stream=None if args.no_stream else params,
        seed=args.seed,
        cycle_config=args.cycle_config if args.cycle_seconds > 0 else None,
        cycle_seconds=args.cycle_seconds,
        traffic_hours=args.traffic_hours,
    )
    emit(result, args.json, _human)
    return 0


def measure(
    config: str | Path | None,
    *,
    robots: int = 500,
    tasks: int = 1000,
    repeats: int = 7,
    stream: StreamParams | None = None,
    seed: int = 0,
    clock: Callable[[], float] = time.perf_counter,
    cycle_config: str | Path | None = None,
    cycle_seconds: float = 120.0,
    traffic_hours: float = 0.0,
) -> dict[str, Any]:
    """Every figure of the fleet benchmark as one JSON-ready dict (``repeats=0``: no timing)."""
    floor = load_config(config).floor
    distances = FloorDistances(floor.navigable)
    free = int(floor.navigable.sum())
    if robots > free:
        raise InputError("--robots", f"{robots} robots do not fit on {free} free cells")
    if not floor.locations or not floor.stations:
        raise InputError("--config", "the floor needs storage locations and stations")
    if stream is not None and stream.amrs + stream.agvs == 0:
        raise InputError("--amrs/--agvs", "the stream needs at least one robot")
    if stream is not None and stream.amrs + stream.agvs > free:
        raise InputError("--amrs/--agvs", f"the fleet does not fit on {free} free cells")
    key = f"{tasks}x{robots}"
    result: dict[str, Any] = {
        "floor": floor.name,
        "cores": os.cpu_count(),
        f"assign_ms_{key}": None,
        "cycle_ms_p95_200": None,
        "empty_travel_vs_greedy": None,
        "throughput_vs_greedy": None,
    }
    request = random_request(floor, distances, robots, tasks, seed) if repeats else None
    for name in ("ours", "greedy") if request is not None else ():
        assigner = make_assigner(name)
        cold, *warm = _timings(assigner, request, distances, repeats + 1, clock)
        median = statistics.median(warm)
        outcome = assigner.assign(request, distances)
        figures = {
            "ms_median": round(median, 2),
            "ms_cold": round(cold, 2),
            "ms_runs": [round(t, 2) for t in warm],
            "assigned": len(outcome.robot_of),
            "refused": len(outcome.refused),
        }
        result[f"assign_{key}_{name}"] = figures
        if name == "ours":
            result[f"assign_ms_{key}"] = figures["ms_median"]
    if cycle_config is not None:
        timing = cycle_timing(load_config(cycle_config).floor, 200, cycle_seconds, seed, clock)
        result["cycle_200"] = timing
        result["cycle_ms_p95_200"] = timing["cycle_ms_p95"]
    if stream is None:
        return result
    if traffic_hours > 0:
        short = replace(stream, arrival_hours=traffic_hours)
        with_traffic = task_stream(floor, distances, short)
        runs_t = {
            n: stream_run(floor, with_traffic, short, n, seed=seed) for n in ("ours", "greedy")
        }
        ours_t, greedy_t = runs_t["ours"], runs_t["greedy"]
        result["with_traffic"] = {
            "arrival_hours": traffic_hours,
            "empty_travel_vs_greedy": round(ours_t["empty_cells"] / greedy_t["empty_cells"], 4)
            if greedy_t["empty_cells"]
            else None,
            "throughput_vs_greedy": round(ours_t["tasks_per_hour"] / greedy_t["tasks_per_hour"], 4)
            if greedy_t["tasks_per_hour"]
            else None,
            "ours": ours_t,
            "greedy": greedy_t,
        }
    tasks_in = task_stream(floor, distances, stream)
    runs = {}
    for name in ("ours", "greedy"):
        runs[name] = simulate(floor, distances, tasks_in, make_assigner(name), stream, clock)
    ours, greedy = runs["ours"], runs["greedy"]
    result["empty_travel_vs_greedy"] = (
        round(ours.empty_cells / greedy.empty_cells, 4) if greedy.empty_cells else None
    )
    result["throughput_vs_greedy"] = (
        round(ours.tasks_per_hour / greedy.tasks_per_hour, 4) if greedy.tasks_per_hour else None
    )
    result["stream"] = {
        "tasks": len(tasks_in),
        "tasks_per_hour": stream.tasks_per_hour,
        "arrival_hours": stream.arrival_hours,
        "amrs": stream.amrs,
        "agvs": stream.agvs,
        "seed": stream.seed,
    }
    result["ours"] = ours.summary()
    result["greedy"] = greedy.summary()
    return result


def _timings(
    assigner: Assigner, request: Any, distances: FloorDistances, runs: int, clock: Callable
) -> list[float]:
    out = []
    for _ in range(runs):
        began = clock()
        assigner.assign(request, distances)
        out.append(1000.0 * (clock() - began))
    return out


def _human(r: dict[str, Any]) -> str:
    keys = [k for k in r if k.startswith("assign_ms_")]
    lines = [f"{r['floor']} floor, {r['cores']} cores"]
    for key in keys:
        size = key.removeprefix("assign_ms_")
        ours, greedy = r[f"assign_{size}_ours"], r[f"assign_{size}_greedy"]
        lines.append(
            f"  assign {size.replace('x', ' tasks x ')} robots: ours {ours['ms_median']} ms "
            f"(cold {ours['ms_cold']}), greedy {greedy['ms_median']} ms; "
            f"assigned {ours['assigned']} / {greedy['assigned']}"
        )
    if "stream" in r:
        s = r["stream"]
        lines.append(
            f"  stream: {s['tasks']} tasks at {s['tasks_per_hour']:g}/h over "
            f"{s['arrival_hours']:g} h, {s['amrs']} AMRs + {s['agvs']} AGVs, seed {s['seed']}"
        )
        for name in ("ours", "greedy"):
            x = r[name]
            lines.append(
                f"  {name:>7}: empty {x['empty_cells']} cells ({x['empty_cells_per_task']}/task), "
                f"{x['tasks_per_hour']} tasks/h, "
                f"wait p50/p95 {x['wait_s_p50']}/{x['wait_s_p95']} s, late {x['late']}"
            )
        lines.append(
            f"  empty travel ours/greedy {r['empty_travel_vs_greedy']}, "
            f"throughput ours/greedy {r['throughput_vs_greedy']}"
        )
    if "cycle_200" in r:
        c = r["cycle_200"]
        lines.append(
            f"  full decision cycle, 200 robots on {c['floor']}: p50 {c['cycle_ms_p50']} ms, "
            f"p95 {c['cycle_ms_p95']} ms, max {c['cycle_ms_max']} ms over {c['cycles']} cycles, "
            f"{c['safety_violations']} safety violations"
        )
    if "with_traffic" in r:
        t = r["with_traffic"]
        lines.append(
            f"  whole manager with traffic ({t['arrival_hours']:g} h of arrivals): empty travel "
            f"ours/greedy {t['empty_travel_vs_greedy']}, throughput {t['throughput_vs_greedy']}, "
            f"violations {t['ours']['safety_violations']}/{t['greedy']['safety_violations']}"
        )
    return "\n".join(lines)
