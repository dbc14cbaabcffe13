"""Copy a whole site database into a new, empty one: SQLite to PostgreSQL, or any direction.

A site starts on the embedded SQLite file and grows into PostgreSQL; `copy_site`
moves everything it holds — the ledger's tables and those of every other part
given (the fleet's task log and durable robot state: `fleet.manager.site`) — so
the copy opens with the normal ledger and fleet code and carries on.

What is guaranteed:

- **The source is only read**: opened read-only (SQLite ``mode=ro``, a read-only
  PostgreSQL session) and read in one snapshot, so a copy taken while the site
  runs is one consistent state (later writes are not in it).
- **Refused before anything is written**: a target that holds any table (checked
  again under the target's writer lock, so of two copies into one database at once,
  one copies and the other is refused), a source
  that is not a site database, holds tables this build does not know, or has
  another schema version; an in-memory database on either side.
- **All or nothing**: the target's tables, triggers and rows are written in one
  transaction (both backends have transactional DDL); any failure, including the
  verification, rolls it back, and an SQLite file the copy created is removed.
- **Every table, ids and order kept**: the tables are those of the parts'
  metadata (`SchemaPart.tables`), so a table added there is copied without a change
  here. Rows are inserted with their ids, in the order the source appended them
  (SQLite's rowid, PostgreSQL's identity column, else the primary key), so a log
  read back in append order (the task events) reads the same.
- **The target's guards stay on**: the copy only inserts, so the append-only
  triggers hold throughout and are never disabled. Rows a trigger derives (the
  ledger's ``stock`` from ``lot_stock``: `SchemaPart.merged`) are written after
  their source table, over what the trigger made.
- **Counters advanced**: on PostgreSQL every identity column's sequence is set
  past the largest copied id (SQLite's ``AUTOINCREMENT`` follows inserted ids), so
  the next booking does not collide.
- **Verified before the commit**: every table holds as many rows as in the source,
  and the ledger's `balance_check` on the target equals the source's.

One case cannot be copied: a PostgreSQL ledger whose movement ids have gaps (its
sequences skip ids on rollback) into SQLite, where a gap is the mark of a removed
row; the verification refuses it with the balance check's reason.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from wms.ledger.balance import balance_check
from wms.ledger.errors import LedgerError, NotALedger, UnsupportedDatabase, first_line
from wms.ledger.migrate import UPGRADABLE
from wms.ledger.records import BalanceReport
from wms.ledger.schema import LEDGER_SCHEMA, SCHEMA_VERSION, SchemaPart
from wms.ledger.storage import POSTGRESQL, SQLITE, Database, open_database
from wms.ledger.url import DatabaseUrl, parse_url, refuse_tables

BATCH = 5000
"""Rows read and inserted at a time (one ``COPY`` on PostgreSQL, one ``executemany`` on
SQLite)."""


@dataclass(frozen=True)
class CopyReport:
    """What `copy_site` copied: rows per table in copy order, and the balance check it
    verified (equal on both sides). ``missing`` are tables the source did not have yet
    (a part never opened there, such as the fleet's before a first ``serve``): they
    were created empty."""

    source: str
    target: str
    rows: Mapping[str, int]
    missing: tuple[str, ...]
    balance: BalanceReport
    seconds: float

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.source,
            "to": self.target,
            "tables": len(self.rows),
            "rows": self.total_rows,
            "per_table": dict(self.rows),
            "missing_in_source": list(self.missing),
            "balance": self.balance.to_dict(),
            "seconds": round(self.seconds, 3),
        }


def site_tables(parts: Sequence[SchemaPart]) -> tuple[sa.Table, ...]:
    """Every table of the parts, in the order a copy writes them."""
    return tuple(table for part in parts for table in part.tables)


def copy_site(
    source: str | Path, target: str | Path, parts: Sequence[SchemaPart], *, batch: int = BATCH
) -> CopyReport:
    """Copy the site database ``source`` into the new, empty ``target`` (see the module
    docstring for what is guaranteed); ``parts`` must include `LEDGER_SCHEMA`."""
    if LEDGER_SCHEMA not in parts:
        raise ValueError("a site copy needs the ledger's part")
    started = time.perf_counter()
    src_url, dst_url = parse_url(source), parse_url(target)
    for url in (src_url, dst_url):
        if url.in_memory:
            raise UnsupportedDatabase(url.text, "an in-memory database cannot be copied")
    src = open_site(src_url, "copy from")
    try:
        missing = check_site_schema(src, parts, "copy")
        with _new_target(dst_url) as dst:
            rows, balance = _copy(src, dst, parts, missing, batch)
    finally:
        src.close()
    return CopyReport(
        src_url.display,
        dst_url.display,
        rows,
        tuple(sorted(missing)),
        balance,
        time.perf_counter() - started,
    )


def open_site(url: DatabaseUrl, action: str) -> Database:
    """The existing site database ``url``, opened read-only; one that holds no ledger is
    refused saying what ``action`` (``"copy from"``, ``"check"``) needs."""
    try:
        return open_database(url, must_exist=True, read_only=True)
    except NotALedger as refused:
        raise NotALedger(
            refused.source, f"{refused.problem}: {action} a site database (one a ledger made)"
        ) from None


def check_site_schema(db: Database, parts: Sequence[SchemaPart], action: str) -> set[str]:
    """Refuse a database this build cannot ``action`` (``"copy"``, ``"check"``) as a site:
    no schema version, another version, tables no part declares, ledger tables missing,
    or a ``meta`` table that is not the ledger's. Returns the part tables it lacks (parts
    never opened there, such as the fleet's)."""
    try:
        return _check_site_schema(db, parts, action)
    except db.errors as error:
        raise UnsupportedDatabase(
            db.url.display, f"not a site database ({first_line(error)})"
        ) from None


def _check_site_schema(db: Database, parts: Sequence[SchemaPart], action: str) -> set[str]:
    where = db.url.display
    does = f"{action[:-1]}ies" if action.endswith("y") else f"{action}s"  # copies, checks
    version = db.scalar("SELECT value FROM meta WHERE key = 'schema_version'")
    if version is None:
        raise UnsupportedDatabase(where, "not a site database (its ledger has no schema version)")
    if version != str(SCHEMA_VERSION):
        if version in UPGRADABLE:
            raise UnsupportedDatabase(
                where,
                f"ledger schema version {version}, this build {does} version "
                f"{SCHEMA_VERSION}: open it once with this build's ledger (which upgrades it "
                f"in place), then {action}",
            )
        raise UnsupportedDatabase(
            where,
            f"ledger schema version {version} is not this build's ({SCHEMA_VERSION}): "
            f"{action} it with the build that made it",
        )
    present = db.table_names()
    known = {table.name for table in site_tables(parts)}
    unknown = sorted(present - known)
    if unknown:
        raise UnsupportedDatabase(
            where,
            f"holds tables this build does not know ({', '.join(unknown)}): "
            f"{action} it with the build that made them",
        )
    lacking = sorted({t.name for t in LEDGER_SCHEMA.tables} - present)
    if lacking:
        raise UnsupportedDatabase(
            where, f"not a site database (its ledger lacks {', '.join(lacking)})"
        )
    return known - present


@contextmanager
def _new_target(url: DatabaseUrl) -> Iterator[Database]:
    """The empty target, opened for writing; on failure an SQLite file (and folders)
    the copy created are removed again, so the target is as it was."""
    created: list[Path] = []
    if url.path is not None:
        for folder in (url.path, *url.path.parents):
            if folder.exists():
                break
            created.append(folder)
    try:
        db = open_database(url, must_be_empty=True)
    except BaseException:
        _remove(created)
        raise
    try:
        yield db
    except BaseException:
        db.close()
        _remove(created)
        raise
    db.close()


def _remove(created: Sequence[Path]) -> None:
    """The file (with SQLite's side files) and the folders the copy created, innermost
    first."""
    if created:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{created[0]}{suffix}").unlink(missing_ok=True)
        for folder in created[1:]:
            folder.rmdir()


def _copy(
    src: Database, dst: Database, parts: Sequence[SchemaPart], missing: set[str], batch: int
) -> tuple[dict[str, int], BalanceReport]:
    """Schema, rows, counters and verification, in one target transaction."""
    src.begin_read()
    dst.begin_write()
    try:
        # Again under the writer lock: another copy into the same database may have
        # committed since it was opened.
        refuse_tables(
            dst.url.display, dst.table_names(), must_exist=False, must_be_empty=True, foreign=""
        )
        for part in parts:
            dst.run_statements(dst.schema_statements(part))
        rows: dict[str, int] = {}
        for part in parts:
            for table in part.tables:
                if table.name in missing:
                    rows[table.name] = 0
                    continue
                rows[table.name] = _copy_table(src, dst, table, table.name in part.merged, batch)
        if dst.backend == POSTGRESQL:
            for table in site_tables(parts):
                _advance_identity(dst, table.name)
        _verify(src, dst, rows, missing)
        expected = balance_check(src)
        found = balance_check(dst)
        if found != expected:
            reason = _difference(expected, found)
            raise LedgerError(
                dst.url.display,
                f"the copy's balance check differs from the source's ({reason}): nothing written",
            )
        dst.commit()
    except LedgerError:
        _abort(dst)
        raise
    except (sa.exc.SQLAlchemyError, *src.errors, *dst.errors) as error:
        _abort(dst)
        reason = first_line(getattr(error, "orig", None) or error)
        raise LedgerError(
            dst.url.display, f"the copy was refused ({reason}): nothing written"
        ) from None
    except BaseException:
        _abort(dst)
        raise
    finally:
        with suppress(*src.errors):
            src.commit()
    return rows, expected


def _difference(expected: BalanceReport, found: BalanceReport) -> str:
    """What the target's balance check says that the source's does not, or the reverse."""
    new = [p for p in found.problems if p not in expected.problems]
    if new:
        return new[0]
    lost = [p for p in expected.problems if p not in found.problems]
    if lost:
        return f"the source's finds {lost[0]!r}, the copy's does not"
    return f"totals {found.to_dict()} against the source's {expected.to_dict()}"


def _abort(dst: Database) -> None:
    """Roll the target back; a connection already lost has nothing to roll back (the
    server discards an unfinished transaction itself)."""
    with suppress(*dst.errors):
        dst.rollback()


def _copy_table(src: Database, dst: Database, table: sa.Table, merged: bool, batch: int) -> int:
    columns = [column.name for column in table.columns]
    select = f"SELECT {', '.join(columns)} FROM {table.name} ORDER BY {_append_order(src, table)}"
    copied = 0
    for rows in src.stream(select, batch):
        if merged:
            dst.executemany(_write_over(table, columns), rows)
        else:
            dst.insert_rows(table.name, columns, rows)
        copied += len(rows)
    return copied


def _write_over(table: sa.Table, columns: Sequence[str]) -> str:
    """An INSERT that replaces the row a trigger made with the same key (`SchemaPart.merged`)."""
    key = [column.name for column in table.primary_key.columns]
    rest = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
    return (
        f"INSERT INTO {table.name} ({', '.join(columns)})"
        f" VALUES ({', '.join('?' for _ in columns)})"
        f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {rest}"
    )


def _append_order(db: Database, table: sa.Table) -> str:
    """The order the database appended the table's rows in: SQLite's rowid (unless the
    table has none), PostgreSQL's identity column; else the primary key."""
    if db.backend == SQLITE and table.dialect_options["sqlite"]["with_rowid"] is not False:
        return "rowid"
    if db.backend == POSTGRESQL:
        identity = _identity_columns(db, table.name)
        if identity:
            return ", ".join(identity)
    return ", ".join(column.name for column in table.primary_key.columns)


def _identity_columns(db: Database, table: str) -> list[str]:
    return [
        row[0]
        for row in db.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(?)"
            " AND attidentity <> '' AND NOT attisdropped ORDER BY attnum",
            (table,),
        )
    ]


def _advance_identity(db: Database, table: str) -> None:
    """The next generated id of each identity column follows the largest copied one."""
    for column in _identity_columns(db, table):
        db.execute(
            f"SELECT setval(pg_get_serial_sequence(?, ?), COALESCE(MAX({column}), 0) + 1, false)"
            f" FROM {table}",
            (table, column),
        )


def _verify(src: Database, dst: Database, copied: Mapping[str, int], missing: set[str]) -> None:
    """Every table holds on the target as many rows as in the source snapshot."""
    for table, count in copied.items():
        have = int(dst.scalar(f"SELECT COUNT(*) FROM {table}"))
        source = 0 if table in missing else int(src.scalar(f"SELECT COUNT(*) FROM {table}"))
        if have != source or count != source:
            raise LedgerError(
                dst.url.display,
                f"{table}: {have} rows after the copy, {source} in the source: nothing written",
            )
