"""``warehouse slot``: where each SKU should live, and how much travel that saves."""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from warehouse.cli.common import emit
from warehouse.cli.planning import add_planning_options, load_inputs
from wms.planning import slot_book
from wms.slotting import STRATEGIES, read_slotting_csv, reslot_moves, slot
from wms.slotting.assign import Slotting


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "slot", help="slot SKUs by velocity, affinity and golden zone; compare with random"
    )
    add_planning_options(parser)
    parser.add_argument("--strategy", choices=STRATEGIES, default="velocity")
    parser.add_argument(
        "--current",
        metavar="CSV",
        help="current slotting (sku,location) to plan re-slotting moves from "
        "(default: a seeded random slotting)",
    )
    parser.set_defaults(handler=run_slot)


def run_slot(args: argparse.Namespace) -> int:
    inputs = load_inputs(args)
    params = inputs.config.slotting
    outcome = slot_book(inputs.book, inputs.model, params, args.strategy, args.seed)
    travel = inputs.model.travel
    demand, chosen = outcome.demand, outcome.slotting
    compared: dict[str, Slotting] = {
        s: chosen
        if s == args.strategy
        else slot(inputs.book.catalog, demand, travel, params, s, args.seed)
        for s in STRATEGIES
    }
    if args.current:
        current = read_slotting_csv(args.current, demand.skus, travel)
        current_name = args.current
    else:
        current = compared["random"].sku_location
        current_name = f"random slotting (seed {args.seed})"
    moves = reslot_moves(current, chosen.sku_location, demand, travel, params)
    random_line = outcome.random_travel_per_line
    same = outcome.random_same_locations_travel_per_line
    classes = {c: chosen.abc.count(c) for c in "ABC"}
    result = {
        "floor": inputs.model.floor.name,
        "orders": inputs.book.summary(),
        "strategy": args.strategy,
        "assignments": chosen.assignments(demand, travel),
        "expected_travel_per_line": round(chosen.expected_travel_per_line, 3),
        "baseline_random_travel_per_line": round(random_line, 3),
        "saving_vs_random": round(1.0 - chosen.expected_travel_per_line / random_line, 4),
        "baseline_random_same_locations_travel_per_line": round(same, 3),
        "saving_vs_random_same_locations": (
            round(1.0 - chosen.expected_travel_per_line / same, 4) if same else None
        ),
        "travel_unit": f"cells of {inputs.model.floor.cell_size_m:g} m (round trip per line)",
        "strategies": {
            name: {
                "expected_travel_per_line": round(s.expected_travel_per_line, 3),
                "affinity_distance": round(s.affinity_distance, 3),
            }
            for name, s in compared.items()
        },
        "abc_classes": classes,
        "forward_skus": int(chosen.forward.sum()),
        "reserve_skus": int((~chosen.forward).sum()),
        "reslotting": {"from": current_name, "moves": [m.to_dict() for m in moves]},
        "skus": {
            sku: {
                "location": travel.location_ids[int(chosen.sku_location[i])],
                "lines": int(demand.lines[i]),
                "abc": chosen.abc[i],
                "cube_per_order_l": (
                    round(float(chosen.coi[i]), 4) if np.isfinite(chosen.coi[i]) else None
                ),
                "area": "forward" if chosen.forward[i] else "reserve",
            }
            for i, sku in enumerate(demand.skus)
        },
    }

    def human(r: dict[str, Any]) -> str:
        lines = [
            f"slotted {len(r['assignments'])} SKUs on {r['floor']} ({r['strategy']}): "
            f"{r['expected_travel_per_line']:.2f} cells per line vs "
            f"{r['baseline_random_travel_per_line']:.2f} random "
            f"({100 * r['saving_vs_random']:.1f}% less; "
            f"{r['baseline_random_same_locations_travel_per_line']:.2f} random over the same "
            "locations)",
            f"  orders: {r['orders']['orders']} ({r['orders']['format']}), "
            f"ABC {classes['A']}/{classes['B']}/{classes['C']}, "
            f"forward {r['forward_skus']}, reserve {r['reserve_skus']}",
        ]
        for name, s in r["strategies"].items():
            lines.append(
                f"  {name:<9} {s['expected_travel_per_line']:8.2f} cells/line, "
                f"co-picked SKUs {s['affinity_distance']:.1f} cells apart"
            )
        lines.append(f"  re-slotting from {r['reslotting']['from']}: top moves")
        for m in r["reslotting"]["moves"][:10]:
            lines.append(f"    {m['sku']:<10} {m['from']} -> {m['to']}  net {m['net']:.0f}")
        if inputs.book.catalog.synthetic and args.orders:
            lines.append(f"  note: {inputs.book.catalog.note}")
        return "\n".join(lines)

    emit(result, args.json, human)
    return 0
