"""``warehouse bench picking``: our plan vs the standard routing baselines; slotting vs random.

Measures one floor and one order set (a CSV or the seeded synthetic stream):
the wave plan with plain descent and with guided local search; from the same
run the single-order baselines (S-shape, best of S-shape / largest gap /
combined per order), the batched baselines (each heuristic on our batches)
and the lower bound on routing the chosen batches; the median planning time
over repeats; every slotting strategy against random slotting (over every
location and over the locations the slotting fills), and what velocity
slotting saves on the whole wave plan. `bench/picking.py` runs it on the
documented scenarios and writes docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from warehouse.cli.common import add_json, emit, int_in, positive_int, seed_int
from warehouse.config import load_config
from wms.orders import OrderBook
from wms.picking.bounds import EXACT_MAX_STOPS
from wms.picking.plan import Batch
from wms.planning import FloorModel, floor_model, load_order_book, plan_book, slot_book
from wms.planning_config import PlanningConfig
from wms.slotting import STRATEGIES


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "picking", help="batching + OR-Tools routes vs S-shape baselines and bound; slotting"
    )
    parser.add_argument("--config", metavar="F", help="TOML config (default: configs/default.toml)")
    parser.add_argument("--orders", metavar="CSV", help="orders CSV (default: synthetic stream)")
    parser.add_argument("--seed", type=seed_int, default=0)
    parser.add_argument("--count", type=int_in(1, 1_000_000), metavar="N", help="synthetic orders")
    parser.add_argument(
        "--gls-ms", type=int_in(0, 60_000), default=20, help="guided search per batch (ms)"
    )
    parser.add_argument("--repeats", type=positive_int, default=3, help="timing repeats")
    add_json(parser)
    parser.set_defaults(handler=run)


def load(config_path: str | Path | None, count: int | None) -> tuple[PlanningConfig, FloorModel]:
    app = load_config(config_path)
    config = app.wms.planning
    if count is not None:
        config = replace(config, profile=replace(config.profile, orders=count))
    return config, floor_model(app.floor)


def plan_figures(
    book: OrderBook, model: FloorModel, config: PlanningConfig, search_ms: int, repeats: int
) -> dict[str, Any]:
    """One plan with baselines and bound, and the median plan time over ``repeats``."""
    picking = replace(config.picking, route_time_limit_ms=search_ms)
    outcome = slot_book(book, model, config.slotting)
    full = plan_book(book.orders, book.catalog, outcome, model, picking, exceptions=book.exceptions)
    times = [full.seconds["plan"]]
    for _ in range(repeats - 1):
        again = plan_book(book.orders, book.catalog, outcome, model, picking, with_baselines=False)
        times.append(again.seconds["plan"])
    single = full.baseline_single_order_sshape_travel
    best_single = full.baseline_single_order_best_heuristic_travel
    batched = full.baseline_batched_best_heuristic_travel
    return {
        "route_search": f"GLS {search_ms} ms" if search_ms else "descent",
        "orders_in": full.orders_in,
        "orders": full.orders,
        "exceptions": len(full.exceptions),
        "exception_reasons": sorted({_reason_kind(e.reason) for e in full.exceptions}),
        "multi_tote_orders": len(full.multi_tote_orders),
        "lines": full.lines,
        "batches": len(full.batches),
        "travel": full.travel,
        "baseline_single_order_sshape_travel": single,
        "baseline_single_order_best_heuristic_travel": best_single,
        "baseline_single_order_routed_travel": full.baseline_single_order_routed_travel,
        "baseline_batched_sshape_travel": full.baseline_batched_sshape_travel,
        "baseline_batched_largest_gap_travel": full.baseline_batched_largest_gap_travel,
        "baseline_batched_combined_travel": full.baseline_batched_combined_travel,
        "baseline_batched_best_heuristic_travel": batched,
        "lower_bound": full.lower_bound,
        "ratio_to_single_order_sshape": full.travel / single,
        "ratio_to_single_order_best_heuristic": full.travel / best_single,
        "ratio_to_single_order_routed": full.travel / full.baseline_single_order_routed_travel,
        "ratio_to_batched_best_heuristic": full.travel / batched,
        "bound_to_batched_best_heuristic": full.lower_bound / batched,
        "batching_gain": batched / best_single,
        "routing_gain": full.travel / batched,
        "gap_to_lower_bound": full.travel / full.lower_bound - 1.0,
        "plan_seconds_median": statistics.median(times),
        "plan_seconds": times,
        "by_stops": by_stops(full.batches),
    }


STOP_BANDS = ((1, 4), (5, 8), (9, 12), (13, 20), (21, 10**9))
"""Batch sizes (pick stops per trip) the routing headroom is broken down by; up to 12
stops the bound is the exact shortest tour (Held–Karp), above it the 1-tree bound."""


def by_stops(batches: Sequence[Batch]) -> list[dict[str, Any]]:
    """Per band of stops per trip: batches, their travel by our routes, by the best of the
    three heuristics, and the lower bound on routing them — where routing has room."""
    rows = []
    for low, high in STOP_BANDS:
        band = [b for b in batches if low <= len(b.stops) <= high]
        if not band:
            continue
        best = sum(b.best_heuristic_travel for b in band)
        rows.append(
            {
                "stops": f"{low}+" if high >= 10**9 else f"{low}-{high}",
                "batches": len(band),
                "travel": sum(b.travel for b in band),
                "best_heuristic_travel": best,
                "lower_bound": sum(b.lower_bound for b in band),
                "bound_is_exact": high <= EXACT_MAX_STOPS,
            }
        )
    return rows


def _reason_kind(reason: str) -> str:
    """The reason without where it was found (``file:row: ``) nor which SKU, for grouping."""
    text = reason.split(": ", 1)[1] if reason.count(": ") >= 1 else reason
    for marker in (" SKU ", " '", " order "):
        if marker in text:
            text = text.split(marker, 1)[0]
    return text.strip()


def slotting_figures(book: OrderBook, model: FloorModel, config: PlanningConfig) -> dict[str, Any]:
    """Expected travel per line for every strategy, and the effect on a whole wave plan."""
    per_line: dict[str, float] = {}
    plan_travel: dict[str, int] = {}
    random_line = 0.0
    for strategy in STRATEGIES:
        outcome = slot_book(book, model, config.slotting, strategy)
        per_line[strategy] = outcome.slotting.expected_travel_per_line
        random_line = outcome.random_travel_per_line
        if strategy in ("velocity", "random"):
            plan = plan_book(
                book.orders, book.catalog, outcome, model, config.picking, with_baselines=False
            )
            plan_travel[strategy] = plan.travel
    velocity = slot_book(book, model, config.slotting, "velocity")
    same = velocity.random_same_locations_travel_per_line
    return {
        "skus": len(book.catalog),
        "locations": len(model.floor.locations),
        "baseline_random_travel_per_line": random_line,
        "baseline_random_same_locations_travel_per_line": same,
        "expected_travel_per_line": per_line,
        "saving_vs_random": 1.0 - per_line["velocity"] / random_line,
        "saving_vs_random_same_locations": 1.0 - per_line["velocity"] / same,
        "wave_travel_random_slotting": plan_travel["random"],
        "wave_travel_velocity_slotting": plan_travel["velocity"],
    }


def measure(
    config_path: str | Path | None,
    orders_csv: str | Path | None,
    seed: int = 0,
    count: int | None = None,
    gls_ms: int = 20,
    repeats: int = 3,
) -> dict[str, Any]:
    config, model = load(config_path, count)
    book = load_order_book(config, orders_csv, seed)
    searches = [0] if gls_ms <= 0 else [0, gls_ms]
    return {
        "floor": model.floor.name,
        "orders": book.summary(),
        "plans": [plan_figures(book, model, config, ms, repeats) for ms in searches],
        "batching": batching_figures(book, model, config),
        "slotting": slotting_figures(book, model, config),
    }


def batching_figures(book: OrderBook, model: FloorModel, config: PlanningConfig) -> dict[str, Any]:
    """Routed travel with seed-and-closest alone vs with the exchange improvement (descent)."""
    outcome = slot_book(book, model, config.slotting)
    travel = {}
    for name, rounds in (("construction_only", 0), ("with_exchanges", None)):
        picking = replace(config.picking, route_time_limit_ms=0)
        if rounds is not None:
            picking = replace(picking, batch_improve_rounds=rounds)
        plan = plan_book(book.orders, book.catalog, outcome, model, picking, with_baselines=False)
        travel[name] = {"travel": plan.travel, "batching_seconds": plan.seconds["batching"]}
    return travel


def describe(result: dict[str, Any]) -> str:
    lines = [
        f"{result['floor']}: {result['orders']['orders']} orders ({result['orders']['format']})"
    ]
    for p in result["plans"]:
        lines.append(
            f"  {p['route_search']:<12} travel {p['travel']} = "
            f"{p['ratio_to_single_order_sshape']:.3f} x single-order S-shape, "
            f"{p['ratio_to_batched_best_heuristic']:.3f} x the best heuristic on our batches, "
            f"{100 * p['gap_to_lower_bound']:.2f} % above a lower bound on routing the chosen "
            "batches, "
            f"planned in {p['plan_seconds_median']:.2f} s (median)"
        )
    s = result["slotting"]
    lines.append(
        f"  slotting: {s['expected_travel_per_line']['velocity']:.2f} cells/line vs "
        f"{s['baseline_random_travel_per_line']:.2f} random "
        f"({100 * s['saving_vs_random']:.1f}% less)"
    )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    result = measure(args.config, args.orders, args.seed, args.count, args.gls_ms, args.repeats)
    emit(result, args.json, describe)
    return 0
