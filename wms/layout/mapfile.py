"""MovingAI ``.map`` files, including the Robot Runners variant.

Format: ``type octile``, ``height H``, ``width W``, ``map``, then H rows of W
terrain characters. Every public MAPF benchmark map loads unchanged, and a map
written back is identical to the one read (terrain characters are kept).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.files import read_input_bytes
from wms.errors import InputError
from wms.layout.grid import KNOWN_TERRAIN

MAX_SIDE = 10_000


def parse_map(text: str, source: str) -> np.ndarray:
    """Terrain array (uint8 ASCII codes, ``[H, W]``) from ``.map`` text."""
    lines = text.splitlines()
    header: dict[str, str] = {}
    index = 0
    while index < len(lines) and lines[index].strip().lower() != "map":
        line = lines[index].strip()
        index += 1
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2 or parts[0].lower() not in ("type", "height", "width"):
            raise InputError(f"{source}:{index}", f"bad header line {line!r}")
        header[parts[0].lower()] = parts[1]
    if index >= len(lines):
        raise InputError(source, "missing 'map' line: not a MovingAI .map file")
    for key in ("type", "height", "width"):
        if key not in header:
            raise InputError(source, f"header has no '{key}' line")
    height = _positive_int(header["height"], f"{source}: height")
    width = _positive_int(header["width"], f"{source}: width")
    rows = lines[index + 1 :]
    while rows and not rows[-1].strip():
        rows.pop()
    if len(rows) != height:
        raise InputError(source, f"header says height {height} but the map has {len(rows)} rows")
    for row_number, row in enumerate(rows):
        line_number = index + 2 + row_number
        if len(row) != width:
            raise InputError(
                f"{source}:{line_number}", f"row has {len(row)} cells, header says width {width}"
            )
        unknown = set(row) - KNOWN_TERRAIN
        if unknown:
            char = sorted(unknown)[0]
            col = row.index(char)
            raise InputError(f"{source}:{line_number}", f"unknown terrain {char!r} at column {col}")
    return (
        np.frombuffer("".join(rows).encode("ascii"), dtype=np.uint8).reshape(height, width).copy()
    )


def _positive_int(text: str, source: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise InputError(source, f"{text!r} is not an integer") from None
    if not 0 < value <= MAX_SIDE:
        raise InputError(source, f"{value} is outside 1..{MAX_SIDE}")
    return value


def read_map(path: str | Path) -> np.ndarray:
    """Read a ``.map`` file into a terrain array; `InputError` names the file."""
    path = Path(path)
    # The largest map allowed (MAX_SIDE rows of MAX_SIDE cells, CRLF) plus its header.
    data = read_input_bytes(path, MAX_SIDE * (MAX_SIDE + 2) + 4096)
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise InputError(str(path), "not a text .map file (non-ASCII bytes)") from None
    return parse_map(text, str(path))


def format_map(terrain: np.ndarray) -> str:
    height, width = terrain.shape
    rows = (terrain[r].tobytes().decode("ascii") for r in range(height))
    return f"type octile\nheight {height}\nwidth {width}\nmap\n" + "\n".join(rows) + "\n"


def write_map(terrain: np.ndarray, path: str | Path) -> None:
    Path(path).write_text(format_map(terrain), encoding="ascii")
