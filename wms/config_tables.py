"""Strict reading of TOML tables: unknown keys and wrong types are input errors.

Each package parses its own section of the config with these helpers, so a
typo such as ``rack_lenght`` is reported with its full key instead of being
silently ignored.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from core.files import MiB, read_input_bytes
from wms.errors import InputError

Cell = tuple[int, int]


def read_toml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    data = read_input_bytes(path, 16 * MiB)
    try:
        return tomllib.loads(data.decode("utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise InputError(str(path), f"not valid TOML ({error})") from None
    except UnicodeDecodeError:
        raise InputError(str(path), "not valid TOML (not UTF-8 text)") from None
    except RecursionError:  # tomllib recurses once per level of nested arrays or tables
        raise InputError(
            str(path), "not valid TOML here (arrays or tables nested too deep)"
        ) from None


def check_keys(table: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    allowed_set = set(allowed)
    for key in table:
        if key not in allowed_set:
            known = ", ".join(sorted(allowed_set))
            raise InputError(_join(where, key), f"unknown key (known: {known})")


def require_table(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InputError(where, f"must be a table, got {type(value).__name__}")
    return value


def get_int(table: Mapping[str, Any], key: str, where: str, default: int | None = None) -> int:
    value = table.get(key, default)
    if value is None:
        raise InputError(_join(where, key), "is required")
    if not isinstance(value, int) or isinstance(value, bool):
        raise InputError(_join(where, key), f"must be an integer, got {value!r}")
    return value


def get_float(
    table: Mapping[str, Any], key: str, where: str, default: float | None = None
) -> float:
    value = table.get(key, default)
    if value is None:
        raise InputError(_join(where, key), "is required")
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise InputError(_join(where, key), f"must be a number, got {value!r}")
    if not math.isfinite(value):
        raise InputError(_join(where, key), f"must be a finite number, got {value!r}")
    return float(value)


def get_str(table: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = table.get(key, default)
    if value is None:
        raise InputError(_join(where, key), "is required")
    if not isinstance(value, str):
        raise InputError(_join(where, key), f"must be a string, got {value!r}")
    return value


def get_cells(table: Mapping[str, Any], key: str, where: str) -> list[Cell]:
    """A list of ``[row, col]`` pairs."""
    value = table.get(key, [])
    full = _join(where, key)
    if not isinstance(value, list):
        raise InputError(full, "must be a list of [row, col] pairs")
    cells: list[Cell] = []
    for i, item in enumerate(value):
        if (
            not isinstance(item, list)
            or len(item) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in item)
        ):
            raise InputError(f"{full}[{i}]", f"must be a [row, col] pair of integers, got {item!r}")
        cells.append((item[0], item[1]))
    return cells


def _join(where: str, key: str) -> str:
    """``file.toml: floor`` + ``name`` → ``file.toml: floor.name``; a bare file gets ``: ``."""
    if not where:
        return key
    if where.endswith((".toml", ".TOML")):
        return f"{where}: {key}"
    return f"{where}.{key}"
