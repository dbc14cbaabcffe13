"""Reading a whole small CSV file as rows, with every failure an `InputError`.

The returns and wave-demand files are read whole; a missing file, a folder,
binary bytes or an oversized field must each end as one line naming the file,
never as a ``csv.Error`` or ``UnicodeDecodeError`` traceback.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

from wms.errors import InputError
from wms.input_files import MiB, read_input_bytes


def read_csv_rows(path: str | Path) -> list[list[str]]:
    """Every row of a UTF-8 (optionally BOM-prefixed) CSV file, header included."""
    path = Path(path)
    data = read_input_bytes(path, 256 * MiB)
    try:
        return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    except UnicodeDecodeError:
        raise InputError(str(path), "not a UTF-8 text CSV file") from None
    except csv.Error as error:
        raise InputError(str(path), f"not readable as CSV ({error})") from None


def table_rows(
    rows: list[list[str]], source: str, required: tuple[str, ...], optional: tuple[str, ...]
) -> Iterator[tuple[str, dict[str, str]]]:
    """``(file:row, {column: stripped cell})`` for each non-blank data row.

    The header is required, its names case-insensitive and in any order; an
    unknown or repeated column, a missing required one, or a row with another
    number of fields than the header is an `InputError` naming file and row.
    """
    if not rows:
        raise InputError(source, "empty file (expected a header row)")
    header = [h.strip().lower() for h in rows[0]]
    unknown = [h for h in header if h not in required + optional]
    if unknown:
        known = ", ".join(required + optional)
        raise InputError(f"{source}:1", f"unknown column {unknown[0]!r} (known: {known})")
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(f"{source}:1", f"missing column(s) {', '.join(missing)}")
    if len(set(header)) != len(header):
        raise InputError(f"{source}:1", "a column appears twice")
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        where = f"{source}:{number}"
        if len(row) != len(header):
            raise InputError(where, f"has {len(row)} fields, the header has {len(header)}")
        yield where, {h: v.strip() for h, v in zip(header, row, strict=True)}
