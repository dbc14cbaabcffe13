"""The demo pipeline on one config: every built part of the system, end to end.

floor → synthetic orders → slotting → waves, batches and OR-Tools routes →
waves released into a fresh SQLite ledger (replenishment, reservations,
picks) → robots drive the pick trips under the traffic planner, checked
step by step by the independent conflict checker → KPIs and ``report.json``.

Robots here are driven in-process through the traffic library; the
simulated controllers over the ZeroMQ bus and the viewer are the simulator's
job and are listed as not built yet.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from fleet.traffic.graph import flat_cells
from fleet.traffic.lifelong import run_lifelong
from fleet.traffic.registry import make_planner
from fleet.trips import TripTasks
from warehouse.config import AppConfig
from wms import planning
from wms.config import wms_config
from wms.layout import DistanceTables, Floor, summarise
from wms.ledger import Ledger
from wms.picking.plan import WavePlan
from wms.release import run_waves, stock_for_plan

NOT_BUILT_YET = (
    "simulated robot controllers over the ZeroMQ bus, fault injection and the pygame "
    "supervisor viewer (simulator issue); here robots are driven in-process",
)


@dataclass(frozen=True, slots=True)
class DemoSettings:
    out_dir: Path
    robots: int = 12
    seed: int = 0
    planner: str = "guided"
    orders: int | None = None


def start_cells(floor: Floor, count: int) -> np.ndarray:
    """Flat cells of the ``count`` free cells nearest the stations (robots start there)."""
    tables = DistanceTables(floor.navigable)
    nearest = tables.from_cells([p.cell for p in floor.stations]).min(axis=0).ravel()
    free = np.flatnonzero(floor.navigable.ravel())
    order = free[np.lexsort((free, nearest[free]))]
    return order[:count]


def trips_of(plan: WavePlan, width: int) -> list[list[int]]:
    """Each batch as a trip of flat cells: its stops in order, then back to its station."""
    return [flat_cells(np.array([*b.stops, b.station_cell]), width).tolist() for b in plan.batches]


def drive_trips(
    floor: Floor,
    plan: WavePlan,
    settings: DemoSettings,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Robots drive every trip of the plan; KPIs from the checked plan log."""
    trips = trips_of(plan, floor.width)
    tasks = TripTasks(trips)
    planner = make_planner(settings.planner, floor.navigable, seed=settings.seed)
    total_travel = sum(b.travel for b in plan.batches)
    steps = int(2.0 * total_travel / max(1, settings.robots)) + 200
    started = time.perf_counter()
    result = run_lifelong(
        planner,
        floor.navigable,
        start_cells(floor, settings.robots),
        tasks,
        steps,
        time.perf_counter,
        progress=progress,
    )
    wall = time.perf_counter() - started
    stops = sum(len(t) for t in trips)
    done = int(result.completed)
    makespan = int(result.completions[:, 0].max()) if done else steps
    positions = result.positions
    moved = 0
    if positions is not None and len(positions) > 1:
        window = positions[: makespan + 1]
        moved = int((window[1:] != window[:-1]).any(axis=2).sum())
    lines = sum(len(b.picks) for b in plan.batches)
    all_done = done == stops
    return {
        "robots": settings.robots,
        "planner": settings.planner,
        "trips": len(trips),
        "stops": stops,
        "stops_completed": done,
        "all_trips_completed": all_done,
        "makespan_ticks": makespan,
        "planned_travel_cells": total_travel,
        "driven_cells": moved,
        "lines_per_hour": round(lines * 3600.0 / makespan, 1) if all_done and makespan else 0.0,
        "moving_share": round(moved / (settings.robots * makespan), 3) if makespan else 0.0,
        "conflicts": result.conflicts,
        "plan_ms_p95": round(float(np.percentile(result.plan_ms, 95)), 3),
        "wall_s": round(wall, 2),
    }


def run_demo(
    config: AppConfig,
    settings: DemoSettings,
    progress: Callable[[str, int], Callable[[int], None] | None] | None = None,
) -> dict[str, Any]:
    """Every stage on the config's floor; returns the report (also written as JSON)."""
    from sim.viewer.floor_render import save_floor_png

    floor = config.floor
    out = settings.out_dir
    out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"floor": summarise(floor, seed=settings.seed).to_dict()}
    report["floor_png"] = str(save_floor_png(floor, out / "floor.png"))

    wms = wms_config(config.section("wms"), config.path.parent, str(config.path))
    planning_config = wms.planning
    if settings.orders is not None:
        profile = replace(planning_config.profile, orders=settings.orders)
        planning_config = replace(planning_config, profile=profile)
    book = planning.load_order_book(planning_config, None, settings.seed)
    model = planning.floor_model(floor)
    outcome = planning.slot_book(book, model, planning_config.slotting, seed=settings.seed)
    plan = planning.plan_book(book.orders, book.catalog, outcome, model, planning_config.picking)
    report["wms"] = {
        "orders": plan.orders,
        "lines": plan.lines,
        "skus": len(book.catalog),
        "expected_travel_per_line": round(outcome.slotting.expected_travel_per_line, 2),
        "baseline_random_travel_per_line": round(outcome.random_travel_per_line, 2),
        "waves": len(plan.waves),
        "batches": len(plan.batches),
        "travel": plan.travel,
        "baseline_single_order_sshape_travel": plan.baseline_single_order_sshape_travel,
        "baseline_batched_sshape_travel": plan.baseline_batched_sshape_travel,
        "lower_bound": plan.lower_bound,
    }

    ledger_path = out / "ledger.db"
    for stale in out.glob("ledger.db*"):
        stale.unlink()
    with Ledger.open(str(ledger_path)) as ledger:
        stock_for_plan(ledger, floor, book.catalog, plan)
        day = run_waves(ledger, plan, wms.replenishment)
    report["ledger"] = {"path": str(ledger_path), **day.to_dict()}

    bar = progress("robots", 0) if progress else None
    report["fleet"] = drive_trips(floor, plan, settings, bar)
    report["not_built_yet"] = list(NOT_BUILT_YET)
    (out / "report.json").write_text(json.dumps(report, indent=2))
    report["report_json"] = str(out / "report.json")
    return report
