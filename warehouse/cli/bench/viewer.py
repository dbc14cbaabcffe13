"""``warehouse bench viewer``: frames per second drawing a synthetic fleet, headless."""

from __future__ import annotations

import argparse
from typing import Any

from warehouse.cli.common import add_floor_source, add_json, emit, int_in, load_floor, seed_int

MAX_ROBOTS = 100_000


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "viewer", help="viewer frames per second with N synthetic robots (headless)"
    )
    add_floor_source(parser)
    parser.add_argument("--robots", type=int_in(1, MAX_ROBOTS), default=500)
    parser.add_argument("--frames", type=int_in(1, 10_000), default=60, help="frames timed")
    parser.add_argument("--scale", type=int_in(2, 32), help="pixels a cell (default: fit)")
    parser.add_argument("--seed", type=seed_int, default=0)
    add_json(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from sim.viewer.bench import ViewerBenchParams, run_bench

    floor = load_floor(args)
    params = ViewerBenchParams(args.robots, args.frames, args.scale, args.seed)
    emit(
        run_bench(floor, params),
        args.json,
        lambda r: (
            f"{r['floor']} ({r['cells']} cells, {r['frame_px']} px at {r['scale']} px/cell), "
            f"{r['robots']} robots: {r['fps']} frames/s ({r['frame_ms_p50']} ms a frame, "
            f"median of {r['frames']}; drawing alone {r['fps_draw_only']} frames/s)"
        ),
    )
    return 0
