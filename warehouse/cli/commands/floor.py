"""``warehouse floor info | generate | render``."""

from __future__ import annotations

import argparse
import json
from dataclasses import fields
from pathlib import Path
from typing import Any

from warehouse.cli.common import (
    add_floor_source,
    add_json,
    emit,
    int_in,
    load_floor,
    output_file,
    positive_int,
    seed_int,
)
from wms.errors import InputError
from wms.layout import Floor, LayoutParams, PointKind, generate_layout, summarise, write_map

MAX_SCALE = 64
MAX_PICTURE_SIDE = 16_384
"""Pixels a side of a rendered floor: beyond this pygame runs out of memory."""


def register(subparsers: Any) -> None:
    floor = subparsers.add_parser("floor", help="inspect, generate and render floors")
    actions = floor.add_subparsers(dest="floor_command", metavar="ACTION", required=True)

    info = actions.add_parser("info", help="size, free cells, locations, points, zones, distances")
    add_floor_source(info)
    add_json(info)
    info.add_argument("--samples", type=positive_int, default=256, help="distance sources")
    info.add_argument("--seed", type=seed_int, default=0, help="seed for the distance sample")
    info.set_defaults(handler=run_info)

    generate = actions.add_parser("generate", help="write a generated layout as a .map")
    for item in fields(LayoutParams):
        generate.add_argument(
            f"--{item.name.replace('_', '-')}",
            type=int,
            default=item.default,
            help=f"(default {item.default})",
        )
    generate.add_argument("--name", default="generated")
    generate.add_argument("--out", required=True, metavar="F.map")
    generate.add_argument(
        "--config-out", metavar="F.toml", help="also write a config naming the map and its points"
    )
    add_json(generate)
    generate.set_defaults(handler=run_generate)

    render = actions.add_parser("render", help="draw the floor to a PNG (headless)")
    add_floor_source(render)
    render.add_argument("--out", required=True, metavar="F.png")
    render.add_argument("--scale", type=int_in(1, MAX_SCALE), help="pixels per cell")
    render.set_defaults(handler=run_render)


def describe(summary: dict[str, Any]) -> str:
    lines = [
        f"floor {summary['name']}: {summary['width']} x {summary['height']} cells "
        f"of {summary['cell_size_m']:g} m",
        f"  free cells      {summary['free_cells']}",
        f"  locations       {summary['locations']}",
        f"  stations        {summary['stations']}",
        f"  chargers        {summary['chargers']}",
        f"  docks           {summary['docks']}",
        f"  mean distance   {summary['mean_distance']:.2f} cells "
        f"(shortest path, {summary['distance_samples']} sources)",
    ]
    zones = summary["zones"]
    if zones:
        lines.append("  zones")
        for name, zone in zones.items():
            lines.append(f"    {name:<14} {zone['kind']:<12} {zone['cells']} cells")
    return "\n".join(lines)


def run_info(args: argparse.Namespace) -> int:
    floor = load_floor(args)
    emit(summarise(floor, samples=args.samples, seed=args.seed).to_dict(), args.json, describe)
    return 0


def run_generate(args: argparse.Namespace) -> int:
    params = LayoutParams(**{f.name: getattr(args, f.name) for f in fields(LayoutParams)})
    params.validate()
    out = output_file(args.out, "--out")
    config_out = output_file(args.config_out, "--config-out") if args.config_out else None
    floor = generate_layout(params, args.name)
    write_map(floor.terrain, out)
    if config_out is not None:
        write_points_config(floor, out, config_out)
    result = {
        "map": str(out),
        "width": floor.width,
        "height": floor.height,
        "locations": len(floor.locations),
        "points": {p.point_id: [*p.cell] for p in floor.points},
    }
    emit(
        result,
        args.json,
        lambda r: f"wrote {r['map']} ({r['width']} x {r['height']}, {r['locations']} locations)",
    )
    return 0


def write_points_config(floor: Floor, map_path: Path, config_path: Path) -> None:
    """A config naming the written map and its stations, chargers and docks.

    Its synthetic catalogue is sized to the floor (`fitting_sku_count`), so
    ``warehouse slot`` and ``wave`` run on it as they do on the default.
    """
    from wms.planning import fitting_sku_count

    def cells(kind: PointKind) -> str:
        return (
            "[" + ", ".join(f"[{r}, {c}]" for r, c in (p.cell for p in floor.points_of(kind))) + "]"
        )

    relative = Path(map_path).resolve()
    config_path.parent.mkdir(parents=True, exist_ok=True)
    config_path.write_text(
        f"[floor]\nname = {toml_string(floor.name)}\ncell_size_m = {floor.cell_size_m}\n\n"
        f'[floor.map]\nfile = {toml_string(str(relative))}\nrack_terrain = "T"\n'
        f"stations = {cells(PointKind.STATION)}\n"
        f"chargers = {cells(PointKind.CHARGER)}\n"
        f"docks = {cells(PointKind.DOCK)}\n\n"
        f"[wms.orders]\nskus = {fitting_sku_count(floor)}\n",
        encoding="utf-8",
    )


def toml_string(text: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's; TOML also forbids a raw DEL."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def run_render(args: argparse.Namespace) -> int:
    from sim.viewer.floor_render import save_floor_png

    out = output_file(args.out, "--out")
    floor = load_floor(args)
    if args.scale is not None and args.scale * max(floor.width, floor.height) > MAX_PICTURE_SIDE:
        raise InputError(
            "--scale",
            f"{args.scale} pixels a cell make a {floor.width} x {floor.height} floor wider "
            f"than {MAX_PICTURE_SIDE} pixels",
        )
    path = save_floor_png(floor, out, args.scale)
    print(f"wrote {path} ({floor.width} x {floor.height} cells)")
    return 0
