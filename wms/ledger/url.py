"""Database URLs: which SQLite file a ledger lives in.

``sqlite:///runs/ledger.db`` (relative), ``sqlite:////abs/ledger.db``,
``sqlite:///:memory:`` / ``:memory:`` (private, for tests) or a plain path.
Other schemes (``postgresql://``) are refused with a clear error rather than
silently writing a local file.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from wms.ledger.errors import UnsupportedDatabase

MEMORY = ":memory:"


@dataclass(frozen=True, slots=True)
class DatabaseUrl:
    """A parsed URL: ``path`` is None for an in-memory database."""

    text: str
    path: Path | None

    @property
    def in_memory(self) -> bool:
        return self.path is None

    def exists(self) -> bool:
        return self.path is None or self.path.exists()


def parse_url(text: str | Path) -> DatabaseUrl:
    raw = str(text).strip()
    if raw in (MEMORY, "sqlite://", "sqlite:///:memory:", "sqlite://:memory:"):
        return DatabaseUrl(raw, None)
    if raw.startswith("sqlite:///"):
        rest = raw[len("sqlite:///") :]
        if not rest:
            raise UnsupportedDatabase(raw, "sqlite URL has no file path")
        return DatabaseUrl(raw, Path(rest))
    if "://" in raw:
        scheme = raw.split("://", 1)[0]
        raise UnsupportedDatabase(
            raw, f"unsupported database scheme {scheme!r} (use sqlite:///path.db or a path)"
        )
    if not raw:
        raise UnsupportedDatabase("--db", "empty database URL")
    return DatabaseUrl(raw, Path(raw))


def connect(url: DatabaseUrl, *, must_exist: bool = False) -> sqlite3.Connection:
    """An autocommit connection (transactions are explicit) with WAL and foreign keys on.

    A file that is not an SQLite database, or an SQLite database holding other
    tables than a ledger's, is refused before anything is written to it, so a
    wrong ``--db`` never alters someone else's file; with ``must_exist`` an
    empty database is refused too (it is not a ledger yet).
    """
    target = MEMORY if url.path is None else str(url.path)
    try:
        if url.path is not None:
            if url.path.is_dir():
                raise UnsupportedDatabase(url.text, "is a folder, not a database file")
            url.path.parent.mkdir(parents=True, exist_ok=True)
        # A ledger may be opened on one thread and then used only by another (the fleet
        # manager's cycle thread); SQLite is serialized here, and use is never concurrent.
        conn = sqlite3.connect(target, isolation_level=None, timeout=10.0, check_same_thread=False)
    except OSError as error:
        where = url.path.parent if url.path is not None else url.text
        raise UnsupportedDatabase(
            url.text, f"cannot create folder {where} ({error.strerror})"
        ) from None
    except sqlite3.Error as error:
        raise UnsupportedDatabase(url.text, f"cannot open ({error})") from None
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        if (tables or must_exist) and "meta" not in tables:
            what = "an SQLite database without a ledger in it" if tables else "it is empty"
            raise UnsupportedDatabase(url.text, f"not a ledger database ({what})")
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        if url.path is not None:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.Error as error:
        conn.close()
        raise UnsupportedDatabase(url.text, f"not a ledger database ({error})") from None
    except UnsupportedDatabase:
        conn.close()
        raise
    return conn
