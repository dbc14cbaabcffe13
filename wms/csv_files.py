"""Reading CSV files as rows, with the one-line errors every importer needs."""

from __future__ import annotations

import csv
from pathlib import Path

from wms.errors import InputError


def read_csv_rows(path: str | Path) -> list[list[str]]:
    """Every row of a UTF-8 CSV (a BOM is fine); `InputError` names the file."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return list(csv.reader(handle))
    except FileNotFoundError:
        raise InputError(str(path), "file not found") from None
    except IsADirectoryError:
        raise InputError(str(path), "is a directory, not a CSV file") from None
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise InputError(str(path), f"cannot be read ({error})") from None
