"""What-if: the same day at several fleet sizes, in parallel processes, and the risk it shows.

Each run is `warehouse.day.run_day` (the whole system in lockstep, so a run depends
only on its inputs) at one fleet size and seed; runs go to a process pool. The
answer is the smallest fleet whose every run met every carrier cut-off, the
cut-offs at risk at each size (some order late), and a chart of throughput,
cycle time and on-time share against fleet size.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sim.kpi import compute_kpis
from warehouse.config import load_config
from warehouse.day import DaySettings, run_day


@dataclass(frozen=True, slots=True)
class WhatIfRun:
    robots: int
    seed: int
    config: str
    settings: DaySettings


def one_run(run: WhatIfRun) -> dict[str, Any]:
    """One day at one fleet size (module level, so a process pool can pickle it)."""
    config = load_config(run.config)
    agvs_only = run.settings.amrs == 0 and run.settings.agvs > 0  # goods-to-person days
    fleet = {"amrs": 0, "agvs": run.robots} if agvs_only else {"amrs": run.robots, "agvs": 0}
    day = run_day(config, replace(run.settings, **fleet, seed=run.seed, starts=None))
    kpis = compute_kpis(day.record)
    at_risk = [
        {"cutoff": c.carrier, "cutoff_s": c.cutoff_s, "late": c.late, "share": c.share}
        for c in kpis.on_time_by_cutoff
        if c.late
    ]
    return {
        "robots": run.robots,
        "seed": run.seed,
        "orders_total": kpis.orders_total,
        "orders_completed": kpis.orders_completed,
        "orders_per_hour": kpis.orders_per_hour,
        "cycle_time_s_p90": None
        if kpis.cycle_time_s_p90 is None
        else round(kpis.cycle_time_s_p90, 1),
        "on_time_share": kpis.on_time_share,
        "cutoffs_at_risk": at_risk,
        "safety_violations": kpis.safety_violations,
        "sim_s": kpis.sim_s,
    }


def run_whatif(
    config: str,
    fleet_sizes: Sequence[int],
    settings: DaySettings,
    seeds: int = 1,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[dict[str, Any]]:
    """Every (fleet size, seed) run, in parallel; results in fleet-size then seed order."""
    runs = [
        WhatIfRun(n, settings.seed + s, config, settings) for n in fleet_sizes for s in range(seeds)
    ]
    workers = max(1, min(workers or os.cpu_count() or 1, len(runs)))
    if workers == 1:
        results = []
        for i, run in enumerate(runs):
            results.append(one_run(run))
            if progress:
                progress(i + 1, len(runs))
        return results
    with ProcessPoolExecutor(max_workers=workers) as pool:
        results = []
        for i, result in enumerate(pool.map(one_run, runs)):
            results.append(result)
            if progress:
                progress(i + 1, len(runs))
        return results


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Per fleet size over its seeds: mean throughput, worst p90 and on-time share; and the
    smallest fleet whose every run completed every order on time."""
    sizes = sorted({r["robots"] for r in results})
    rows = []
    smallest = None
    for size in sizes:
        mine = [r for r in results if r["robots"] == size]
        on_time = [r["on_time_share"] for r in mine]
        p90 = [r["cycle_time_s_p90"] for r in mine if r["cycle_time_s_p90"] is not None]
        meets = all(
            r["orders_completed"] == r["orders_total"] and not r["cutoffs_at_risk"] for r in mine
        )
        risk = sorted({c["cutoff"] for r in mine for c in r["cutoffs_at_risk"] if c["cutoff"]})
        rows.append(
            {
                "robots": size,
                "orders_per_hour": round(sum(r["orders_per_hour"] for r in mine) / len(mine), 2),
                "cycle_time_s_p90": max(p90) if p90 else None,
                "on_time_share": min((x for x in on_time if x is not None), default=None),
                "meets_cutoffs": meets,
                "cutoffs_at_risk": risk,
                "seeds": len(mine),
            }
        )
        if meets and smallest is None:
            smallest = size
    return {"runs": rows, "smallest_fleet_meeting_cutoffs": smallest}


def whatif_chart(summary: dict[str, Any], path: Path) -> Path:
    """Throughput, p90 cycle time and on-time share against fleet size (one PNG, Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    rows = summary["runs"]
    sizes = [r["robots"] for r in rows]
    figure = Figure(figsize=(11, 3.4), dpi=100)
    axes = figure.subplots(1, 3)
    axes[0].plot(sizes, [r["orders_per_hour"] for r in rows], marker="o")
    axes[0].set(title="Throughput", xlabel="robots", ylabel="orders / hour")
    axes[1].plot(sizes, [r["cycle_time_s_p90"] or 0 for r in rows], marker="o", color="tab:orange")
    axes[1].set(title="Order cycle time p90", xlabel="robots", ylabel="seconds")
    axes[2].plot(sizes, [r["on_time_share"] or 0 for r in rows], marker="o", color="tab:green")
    axes[2].set(title="On time (worst seed)", xlabel="robots", ylabel="share", ylim=(0, 1.05))
    smallest = summary["smallest_fleet_meeting_cutoffs"]
    if smallest is not None:
        for ax in axes:
            ax.axvline(smallest, color="grey", linestyle="--", linewidth=1)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    return path
