"""Reading a whole small CSV file as rows, with every failure an `InputError`.

The returns and wave-demand files are read whole; a missing file, a folder,
binary bytes or an oversized field must each end as one line naming the file,
never as a ``csv.Error`` or ``UnicodeDecodeError`` traceback.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from wms.errors import InputError
from wms.input_files import MiB, read_input_bytes

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
