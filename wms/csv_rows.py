"""Reading a whole small CSV file as rows, with every failure an `InputError`.

The returns and wave-demand files are read whole; a missing file, a folder,
binary bytes or an oversized field must each end as one line naming the file,
never as a ``csv.Error`` or ``UnicodeDecodeError`` traceback.
"""

from __future__ import annotations

import csv
from pathlib import Path

from wms.errors import InputError


def read_csv_rows(path: str | Path) -> list[list[str]]:
    """Every row of a UTF-8 (optionally BOM-prefixed) CSV file, header included."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return list(csv.reader(handle))
    except FileNotFoundError:
        raise InputError(str(path), "file not found") from None
    except IsADirectoryError:
        raise InputError(str(path), "is a folder, not a CSV file") from None
    except UnicodeDecodeError:
        raise InputError(str(path), "not a UTF-8 text CSV file") from None
    except csv.Error as error:
        raise InputError(str(path), f"not readable as CSV ({error})") from None
    except OSError as error:
        raise InputError(str(path), error.strerror or "cannot be read") from None
