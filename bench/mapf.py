"""Lifelong MAPF benchmark: our planner vs the PIBT baseline on public warehouse maps.

One command re-creates every traffic figure in docs/benchmarks.md:

    .venv/bin/python bench/mapf.py                # everything (slow: an hour or so)
    .venv/bin/python bench/mapf.py --part targets # warehouse-10-20-10-2-1, N=400..1600, 3 seeds
    .venv/bin/python bench/mapf.py --part sweep   # four MovingAI maps, N=100..1600, plots
    .venv/bin/python bench/mapf.py --part mr23    # Robot Runners MR23-I-10, 10,000 robots
    .venv/bin/python bench/mapf.py --part rr24 --rr24-steps 500 --schedulers ours,greedy
                                                  # Robot Runners 2024 WAREHOUSE, scheduled
    .venv/bin/python bench/mapf.py --part knobs   # guided variants, N=800, seeds 0-2
    .venv/bin/python bench/mapf.py --part repair --clock cpu  # lns vs guided, N=800, seeds 0-2

Each (map, N, seed) runs ours and the baseline in the same process, one
after the other, on the same starts and goal stream. Results are appended as
JSON lines to ``--out`` (default bench/results/mapf.jsonl) and summarised as
markdown tables on stdout; the sweep also writes docs/mapf_throughput.png and
docs/mapf_step_time.png.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from fleet.traffic.evaluate import evaluate, throughput_bound  # noqa: E402
from fleet.traffic.instance import random_problem, read_instance  # noqa: E402
from fleet.traffic.planner import ActionModel  # noqa: E402

SHARED = REPO.parent / "shared" / "benchmarks"
MOVINGAI = SHARED / "movingai" / "maps"
MAPS = [
    "warehouse-10-20-10-2-1",
    "warehouse-10-20-10-2-2",
    "warehouse-20-40-10-2-1",
    "warehouse-20-40-10-2-2",
]
MR23 = SHARED / "robotrunners/2023-main-round/warehouse.domain/MR23-I-10.json"
WINNER_MR23_I10 = 38.9
RR24 = SHARED / "robotrunners/2024-main-round/warehouse.domain"
BEST_RR24 = {"WAREHOUSE": 154_795, "SORTATION": None}
"""Best published 2024 main-round result (tasks in 5,000 steps; C++, competition machines)."""
START_KIT_500 = {"WAREHOUSE": 4_961}
"""The 2024 start kit's C++ default (v2.1.2), first 500 steps, measured on this machine."""


def run_pair(
    problem,
    steps: int,
    seed: int,
    planners: list[str],
    model: ActionModel,
    out: Path,
    tag: str,
    limit: float | None = None,
    tick=time.perf_counter,
) -> list[dict]:
    bound = throughput_bound(problem.navigable, problem.agents)
    rows = []
    for name in planners:
        started = time.perf_counter()
        result = evaluate(problem, name, steps, tick, model=model, seed=seed, time_limit_ms=limit)
        row = {
            "part": tag,
            "map": problem.name,
            "planner": name,
            "model": model.value,
            "seed": seed,
            "bound": bound,
            **result.summary(),
            "bound_ratio": result.throughput / bound if bound else 0.0,
            "wall_s": round(time.perf_counter() - started, 1),
        }
        rows.append(row)
        with out.open("a") as handle:
            handle.write(json.dumps(row) + "\n")
        print(
            f"  {problem.name} N={problem.agents} seed={seed} {name} {model.value}: "
            f"{row['throughput']:.3f}/step = {100 * row['bound_ratio']:.1f}% of bound, "
            f"p95 {row['plan_ms_p95']:.1f} ms, conflicts {row['conflicts']} "
            f"({row['wall_s']} s)",
            file=sys.stderr,
            flush=True,
        )
    return rows


def part_targets(out: Path, steps: int) -> None:
    rows = []
    for agents in (400, 800, 1600):
        for seed in (0, 1, 2):
            problem = random_problem(MOVINGAI / f"{MAPS[0]}.map", agents, seed)
            rows += run_pair(
                problem, steps, seed, ["guided", "pibt"], ActionModel.GRID4, out, "targets"
            )
    print(f"\n### {MAPS[0]}, T={steps}, seeds 0-2 (mean; bound = N / mean distance)\n")
    print(
        "| N | ours % of bound | PIBT % of bound | ratio | ours p95 ms | PIBT p95 ms | conflicts |"
    )
    print("|---|---|---|---|---|---|---|")
    for agents in (400, 800, 1600):
        ours = [r for r in rows if r["agents"] == agents and r["planner"] == "guided"]
        base = [r for r in rows if r["agents"] == agents and r["planner"] == "pibt"]
        o = np.mean([r["bound_ratio"] for r in ours])
        b = np.mean([r["bound_ratio"] for r in base])
        print(
            f"| {agents} | {100 * o:.1f} | {100 * b:.1f} | {o / b:.2f} | "
            f"{np.median([r['plan_ms_p95'] for r in ours]):.1f} | "
            f"{np.median([r['plan_ms_p95'] for r in base]):.1f} | "
            f"{sum(r['conflicts'] for r in ours + base)} |"
        )


def part_repair(out: Path, steps: int, agents: int, clock: str, limit: float | None) -> None:
    """`lns` (windowed repair) against `guided` on warehouse-10-20-10-2-1, seeds 0-2,
    grid4, the step budget ``limit`` on the given clock (``cpu``: process time, so the
    figures do not follow other people's load)."""
    tick = time.process_time if clock == "cpu" else time.perf_counter
    rows = []
    for seed in (0, 1, 2):
        problem = random_problem(MOVINGAI / f"{MAPS[0]}.map", agents, seed)
        rows += run_pair(
            problem, steps, seed, ["guided", "lns"], ActionModel.GRID4, out, "repair", limit, tick
        )
    print(f"\n### {MAPS[0]}, grid4, N={agents}, T={steps}: lns vs guided, seeds 0-2 ({clock})\n")
    print("| planner | % of bound, seeds 0 / 1 / 2 | min | p50 / p95 / max step ms | timeouts |")
    print("|---|---|---|---|---|")
    for name in ("guided", "lns"):
        mine = [r for r in rows if r["planner"] == name]
        pct = [100 * r["bound_ratio"] for r in mine]
        p50 = np.median([r["plan_ms_p50"] for r in mine])
        p95 = np.median([r["plan_ms_p95"] for r in mine])
        worst = max(r["plan_ms_max"] for r in mine)
        print(
            f"| {name} | {' / '.join(f'{x:.2f}' for x in pct)} | {min(pct):.2f} | "
            f"{p50:.0f} / {p95:.0f} / {worst:.0f} | {sum(r['timeouts'] for r in mine)} |"
        )


KNOBS: dict[str, dict[str, dict[str, float]]] = {
    "default": {},
    "open-floor lanes 3x": {"lanes": {"against": 3}},
    "open-floor lanes 5x": {"lanes": {"against": 5}},
    "aisle lanes 5x": {"lanes": {"narrow_against": 5}},
    "all lanes 5x": {"lanes": {"against": 5, "narrow_against": 5}},
    "aisle lanes 20x": {"lanes": {"narrow_against": 20}},
    "straight-on tie-break 0.2": {"options": {"straight_bonus": 0.2}},
    "straight-on tie-break 0.6": {"options": {"straight_bonus": 0.6}},
    "stall watchdog 32": {"options": {"stall_steps": 32}},
    "stall watchdog 128": {"options": {"stall_steps": 128}},
    "occupied penalty 0.3": {"options": {"occupied_penalty": 0.3}},
    "head-on penalty 0.3": {"options": {"headon_penalty": 0.3}},
    "head-on penalty 0.7": {"options": {"headon_penalty": 0.7}},
}
"""Variants of `guided` tried for the grid4 N = 800 target (docs/benchmarks.md)."""


def part_knobs(out: Path, steps: int, agents: int, names: list[str]) -> None:
    """`guided` variants (lane costs, tie-breaks, watchdog) on warehouse-10-20-10-2-1,
    seeds 0-2, each against the default in the same run (grid4, no step budget)."""
    from dataclasses import replace

    from fleet.traffic.graph import FloorGraph
    from fleet.traffic.guided import GUIDED_OPTIONS, CongestionParams, GuidedPlanner, LaneParams
    from fleet.traffic.lifelong import run_lifelong

    table = []
    for name in names:
        spec = KNOBS[name]
        ratios = []
        for seed in (0, 1, 2):
            problem = random_problem(MOVINGAI / f"{MAPS[0]}.map", agents, seed)
            planner = GuidedPlanner(
                FloorGraph(problem.navigable),
                LaneParams(**spec.get("lanes", {})),
                CongestionParams(),
                name="guided",
                model=ActionModel.GRID4,
                options=replace(GUIDED_OPTIONS, **spec.get("options", {})),
                seed=seed,
            )
            planner.precompute(np.flatnonzero(problem.navigable.ravel()), agents)
            result = run_lifelong(
                planner, problem.navigable, problem.starts, problem.tasks(), steps,
                time.perf_counter, record=False,
            )  # fmt: skip
            bound = throughput_bound(problem.navigable, agents)
            ratios.append(100 * result.throughput / bound)
            row = {"part": "knobs", "variant": name, "seed": seed, "agents": agents,
                   **result.summary(), "bound_ratio": result.throughput / bound}  # fmt: skip
            with out.open("a") as handle:
                handle.write(json.dumps(row) + "\n")
        table.append((name, ratios))
        print(f"  {name}: {' / '.join(f'{r:.1f}' for r in ratios)}", file=sys.stderr, flush=True)
    print(f"\n### {MAPS[0]}, grid4, N={agents}, T={steps}: guided variants, seeds 0-2\n")
    print("| variant | % of bound, seeds 0 / 1 / 2 | mean | min | better on every seed |")
    print("|---|---|---|---|---|")
    base = dict(table).get("default")
    for name, ratios in table:
        better = base is not None and all(r > b for r, b in zip(ratios, base, strict=True))
        print(
            f"| {name} | {' / '.join(f'{r:.1f}' for r in ratios)} | {np.mean(ratios):.2f} | "
            f"{min(ratios):.1f} | {'yes' if better else 'no'} |"
        )


def part_sweep(out: Path, steps: int, counts: list[int]) -> None:
    rows = []
    for name in MAPS:
        for agents in counts:
            problem = random_problem(MOVINGAI / f"{name}.map", agents, 0)
            rows += run_pair(problem, steps, 0, ["guided", "pibt"], ActionModel.GRID4, out, "sweep")
    print(f"\n### Four MovingAI warehouse maps, T={steps}, seed 0\n")
    print(
        "| map | N | ours tasks/step | PIBT tasks/step | ratio | ours % bound | PIBT % bound "
        "| ours p50/p95 ms | PIBT p50/p95 ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name in MAPS:
        for agents in counts:
            o = next(
                r
                for r in rows
                if r["map"] == name and r["agents"] == agents and r["planner"] == "guided"
            )
            b = next(
                r
                for r in rows
                if r["map"] == name and r["agents"] == agents and r["planner"] == "pibt"
            )
            ratio = o["throughput"] / b["throughput"] if b["throughput"] else float("nan")
            print(
                f"| {name} | {agents} | {o['throughput']:.2f} | {b['throughput']:.2f} | "
                f"{ratio:.2f} | {100 * o['bound_ratio']:.0f} | {100 * b['bound_ratio']:.0f} | "
                f"{o['plan_ms_p50']:.1f}/{o['plan_ms_p95']:.1f} | "
                f"{b['plan_ms_p50']:.1f}/{b['plan_ms_p95']:.1f} |"
            )
    plot(rows, counts)


def plot(rows: list[dict], counts: list[int]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for key, label, filename in (
        ("throughput", "tasks per timestep", "mapf_throughput.png"),
        ("plan_ms_p95", "p95 planning time per step (ms)", "mapf_step_time.png"),
    ):
        fig, axes = plt.subplots(1, len(MAPS), figsize=(4 * len(MAPS), 3.4), sharey=False)
        for ax, name in zip(axes, MAPS, strict=True):
            for planner, style in (("guided", "o-"), ("pibt", "s--")):
                ys = [
                    next(
                        r[key]
                        for r in rows
                        if r["map"] == name and r["agents"] == n and r["planner"] == planner
                    )
                    for n in counts
                ]
                ax.plot(counts, ys, style, label="ours (guided)" if planner == "guided" else "PIBT")
            if key == "throughput":
                bounds = [
                    next(r["bound"] for r in rows if r["map"] == name and r["agents"] == n)
                    for n in counts
                ]
                ax.plot(counts, bounds, ":", color="grey", label="bound N/mean dist")
            ax.set_title(name, fontsize=9)
            ax.set_xlabel("robots N")
            ax.set_xscale("log", base=2)
            ax.grid(alpha=0.3)
        axes[0].set_ylabel(label)
        axes[0].legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(REPO / "docs" / filename, dpi=110)
        plt.close(fig)


def part_mr23(out: Path, steps: int, models: list[ActionModel]) -> None:
    problem = read_instance(MR23)
    rows = []
    for model in models:
        rows += run_pair(problem, steps, 0, ["guided"], model, out, "mr23")
    print(f"\n### MR23-I-10 (warehouse_large, 10,000 robots), T={steps}\n")
    header = "| model | tasks/step | 2023 winner (rotation, T=5000) | p50 ms | p95 ms | max ms |"
    print(header + " conflicts |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['model']} | {r['throughput']:.2f} | {WINNER_MR23_I10} | "
            f"{r['plan_ms_p50']:.0f} | {r['plan_ms_p95']:.0f} | {r['plan_ms_max']:.0f} | "
            f"{r['conflicts']} |"
        )


def part_rr24(
    out: Path,
    steps: int,
    instance: str,
    schedulers: list[str],
    limit: float | None,
    prefetch_ms: float | None = None,
    clock: str = "wall",
) -> None:
    """One 2024 instance, rotation model, our planner under each scheduler in turn.

    Every 100 steps the tasks finished in that block go to stderr, so a long
    run can be read while it goes (and quoted if it is stopped)."""
    from fleet.traffic.schedule import ScheduledTasks

    tick = time.process_time if clock == "cpu" else time.perf_counter
    problem = read_instance(RR24 / f"{instance}.json")
    rows = []
    for scheduler in schedulers:
        stream = problem.tasks(scheduler)
        assert isinstance(stream, ScheduledTasks)
        blocks: list[int] = []
        started = time.perf_counter()

        def progress(
            step: int, stream=stream, blocks=blocks, scheduler=scheduler, started=started
        ) -> None:
            if step % 100 == 0:
                blocks.append(stream.stats.completed - sum(blocks))
                print(
                    f"  {instance} {scheduler} step {step}: {stream.stats.completed} tasks "
                    f"(+{blocks[-1]}), {time.perf_counter() - started:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )

        result = evaluate(
            problem,
            "guided",
            steps,
            tick,
            model=ActionModel.ROTATION,
            time_limit_ms=limit,
            progress=progress,
            tasks=stream,
            prefetch_ms=prefetch_ms,
        )
        sched_ms = np.asarray(stream.stats.ms)
        row = {
            "part": "rr24",
            "map": instance,
            "planner": "guided",
            "scheduler": scheduler,
            "model": "rotation",
            **result.summary(),
            "tasks_completed": result.completed,
            "per_100_steps": blocks,
            "schedule_ms_p50": round(float(np.percentile(sched_ms, 50)), 1),
            "schedule_ms_p95": round(float(np.percentile(sched_ms, 95)), 1),
            "moved": stream.stats.moved,
            "time_limit_ms": limit,
            "prefetch_ms": prefetch_ms,
            "clock": clock,
            "wall_s": round(time.perf_counter() - started, 1),
            "load_avg": [round(x, 2) for x in os.getloadavg()],
        }
        rows.append(row)
        with out.open("a") as handle:
            handle.write(json.dumps(row) + "\n")
    print(f"\n### Robot Runners 2024 {instance} (10,000 robots, rotation), T={steps}\n")
    print(
        "| scheduler | tasks | tasks/step | p50 ms | p95 ms | max ms | timeouts | conflicts "
        "| start kit (C++, 500 steps) | best published (C++, 5,000 steps) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['scheduler']} | {r['completed']:,} | {r['throughput']:.2f} | "
            f"{r['plan_ms_p50']:.0f} | {r['plan_ms_p95']:.0f} | {r['plan_ms_max']:.0f} | "
            f"{r['timeouts']} | {r['conflicts']} | {START_KIT_500.get(instance, '—')} | "
            f"{BEST_RR24.get(instance) or '—'} |"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--part",
        choices=["targets", "sweep", "mr23", "rr24", "knobs", "repair", "all"],
        default="all",
    )
    parser.add_argument("--knobs", default=",".join(KNOBS), help="knobs: variants to run")
    parser.add_argument("--knobs-agents", type=int, default=800)
    parser.add_argument("--rr24-steps", type=int, default=500)
    parser.add_argument("--rr24-instance", default="WAREHOUSE", choices=["WAREHOUSE", "SORTATION"])
    parser.add_argument("--schedulers", default="ours,greedy")
    parser.add_argument("--time-limit-ms", type=float, default=1000.0, help="rr24 step budget")
    parser.add_argument(
        "--prefetch-ms", type=float, help="rr24: upcoming goal tables until this far into a step"
    )
    parser.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="rr24: time steps (and the budget) in wall time or this process's CPU time",
    )
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--mr23-steps", type=int, default=1000)
    parser.add_argument("--counts", default="100,200,400,800,1600")
    parser.add_argument("--models", default="grid4,rotation", help="action models for mr23")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "mapf.jsonl")
    args = parser.parse_args()
    if not MOVINGAI.is_dir():
        print(f"public benchmark data not found at {SHARED}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.part in ("targets", "all"):
        part_targets(args.out, args.steps)
    if args.part in ("sweep", "all"):
        part_sweep(args.out, args.steps, [int(c) for c in args.counts.split(",")])
    if args.part in ("mr23", "all"):
        part_mr23(args.out, args.mr23_steps, [ActionModel(m) for m in args.models.split(",")])
    if args.part == "knobs":
        part_knobs(args.out, args.steps, args.knobs_agents, args.knobs.split(","))
    if args.part == "repair":
        part_repair(args.out, args.steps, args.knobs_agents, args.clock, args.time_limit_ms or None)
    if args.part in ("rr24", "all"):
        part_rr24(
            args.out,
            args.rr24_steps,
            args.rr24_instance,
            args.schedulers.split(","),
            args.time_limit_ms or None,
            args.prefetch_ms,
            args.clock,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
