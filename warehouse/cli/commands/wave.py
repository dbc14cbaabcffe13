"""``warehouse wave``: orders into waves, batches and OR-Tools pick routes, with baselines."""

from __future__ import annotations

import argparse
from typing import Any

from warehouse.cli.common import emit
from warehouse.cli.planning import add_planning_options, load_inputs, tqdm_progress
from warehouse.config import load_config
from wms.config import wms_config
from wms.ledger import Ledger
from wms.picking import Batch, route_path
from wms.planning import as_cells, plan_book, slot_book
from wms.release import release_plan


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "wave", help="plan waves, batches and pick routes; compare with S-shape baselines"
    )
    add_planning_options(parser)
    parser.add_argument(
        "--paths", action="store_true", help="include every cell walked for each batch"
    )
    parser.add_argument(
        "--release",
        metavar="DB",
        help="release the waves into the ledger at DB (sqlite:///path or a path): "
        "replenishment is triggered and picks reserved; a new DB is stocked for the plan",
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


def run_wave(args: argparse.Namespace) -> int:
    inputs = load_inputs(args)
    outcome = slot_book(inputs.book, inputs.model, inputs.config.slotting, seed=args.seed)
    plan = plan_book(
        inputs.book.orders,
        inputs.book.catalog,
        outcome,
        inputs.model,
        inputs.config.picking,
        tqdm_progress(not args.json),
    )
    tables = inputs.model.travel.tables

    def batch_dict(batch: Batch) -> dict[str, Any]:
        item: dict[str, Any] = {
            "batch_id": batch.batch_id,
            "orders": list(batch.orders),
            "station": batch.station,
            "route": as_cells(batch.route),
            "travel": batch.travel,
            "sshape_travel": batch.sshape_travel,
            "lower_bound": batch.lower_bound,
            "weight_kg": batch.weight_kg,
            "volume_l": batch.volume_l,
            "picks": [
                {
                    "order": p.order_id,
                    "sku": p.sku,
                    "qty": p.qty,
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
    result = {
        "floor": inputs.model.floor.name,
        "orders": inputs.book.summary(),
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
        "baseline_batched_sshape_travel": plan.baseline_batched_sshape_travel,
        "lower_bound": plan.lower_bound,
        "ratio_to_single_order_sshape": round(plan.travel / single, 4) if single else None,
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
            f"{r['orders']['orders']} orders ({r['orders']['lines']} lines, "
            f"{r['orders']['format']}) -> {len(r['waves'])} waves, {r['batch_count']} batches",
            f"  travel               {r['travel']:>9} cells (OR-Tools routes on our batches)",
            f"  batched S-shape      {r['baseline_batched_sshape_travel']:>9} cells",
            f"  single-order S-shape {r['baseline_single_order_sshape_travel']:>9} cells "
            f"(ratio {r['ratio_to_single_order_sshape']})",
            f"  lower bound          {r['lower_bound']:>9} cells "
            f"(gap {100 * r['gap_to_lower_bound']:.2f}%)",
            f"  planned in {r['seconds']['plan']:.2f} s",
        ]
        for w in r["waves"][:10]:
            lines.append(
                f"  {w['wave_id']} due {w['due']} {w['priority']:<9} {len(w['batches'])} batches"
            )
        if len(r["waves"]) > 10:
            lines.append(f"  ... {len(r['waves']) - 10} more waves (--json for all)")
        if r["orders"]["catalog_synthetic"] and args.orders:
            lines.append(f"  note: {r['orders']['catalog_note']}")
        return "\n".join(lines)

    if args.release:
        app = load_config(args.config)
        wms = wms_config(app.section("wms"), app.path.parent, str(app.path))
        result["release"] = release_into_ledger(args.release, inputs, plan, wms.replenishment)

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
