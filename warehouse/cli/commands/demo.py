"""``warehouse demo``: the main job on the embedded default config."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from warehouse.cli.commands.floor import describe
from warehouse.cli.common import add_json, emit
from warehouse.config import load_config
from wms.layout import summarise

NOT_BUILT_YET = ("simulated robots over the bus and the supervisor viewer (simulator issue)",)


def register(subparsers: Any) -> None:
    demo = subparsers.add_parser("demo", help="run the demo on the embedded default floor")
    demo.add_argument("--config", metavar="F", help="TOML config (default: configs/default.toml)")
    demo.add_argument("--out", default="runs/demo", metavar="DIR", help="where files are written")
    demo.add_argument("--seed", type=int, default=0)
    add_json(demo)
    demo.set_defaults(handler=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    from sim.viewer.floor_render import save_floor_png

    config = load_config(args.config)
    floor = config.floor
    out = Path(args.out)
    png = save_floor_png(floor, out / "floor.png")
    result: dict[str, Any] = {
        "floor": summarise(floor, seed=args.seed).to_dict(),
        "floor_png": str(png),
        "not_built_yet": list(NOT_BUILT_YET),
    }

    def human(r: dict[str, Any]) -> str:
        lines = [describe(r["floor"]), f"floor picture: {r['floor_png']}"]
        lines += ["not built yet:"] + [f"  - {part}" for part in r["not_built_yet"]]
        return "\n".join(lines)

    emit(result, args.json, human)
    return 0
