"""Picking and slotting benchmark: one command, every figure in docs/benchmarks.md.

    .venv/bin/python bench/picking.py            # print the section
    .venv/bin/python bench/picking.py --write    # and replace it in docs/benchmarks.md

Scenarios: the default floor with the seeded synthetic stream (2,000 orders,
and 10,000 orders for the planning-time target), and the UCI Online Retail
10,000-line sample on the larger `configs/retail.toml` floor (read from
../shared/datasets; skipped with a message when absent). Each scenario is
`warehouse bench picking` (`warehouse.cli.bench.picking.measure`): the plan
against the single-order and batched S-shape baselines and the lower bound,
and slotting against random slotting, all in the same run.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.sections import write_section  # noqa: E402
from warehouse.cli.bench.picking import measure  # noqa: E402

SHARED = Path(os.environ.get("WAREHOUSE_SHARED", REPO.parent / "shared"))
RETAIL_CSV = SHARED / "datasets" / "online_retail_uci_first10k.csv"
HEADING = "## Picking and slotting"


def plan_rows(name: str, result: dict[str, Any]) -> list[str]:
    rows = []
    for p in result["plans"]:
        rows.append(
            f"| {name} | {p['route_search']} | {p['orders']:,} | {p['lines']:,} "
            f"| {p['batches']:,} | {p['baseline_single_order_sshape_travel']:,} "
            f"| {p['baseline_batched_sshape_travel']:,} | {p['travel']:,} | {p['lower_bound']:,} "
            f"| **{p['ratio_to_single_order_sshape']:.3f}** | {p['batching_gain']:.3f} "
            f"| {p['routing_gain']:.3f} | **{100 * p['gap_to_lower_bound']:.2f}%** "
            f"| {p['plan_seconds_median']:.2f} s |"
        )
    return rows


def slot_row(name: str, result: dict[str, Any]) -> str:
    s = result["slotting"]
    per_line = s["expected_travel_per_line"]
    return (
        f"| {name} | {s['skus']:,} | {s['locations']:,} "
        f"| {s['baseline_random_travel_per_line']:.2f} | {per_line['velocity']:.2f} "
        f"| {per_line['abc']:.2f} | {per_line['coi']:.2f} | {per_line['random']:.2f} "
        f"| **{100 * s['saving_vs_random']:.1f}%** |"
    )


def batching_row(name: str, result: dict[str, Any]) -> str:
    b = result["batching"]
    only, better = b["construction_only"], b["with_exchanges"]
    return (
        f"| {name} | {only['travel']:,} | {better['travel']:,} "
        f"| {100 * (1 - better['travel'] / only['travel']):.1f}% "
        f"| {only['batching_seconds']:.2f} s | {better['batching_seconds']:.2f} s |"
    )


def effect_row(name: str, result: dict[str, Any]) -> str:
    s = result["slotting"]
    before, after = s["wave_travel_random_slotting"], s["wave_travel_velocity_slotting"]
    return f"| {name} | {before:,} | {after:,} | {100 * (1 - after / before):.1f}% |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    parser.add_argument("--repeats", type=int, default=3, help="timing repeats (median)")
    parser.add_argument("--gls-ms", type=int, default=20, help="guided local search per batch")
    args = parser.parse_args()
    started = time.perf_counter()
    default = REPO / "configs" / "default.toml"
    scenarios: list[tuple[str, dict[str, Any]]] = [
        (
            "default floor, synthetic 2,000 orders",
            measure(default, None, gls_ms=args.gls_ms, repeats=args.repeats),
        ),
        (
            "default floor, synthetic 10,000 orders",
            measure(default, None, count=10_000, gls_ms=args.gls_ms, repeats=args.repeats),
        ),
    ]
    notes = [
        "Synthetic stream: seed 0; 400 SKUs; see docs/wms.md for its shape. The 10,000-order "
        "GLS row shares the 10 s guided-search budget of configs/default.toml across its batches "
        "(`route_time_budget_s`).",
    ]
    if RETAIL_CSV.is_file():
        retail = measure(
            REPO / "configs" / "retail.toml",
            RETAIL_CSV,
            gls_ms=max(args.gls_ms, 100),
            repeats=args.repeats,
        )
        scenarios.append(("retail floor, UCI Online Retail 10k lines", retail))
        summary = retail["orders"]
        notes.append(
            f"UCI sample: {summary['orders']} invoices, {summary['lines']:,} distinct invoice "
            f"lines, {summary['skus']:,} SKUs, {summary['skipped_cancelled']} cancelled and "
            f"{summary['skipped_non_positive_qty']} non-positive rows skipped; "
            f"{summary['catalog_note']}. Floor `configs/retail.toml` (2,304 locations): the "
            "default floor's 576 cannot hold 1,822 SKUs."
        )
    else:
        notes.append(f"UCI sample not found at {RETAIL_CSV}: retail rows skipped.")
        print(f"skipping the retail scenario: {RETAIL_CSV} not found", file=sys.stderr)

    text = "\n".join(
        [
            HEADING,
            "",
            f"`.venv/bin/python bench/picking.py --write` (machine: {os.cpu_count()} cores, "
            "noisy: other engineers were building in parallel; "
            f"Python {platform.python_version()}; whole run "
            f"{time.perf_counter() - started:.0f} s).",
            "",
            "Travel is in cells of true shortest-path walking distance, every trip starting and "
            "ending at a pick station. *Single S* = one order per trip in arrival order, S-shape "
            "route; *batched S* = our batches, S-shape routes; *ours* = our batches, OR-Tools "
            "routes; *bound* = sum over our batches of a proven lower bound on each closed tour "
            "(Held–Karp DP, exact, up to 12 stops; Held–Karp 1-tree bound above). Batching gain "
            "= batched S / single S, routing gain = ours / batched S. Plan time = waves + "
            f"batches + routes, median of {args.repeats} runs; baselines and bound excluded. "
            "Targets: ours ≤ 0.6 × single S, within 5 % of the bound, 10,000 orders ≤ 30 s.",
            "",
            "| scenario | route search | orders | lines | batches | single S | batched S | ours "
            "| bound | ours / single S | batching gain | routing gain | over bound | plan time |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
            *[row for name, result in scenarios for row in plan_rows(name, result)],
            "",
            "Batching: routed travel (descent) with seed-and-closest construction only, and "
            "with the exchange improvement between nearby batches:",
            "",
            "| scenario | construction only | with exchanges | saving | batching time, "
            "construction | batching time, with exchanges |",
            "|---|---|---|---|---|---|",
            *[batching_row(name, result) for name, result in scenarios],
            "",
            "Slotting: expected travel per order line (round trip from the nearest station, "
            "cells) by strategy, against the exact expectation under random slotting. "
            "Target: ≥ 25 % less than random.",
            "",
            "| scenario | SKUs | locations | random (exact) | velocity + affinity | ABC classes "
            "| COI | random (seeded) | saving vs random |",
            "|---|---|---|---|---|---|---|---|---|",
            *[slot_row(name, result) for name, result in scenarios],
            "",
            "What slotting does to the whole wave plan (same batching and routing, route "
            "search as configured):",
            "",
            "| scenario | travel, random slotting | travel, velocity slotting | saving |",
            "|---|---|---|---|",
            *[effect_row(name, result) for name, result in scenarios],
            "",
            *[f"- {note}" for note in notes],
            "",
        ]
    )
    print(text)
    if args.write:
        write_section(REPO / "docs" / "benchmarks.md", HEADING, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
