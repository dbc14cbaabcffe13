"""Fleet assignment benchmark: one command, every figure of the fleet section of docs/benchmarks.md.

    .venv/bin/python bench/fleet.py            # print the section
    .venv/bin/python bench/fleet.py --write    # and replace it in docs/benchmarks.md

Three parts, all on the default floor (configs/default.toml), ours and the
greedy baseline in the same run: the median time of one assignment of 1,000
queued tasks to 500 free robots; how the size of the sparse graph trades
time against cost (the choice of ``k_nearest``); and the lifelong task
stream at three loads (`warehouse bench fleet --rate R`), giving empty
travel and throughput on the same seeded stream.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.sections import write_section  # noqa: E402
from fleet.dispatch.assign import FlowAssigner, total_cost  # noqa: E402
from fleet.dispatch.distances import FloorDistances  # noqa: E402
from fleet.manager.assign_eval import StreamParams, random_request  # noqa: E402
from warehouse.cli.bench.fleet import measure  # noqa: E402
from warehouse.config import load_config  # noqa: E402

HEADING = "## Fleet: task assignment"
DEFAULT = REPO / "configs" / "default.toml"
LOADS = (400.0, 600.0, 900.0)
HEADLINE = 600.0


def graph_sizes(repeats: int) -> list[dict[str, Any]]:
    """Time and cost of ours at 1,000 × 500 for several ``k_nearest``, against the full graph."""
    floor = load_config(DEFAULT).floor
    distances = FloorDistances(floor.navigable)
    request = random_request(floor, distances, 500, 1000, 0)
    rows = []
    for k in (8, 16, 32, 64, 1000):
        assigner = FlowAssigner(k_nearest=k)
        result = assigner.assign(request, distances)
        times = []
        for _ in range(repeats):
            began = time.perf_counter()
            assigner.assign(request, distances)
            times.append(1000 * (time.perf_counter() - began))
        rows.append(
            {
                "k": k,
                "ms": statistics.median(times),
                "cost": total_cost(request, distances, result),
                "assigned": len(result.robot_of),
            }
        )
    return rows


def stream_row(r: dict[str, Any]) -> str:
    o, g, s = r["ours"], r["greedy"], r["stream"]
    return (
        f"| {s['tasks_per_hour']:,.0f}/h | {s['tasks']:,} | {o['empty_cells_per_task']:.2f} "
        f"| {g['empty_cells_per_task']:.2f} | **{r['empty_travel_vs_greedy']:.3f}** "
        f"| {o['tasks_per_hour']:.0f} | {g['tasks_per_hour']:.0f} "
        f"| **{r['throughput_vs_greedy']:.3f}** | {o['wait_s_p50']:.0f} / {o['wait_s_p95']:.0f} "
        f"| {g['wait_s_p50']:.0f} / {g['wait_s_p95']:.0f} | {o['late']} / {g['late']} "
        f"| {o['assign_ms_p95']:.1f} / {g['assign_ms_p95']:.1f} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    parser.add_argument("--repeats", type=int, default=11, help="timing repeats (median)")
    args = parser.parse_args()
    started = time.perf_counter()
    timing = measure(DEFAULT, repeats=args.repeats)
    ours, greedy = timing["assign_1000x500_ours"], timing["assign_1000x500_greedy"]
    sizes = graph_sizes(max(3, args.repeats // 2))
    full = sizes[-1]
    streams = [measure(DEFAULT, repeats=0, stream=StreamParams(tasks_per_hour=r)) for r in LOADS]
    headline = next(r for r in streams if r["stream"]["tasks_per_hour"] == HEADLINE)
    whole = measure(
        DEFAULT,
        repeats=0,
        stream=StreamParams(tasks_per_hour=HEADLINE, arrival_hours=1.0),
        cycle_config=REPO / "configs" / "retail.toml",
        cycle_seconds=300.0,
        traffic_hours=1.0,
    )
    cycle, traffic = whole["cycle_200"], whole["with_traffic"]
    params = StreamParams()
    text = "\n".join(
        [
            HEADING,
            "",
            f"`.venv/bin/python bench/fleet.py --write` (machine: {os.cpu_count()} cores, shared "
            "with other engineers' builds, so absolute times are noisy; "
            f"Python {platform.python_version()}; whole run "
            f"{time.perf_counter() - started:.0f} s). `warehouse bench fleet --json` prints the "
            f"headline figures: `assign_ms_1000x500` = **{timing['assign_ms_1000x500']:.1f}**, "
            f"`empty_travel_vs_greedy` = **{headline['empty_travel_vs_greedy']:.3f}**, "
            f"`throughput_vs_greedy` = **{headline['throughput_vs_greedy']:.3f}** "
            f"(at {HEADLINE:.0f} tasks/h), `cycle_ms_p95_200` = **{cycle['cycle_ms_p95']:.1f}**.",
            "",
            "### One assignment: 1,000 queued tasks, 500 free robots",
            "",
            "500 robots (half AMRs, half AGVs) on distinct random free cells of the default floor "
            "(736 free cells), battery 30–100 %; 1,000 tasks from the lifelong stream below (pick "
            "routes of 1–4 storage locations ending at a station, pod moves), waiting 0–1 h. Time "
            "includes the distance lookups (tables cached, as in a running manager), the hard "
            f"rules, the costs and the solve; median of {args.repeats} runs after one cold run. "
            "Target: ≤ 200 ms.",
            "",
            "| strategy | median | cold | assigned |",
            "|---|---|---|---|",
            f"| ours (min-cost flow, k = 32) | **{ours['ms_median']:.1f} ms** "
            f"| {ours['ms_cold']:.1f} ms | {ours['assigned']} |",
            f"| greedy | {greedy['ms_median']:.1f} ms | {greedy['ms_cold']:.1f} ms "
            f"| {greedy['assigned']} |",
            "",
            "How big the sparse graph must be (`FlowAssigner(k_nearest=k)`: each robot's k nearest "
            "feasible tasks and each task's k nearest robots, by empty travel; k = 1,000 is the "
            "complete graph, 500,000 arcs). Cost is the assigner's objective (cells; lower is "
            "better); gap is against the complete graph. k = 8 and 16 leave robots idle that "
            "could work, so the graph is widened and solved again. CP-SAT was not tried: the "
            "min-cost flow is already exact on the graph it is given.",
            "",
            "| k | median | cost | gap to complete | assigned |",
            "|---|---|---|---|---|",
            *[
                f"| {row['k']} | {row['ms']:.1f} ms | {row['cost']:,.0f} "
                f"| {100 * (row['cost'] - full['cost']) / abs(full['cost']):.2f} % "
                f"| {row['assigned']} |"
                for row in sizes
            ],
            "",
            "### Lifelong task stream: ours vs greedy dispatch",
            "",
            f"Default floor, {params.amrs} AMRs + {params.agvs} AGVs on seeded random cells; "
            f"tasks arrive as a Poisson stream for {params.arrival_hours:g} h "
            f"({100 * (1 - params.agv_share):.0f} % pick routes: 1–{params.max_picks} storage "
            f"locations in aisle order then a station, {params.pick_dwell_s:g} s per pick, "
            f"{params.station_dwell_s:g} s at the station; {100 * params.agv_share:.0f} % pod "
            "moves: lift at the pod's location, a station, back); "
            f"{100 * params.priority_share:.0f} % have priority 1 and "
            f"{100 * params.due_share:.0f} % a cut-off 15–45 min after arrival. One assignment "
            f"cycle per simulated second; robots within {params.horizon_s:g} s of finishing are "
            "offered as about to be free. Robots drive 1 cell/s along true shortest distances and "
            "**do not interact: no traffic, no waiting for each other** (the full manager with "
            "the traffic planner replaces this later). Both strategies run the same stream, "
            f"fleet and charging policy (to a charger below {params.go_charge_pct:g} %, or below "
            f"{params.idle_charge_pct:g} % when left idle; one robot per charger, "
            f"{params.charge_pct_per_s:g} %/s to {params.back_to_work_pct:g} %; "
            f"{params.energy.pct_per_cell:g} % per cell; the assigner keeps "
            f"{params.energy.reserve_pct:g} % for the way to a charger). The run ends at the last "
            "completion: every task is done by both, so *empty travel* (robot to a task's first "
            "stop, summed) compares the same tasks, and throughput = tasks / time of the last "
            "completion. Greedy = priority first, then first come first served, each task to the "
            "nearest free robot. Targets: empty travel ≤ 0.90 × greedy, throughput ≥ greedy.",
            "",
            "| load | tasks | ours empty / task | greedy empty / task | empty ours / greedy "
            "| ours tasks/h | greedy tasks/h | throughput ours / greedy | ours wait p50 / p95 s "
            "| greedy wait p50 / p95 s | late ours / greedy | assign p95 ms ours / greedy |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
            *[stream_row(r) for r in streams],
            "",
            "- At 400 tasks/h the fleet runs well below its capacity: most tasks find an "
            "idle robot at once and there is little to choose; ours saves only what "
            "about-to-be-free robots and matching several tasks at a time give. The saving "
            "comes when robots are the bottleneck (600/h is about the fleet's capacity, 900/h "
            "is overload): greedy then sends each freed robot to the oldest task wherever it "
            "is, ours to near ones, with a waiting-time credit so far tasks are not starved.",
            "",
            "### The whole manager: decision cycle at 200 robots, and the stream with traffic",
            "",
            "`FleetCore` in lockstep with simulated controllers (`sim.controller.SimRobot`, "
            "1 cell/s, 0.5 s steps, states after every step; `fleet.manager.lockstep`), the "
            "simulator's own safety monitor watching every step. A *decision cycle* is one "
            "`FleetCore.cycle`: withdraw, assign (OR-Tools), recharge, park, one traffic-planner "
            "step with reservations, and the order updates it releases.",
            "",
            f"- Cycle time, 200 robots on the retail floor ({cycle['floor']}, 2,142 free cells), "
            f"every robot busy with two-stop routes for {cycle['cycles'] // 2} simulated seconds: "
            f"p50 {cycle['cycle_ms_p50']:.1f} ms, **p95 {cycle['cycle_ms_p95']:.1f} ms**, max "
            f"{cycle['cycle_ms_max']:.1f} ms over {cycle['cycles']} cycles, "
            f"{cycle['safety_violations']} safety violations. Target: p95 ≤ 100 ms. Most of a "
            "cycle is the planner computing distance tables for goals it has not seen before.",
            f"- The same {HEADLINE:.0f}/h stream ({traffic['arrival_hours']:g} h of arrivals, "
            f"{traffic['ours']['tasks']} tasks) through the whole manager on the default floor, "
            "robots driving reserved bases and waiting for each other: empty travel ours / "
            f"greedy **{traffic['empty_travel_vs_greedy']:.3f}** "
            f"({traffic['ours']['empty_cells_per_task']} vs "
            f"{traffic['greedy']['empty_cells_per_task']} cells per task, counted as cells "
            "granted while a task is assigned and not started), throughput ours / greedy "
            f"**{traffic['throughput_vs_greedy']:.3f}** ({traffic['ours']['tasks_per_hour']} vs "
            f"{traffic['greedy']['tasks_per_hour']} tasks/h to the last completion; "
            f"{traffic['ours']['completed']} / {traffic['greedy']['completed']} completed), "
            f"safety violations {traffic['ours']['safety_violations']} / "
            f"{traffic['greedy']['safety_violations']}.",
            "",
        ]
    )
    print(text)
    if args.write:
        write_section(REPO / "docs" / "benchmarks.md", HEADING, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
