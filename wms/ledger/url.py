"""Database URLs: which SQLite file or PostgreSQL database a ledger lives in.

``sqlite:///runs/ledger.db`` (relative), ``sqlite:////abs/ledger.db``,
``sqlite:///:memory:`` / ``:memory:`` (private, for tests) or a plain path;
``postgresql://user:password@host:port/dbname`` (also ``postgres://`` and
``postgresql+psycopg://``; libpq query options such as ``?host=/run/socket``
pass through). Other schemes are refused with a clear error rather than
silently writing a local file. Error messages show a URL without its password.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from wms.ledger.errors import NotALedger, UnsupportedDatabase

MEMORY = ":memory:"
POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")


@dataclass(frozen=True, slots=True)
class DatabaseUrl:
    """A parsed URL: ``path`` is None for an in-memory or a PostgreSQL database."""

    text: str
    path: Path | None
    backend: str = "sqlite"

    @property
    def in_memory(self) -> bool:
        return self.path is None and self.backend == "sqlite"

    @property
    def display(self) -> str:
        """The URL as it may be printed: any password replaced by ``***``."""
        if self.backend != "postgresql":
            return self.text
        return re.sub(r"^([^:/]+://[^:/@]*):[^@]*@", r"\1:***@", self.text)

    def sqlalchemy_url(self) -> str:
        """The URL SQLAlchemy's psycopg 3 dialect takes."""
        return "postgresql+psycopg://" + self.text.split("://", 1)[1]

    def exists(self) -> bool:
        """False only for a file that is not there (a server database is asked on connect)."""
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
        if scheme.lower() in POSTGRES_SCHEMES:
            return DatabaseUrl(raw, None, "postgresql")
        raise UnsupportedDatabase(
            raw,
            f"unsupported database scheme {scheme!r} "
            "(use sqlite:///path.db, a path or postgresql://host/dbname)",
        )
    if not raw:
        raise UnsupportedDatabase("database URL", "is empty")
    return DatabaseUrl(raw, Path(raw))


def refuse_tables(
    display: str, tables: set[str], *, must_exist: bool, must_be_empty: bool, foreign: str
) -> None:
    """The one check, on both backends, of which tables an opened database holds.

    A database with tables but no ledger (``foreign`` says what it is) is someone
    else's; with ``must_exist`` an empty one is refused too (it is not a ledger yet);
    with ``must_be_empty`` any table is (a copy writes only into a new database).
    """
    if must_be_empty and tables:
        shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        raise NotALedger(
            display,
            f"is not empty ({len(tables)} tables: {shown}): copy into a new, empty database",
        )
    if (tables or must_exist) and "meta" not in tables:
        what = foreign if tables else "it is empty"
        raise NotALedger(display, f"not a ledger database ({what})")


def connect(
    url: DatabaseUrl,
    *,
    must_exist: bool = False,
    read_only: bool = False,
    must_be_empty: bool = False,
) -> sqlite3.Connection:
    """An autocommit connection (transactions are explicit) with WAL and foreign keys on.

    A file that is not an SQLite database, or an SQLite database holding other
    tables than a ledger's, is refused before anything is written to it, so a
    wrong ``--db`` never alters someone else's file; with ``must_exist`` an
    empty database is refused too (it is not a ledger yet), with ``must_be_empty``
    any database with a table. ``read_only`` opens an existing file so that
    nothing can be written through the connection (SQLite's ``mode=ro``; the file
    is not even switched to WAL).
    """
    if url.backend != "sqlite":
        raise UnsupportedDatabase(url.display, "needs an SQLite database (sqlite:///path.db)")
    target = MEMORY if url.path is None else str(url.path)
    try:
        if url.path is not None:
            if url.path.is_dir():
                raise UnsupportedDatabase(url.text, "is a folder, not a database file")
            if read_only:
                if not url.path.is_file():
                    raise UnsupportedDatabase(url.text, "no database file there")
                target = url.path.absolute().as_uri() + "?mode=ro"
            else:
                url.path.parent.mkdir(parents=True, exist_ok=True)
        # A ledger may be opened on one thread and then used only by another (the fleet
        # manager's cycle thread); SQLite is serialized here, and use is never concurrent.
        conn = sqlite3.connect(
            target,
            isolation_level=None,
            timeout=10.0,
            check_same_thread=False,
            uri=target.startswith("file:"),
        )
    except OSError as error:
        where = url.path.parent if url.path is not None else url.text
        raise UnsupportedDatabase(
            url.text, f"cannot create folder {where} ({error.strerror})"
        ) from None
    except sqlite3.Error as error:
        raise UnsupportedDatabase(url.text, f"cannot open ({error})") from None
    try:
        tables = {
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        }
        refuse_tables(
            url.text,
            tables,
            must_exist=must_exist,
            must_be_empty=must_be_empty,
            foreign="an SQLite database without a ledger in it",
        )
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        # A REPLACE then fires the delete triggers of the rows it replaces (off by default).
        conn.execute("PRAGMA recursive_triggers = ON")
        if url.path is not None and not read_only:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.Error as error:
        conn.close()
        raise UnsupportedDatabase(url.text, f"not a ledger database ({error})") from None
    except UnsupportedDatabase:
        conn.close()
        raise
    return conn
