"""``warehouse wave``: orders into waves, batches and OR-Tools pick routes, with baselines.

Every order given is either planned or in ``exceptions`` with its reason
(``orders_planned + len(exceptions) == orders_in``). With ``--release`` into
a ledger that already holds stock (the default demo ledger, say), the plan
picks from the ledger's forward faces, and an order the ledger's stock
cannot cover is an exception ("no stock at release") before planning.
"""

from __future__ import annotations

import argparse
from typing import Any

from warehouse.cli.common import emit
from warehouse.cli.ledger_db import cli_ledger_url
from warehouse.cli.planning import add_planning_options, load_inputs, tqdm_progress
from warehouse.config import load_config
from wms.ledger import Ledger, parse_url
from wms.picking import Batch, WavePlan, route_path
from wms.planning import SlottingOutcome, as_cells, plan_book, slot_book
from wms.release import ledger_slotting, release_plan, stock_exceptions


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "wave",
        help="plan waves, batches and pick routes; compare with the standard routing baselines",
    )
    add_planning_options(parser)
    parser.add_argument(
        "--paths", action="store_true", help="include every cell walked for each batch"
    )
    parser.add_argument(
        "--release",
        metavar="DB",
        nargs="?",
        const="",
        help="release the waves into the ledger at DB (sqlite:///path or a path; without DB "
        "the default ledger): replenishment is triggered and picks reserved; a new DB is "
        "stocked for the plan, an existing one is planned against its forward faces and stock",
    )
    parser.set_defaults(handler=run_wave)


def release_into_ledger(url: str, inputs: Any, plan: Any, replenishment: Any) -> dict[str, Any]:
    with Ledger.open(url) as ledger:
        releases = release_plan(
            ledger, inputs.model.floor, inputs.book.catalog, plan, replenishment
        )
        balanced = ledger.balance_check().ok
    return {
        "db": url,
        "waves": [
            {
                "wave_id": r.wave_id,
                "reserved_lines": len(r.reservations),
                "waiting_for_topup_lines": len(r.waiting_picks),
                "replenishment": [t.to_dict() for t in r.replenishment.tasks],
            }
            for r in releases
        ],
        "balanced": balanced,
    }


def _release_url(args: argparse.Namespace) -> str | None:
    if args.release is None:
        return None
    return args.release or cli_ledger_url(None, args.config)


def _stocked_skus(url: str | None) -> list[str] | None:
    """The SKUs of an existing, stocked ledger the plan is released into (None otherwise)."""
    if url is None or not parse_url(url).exists():
        return None
    with Ledger.open(url, must_exist=True) as ledger:
        return [record.sku for record in ledger.skus()] or None


def plan_for_release(args: argparse.Namespace) -> tuple[Any, SlottingOutcome, WavePlan]:
    """Inputs, slotting and plan; against the ledger's faces and stock when it has some."""
    url = _release_url(args)
    ledger_skus = _stocked_skus(url)
    inputs = load_inputs(args, ledger_skus if not args.orders else None)
    outcome = slot_book(inputs.book, inputs.model, inputs.config.slotting, seed=args.seed)
    orders = inputs.book.orders
    exceptions = inputs.book.exceptions
    if ledger_skus is not None:
        assert url is not None
        with Ledger.open(url, must_exist=True) as ledger:
            outcome = ledger_slotting(ledger, outcome, inputs.model.travel)
            orders, refused = stock_exceptions(ledger, orders)
        exceptions = (*exceptions, *refused)
    plan = plan_book(
        orders,
        inputs.book.catalog,
        outcome,
        inputs.model,
        inputs.config.picking,
        tqdm_progress(not args.json),
        exceptions=exceptions,
    )
    return inputs, outcome, plan


def run_wave(args: argparse.Namespace) -> int:
    inputs, outcome, plan = plan_for_release(args)
    tables = inputs.model.travel.tables

    def batch_dict(batch: Batch) -> dict[str, Any]:
        item: dict[str, Any] = {
            "batch_id": batch.batch_id,
            "orders": list(batch.orders),
            "station": batch.station,
            "totes": list(batch.totes),
            "route": as_cells(batch.route),
            "travel": batch.travel,
            "sshape_travel": batch.sshape_travel,
            "largest_gap_travel": batch.largest_gap_travel,
            "combined_travel": batch.combined_travel,
            "lower_bound": batch.lower_bound,
            "weight_kg": batch.weight_kg,
            "volume_l": batch.volume_l,
            "picks": [
                {
                    "order": p.order_id,
                    "sku": p.sku,
                    "qty": p.qty,
                    "tote": p.tote,
                    "location": p.location_id,
                    "cell": [*p.cell],
                }
                for p in batch.picks
            ],
        }
        if args.paths:
            item["path"] = as_cells(route_path(tables, batch.route))
        return item

    single = plan.baseline_single_order_sshape_travel
    best_batched = plan.baseline_batched_best_heuristic_travel
    result = {
        "floor": inputs.model.floor.name,
        "orders": inputs.book.summary(),
        "orders_in": plan.orders_in,
        "orders_planned": plan.orders,
        "exceptions": [e.to_dict() for e in plan.exceptions],
        "multi_tote_orders": list(plan.multi_tote_orders),
        "waves": [
            {
                "wave_id": w.wave_id,
                "due": w.due,
                "priority": w.priority,
                "batches": [batch_dict(b) for b in w.batches],
            }
            for w in plan.waves
        ],
        "travel": plan.travel,
        "baseline_single_order_sshape_travel": single,
        "baseline_single_order_best_heuristic_travel": (
            plan.baseline_single_order_best_heuristic_travel
        ),
        "baseline_single_order_routed_travel": plan.baseline_single_order_routed_travel,
        "baseline_batched_sshape_travel": plan.baseline_batched_sshape_travel,
        "baseline_batched_largest_gap_travel": plan.baseline_batched_largest_gap_travel,
        "baseline_batched_combined_travel": plan.baseline_batched_combined_travel,
        "baseline_batched_best_heuristic_travel": best_batched,
        "lower_bound": plan.lower_bound,
        "lower_bound_covers": "routing the chosen batches",
        "ratio_to_single_order_sshape": round(plan.travel / single, 4) if single else None,
        "ratio_to_batched_best_heuristic": (
            round(plan.travel / best_batched, 4) if best_batched else None
        ),
        "gap_to_lower_bound": (
            round(plan.travel / plan.lower_bound - 1.0, 4) if plan.lower_bound else 0.0
        ),
        "batch_count": len(plan.batches),
        "slotting": {
            "strategy": outcome.slotting.strategy,
            "expected_travel_per_line": round(outcome.slotting.expected_travel_per_line, 3),
            "baseline_random_travel_per_line": round(outcome.random_travel_per_line, 3),
        },
        "seconds": dict(plan.seconds),
        "travel_unit": f"cells of {inputs.model.floor.cell_size_m:g} m",
    }

    def human(r: dict[str, Any]) -> str:
        lines = [
            f"{r['orders_in']} orders in: {r['orders_planned']} planned "
            f"({len(r['multi_tote_orders'])} over several totes), "
            f"{len(r['exceptions'])} exceptions; {r['orders']['format']} -> "
            f"{len(r['waves'])} waves, {r['batch_count']} batches",
            f"  travel                   {r['travel']:>9} cells "
            "(our batches; routes exact up to 12 stops, OR-Tools above)",
            f"  batched, best heuristic  {r['baseline_batched_best_heuristic_travel']:>9} cells "
            f"(ratio {r['ratio_to_batched_best_heuristic']}; S-shape "
            f"{r['baseline_batched_sshape_travel']}, largest gap "
            f"{r['baseline_batched_largest_gap_travel']}, combined "
            f"{r['baseline_batched_combined_travel']})",
            f"  single-order S-shape     {r['baseline_single_order_sshape_travel']:>9} cells "
            f"(ratio {r['ratio_to_single_order_sshape']}; best heuristic "
            f"{r['baseline_single_order_best_heuristic_travel']}, routed like ours "
            f"{r['baseline_single_order_routed_travel']})",
            f"  {100 * r['gap_to_lower_bound']:.2f} % above a lower bound on routing the chosen "
            f"batches ({r['lower_bound']} cells)",
            f"  planned in {r['seconds']['plan']:.2f} s",
        ]
        for e in r["exceptions"][:10]:
            lines.append(f"  exception {e['order']}: {e['reason']}")
        if len(r["exceptions"]) > 10:
            lines.append(f"  ... {len(r['exceptions']) - 10} more exceptions (--json for all)")
        for w in r["waves"][:10]:
            lines.append(
                f"  {w['wave_id']} due {w['due']} {w['priority']:<9} {len(w['batches'])} batches"
            )
        if len(r["waves"]) > 10:
            lines.append(f"  ... {len(r['waves']) - 10} more waves (--json for all)")
        if r["orders"]["catalog_synthetic"] and args.orders:
            lines.append(f"  note: {r['orders']['catalog_note']}")
        return "\n".join(lines)

    url = _release_url(args)
    if url is not None:
        app = load_config(args.config)
        wms = app.wms
        result["release"] = release_into_ledger(url, inputs, plan, wms.replenishment)

    def human_with_release(r: dict[str, Any]) -> str:
        text = human(r)
        if "release" in r:
            rel = r["release"]
            tasks = sum(len(w["replenishment"]) for w in rel["waves"])
            reserved = sum(w["reserved_lines"] for w in rel["waves"])
            waiting = sum(w["waiting_for_topup_lines"] for w in rel["waves"])
            text += (
                f"\nreleased into {rel['db']}: {reserved} lines reserved, {waiting} waiting "
                f"for {tasks} replenishment top-ups now in transit; balanced: {rel['balanced']}"
            )
        return text

    emit(result, args.json, human_with_release)
    return 0
