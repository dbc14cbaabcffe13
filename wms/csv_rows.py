"""Reading a whole small CSV file as rows, with every failure an `InputError`.

The returns and wave-demand files are read whole; a missing file, a folder,
binary bytes or an oversized field must each end as one line naming the file,
never as a ``csv.Error`` or ``UnicodeDecodeError`` traceback.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from pathlib import Path

from core.files import MiB, read_input_bytes
from wms.errors import InputError

MAX_CSV_BYTES = 16 * MiB
"""Returns, demand and current-slotting files hold one row per return or SKU (16 MiB is some
200,000 rows). Held as rows of Python strings a file costs about seven times its size, so the
limit also bounds memory: with 256 MiB one fuzzed returns file took 1.3 GiB (bench/fuzz.py)."""


def read_csv_rows(path: str | Path) -> list[list[str]]:
    """Every row of a UTF-8 (optionally BOM-prefixed) CSV file, header included."""
    path = Path(path)
    data = read_input_bytes(path, MAX_CSV_BYTES)
    try:
        return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    except UnicodeDecodeError:
        raise InputError(str(path), "not a UTF-8 text CSV file") from None
    except csv.Error as error:
        raise InputError(str(path), f"not readable as CSV ({error})") from None


def table_rows(
    rows: list[list[str]], source: str, required: Sequence[str], optional: Sequence[str] = ()
) -> Iterator[tuple[str, dict[str, str]]]:
    """``(file:line, {column: stripped value})`` for each non-blank row under a header of
    known columns (lower-cased); `InputError` naming the line for an unknown, missing or
    repeated column and for a row whose field count differs from the header's."""
    if not rows:
        raise InputError(source, "empty file (expected a header row)")
    header = [h.strip().lower() for h in rows[0]]
    known = (*required, *optional)
    unknown = [h for h in header if h not in known]
    if unknown:
        raise InputError(
            f"{source}:1", f"unknown column {unknown[0]!r} (known: {', '.join(known)})"
        )
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
