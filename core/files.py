"""Reading a user-named input file whole, with a size limit and one-line errors.

Config, map and CSV files are read into memory whole; a limit keeps a wrong
path (``/dev/zero``, a disk image) from filling memory or hanging instead of
failing with a line naming the file.
"""

from __future__ import annotations

from pathlib import Path

from core.errors import InputError

MiB = 1 << 20


def read_input_bytes(path: str | Path, limit: int) -> bytes:
    """The file's bytes; `InputError` for a missing file, a folder or more than ``limit`` bytes."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise InputError(str(path), "file not found") from None
    except IsADirectoryError:
        raise InputError(str(path), "is a folder, not a file") from None
    except OSError as error:
        raise InputError(str(path), error.strerror or "cannot be read") from None
    if len(data) > limit:
        raise InputError(str(path), f"larger than {limit // MiB} MiB: not an input file")
    return data
