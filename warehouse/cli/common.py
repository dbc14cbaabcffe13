"""Options and output helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from warehouse.config import DEFAULT_CONFIG, load_config
from wms.layout import Floor, floor_from_map_file


def add_floor_source(parser: argparse.ArgumentParser) -> None:
    """``--config F`` or ``--map F`` (the default config when neither is given)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--config", metavar="F", help=f"TOML config (default: {DEFAULT_CONFIG.name})"
    )
    group.add_argument("--map", metavar="F", help="MovingAI .map file (no stations or zones)")


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def load_floor(args: argparse.Namespace) -> Floor:
    if getattr(args, "map", None):
        return floor_from_map_file(args.map)
    return load_config(getattr(args, "config", None)).floor


def emit(result: dict[str, Any], as_json: bool, human: Callable[[dict[str, Any]], str]) -> None:
    if as_json:
        json.dump(result, sys.stdout, indent=2, sort_keys=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(human(result).rstrip("\n") + "\n")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} must be positive")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{value} must be a positive finite number")
    return value
