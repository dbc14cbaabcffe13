"""Options and output helpers shared by the subcommands."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from warehouse.config import DEFAULT_CONFIG, load_config
from wms.errors import InputError
from wms.layout import Floor, floor_from_map_file


def sim_robot_serial(index: int) -> str:
    """The serialNumber of the ``index``-th robot `warehouse sim` runs (manufacturer ``sim``);
    `warehouse keys generate --robots N` makes keys for exactly these, so the two match."""
    return f"r{index:03d}"


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


def int_in(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number in ``low..high`` (no upper bound when ``high`` is None).

    Upper bounds keep a typo (an extra zero or two) from turning into an
    hour-long run or an exhausted resource instead of an error.
    """

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if high is None and value < low:
            raise argparse.ArgumentTypeError(f"{value} must be at least {low}")
        if high is not None and not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is outside {low}..{high}")
        return value

    return parse


def float_in(low: float, high: float) -> Callable[[str], float]:
    """An argparse type: a finite number in ``low..high`` (``nan``/``inf`` are refused)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is outside {low:g}..{high:g}")
        return value

    return parse


seed_int = int_in(0)
"""Seeds are non-negative (numpy's generators refuse negative ones)."""


def output_file(text: str, option: str) -> Path:
    """The file an ``--out``-style option names, checked writable before any work is done.

    Its folder is created; a folder in its place, an uncreatable folder or an
    unwritable location (``/proc/x.png``) is an `InputError` naming the
    option, instead of a traceback after the work.  Nothing is left behind
    by the check when the file did not exist.
    """
    if not text:
        raise InputError(option, "empty file name")
    path = Path(text)
    if path.is_dir():
        raise InputError(option, f"{text} is a folder, not a file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(option, f"cannot create folder {path.parent} ({error.strerror})") from None
    existed = path.exists()
    try:
        with path.open("ab"):
            pass
    except OSError as error:
        raise InputError(option, f"cannot write {text} ({error.strerror})") from None
    if not existed:
        path.unlink()
    return path
