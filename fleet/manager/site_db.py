"""The fleet's tables in the site database: one way to open it, one append-only rule.

The task log (`fleet.manager.store`) and the robots' durable state
(`fleet.manager.durable`) live in the ledger's database, SQLite or PostgreSQL,
through the ledger's storage layer (`wms.ledger.storage`): `open_site` connects
(refusing a file or database that is not the site's) and creates any missing
fleet table and trigger in one transaction, so both adapters open the database
the same way and a ``postgresql://`` URL works wherever a file does.

`append_only` is what makes a log tamper-evident on both backends, as the
ledger's movements are:

- SQLite: BEFORE UPDATE and BEFORE DELETE raise; BEFORE INSERT catches a row
  that would take an existing key (``INSERT OR REPLACE`` otherwise deletes the
  old row without firing the delete trigger unless ``recursive_triggers`` is on,
  which only our own connections promise): it is refused, or, for a log whose
  writes are ``ON CONFLICT DO NOTHING`` by design, ignored (the stored row stays).
- PostgreSQL: a row trigger refuses UPDATE (so also ``ON CONFLICT DO UPDATE``)
  and DELETE, a statement trigger refuses TRUNCATE.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from wms.ledger.errors import UnsupportedDatabase
from wms.ledger.schema import SchemaPart
from wms.ledger.storage import POSTGRESQL, SQLITE, Database, open_database
from wms.ledger.url import parse_url

Integer = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
"""64 bits on PostgreSQL; INTEGER on SQLite (what its STRICT tables accept)."""

APPEND_ONLY_FUNCTION = """CREATE OR REPLACE FUNCTION fleet_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION USING
            MESSAGE = TG_TABLE_NAME || ' is append-only (' || TG_OP || ' refused)',
            ERRCODE = 'integrity_constraint_violation';
    END $$"""


def append_only(
    logs: Mapping[str, Sequence[str]], ignore_duplicates: Collection[str] = ()
) -> dict[str, tuple[str, ...]]:
    """The statements (per backend) that keep each table in ``logs`` (table: its primary
    key columns) append-only; a table in ``ignore_duplicates`` silently keeps its row
    when one with the same key is inserted again (SQLite's ``INSERT OR REPLACE``)."""
    sqlite: list[str] = []
    postgresql = [APPEND_ONLY_FUNCTION]
    for table, key in logs.items():
        same = " AND ".join(f"{column} = NEW.{column}" for column in key)
        refuse = f"RAISE(ABORT, '{table} is append-only')"
        duplicate = "RAISE(IGNORE)" if table in ignore_duplicates else refuse
        sqlite += [
            f"""CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table}
            BEGIN SELECT {refuse}; END""",
            f"""CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table}
            BEGIN SELECT {refuse}; END""",
            f"""CREATE TRIGGER IF NOT EXISTS {table}_no_replace BEFORE INSERT ON {table}
            WHEN EXISTS (SELECT 1 FROM {table} WHERE {same})
            BEGIN SELECT {duplicate}; END""",
        ]
        postgresql += [
            f"""CREATE OR REPLACE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION fleet_append_only()""",
            f"""CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION fleet_append_only()""",
        ]
    return {SQLITE: tuple(sqlite), POSTGRESQL: tuple(postgresql)}


def trigger_names(logs: Iterable[str]) -> tuple[str, ...]:
    """The PostgreSQL triggers `append_only` makes (all present: set up already)."""
    return tuple(f"{table}_{what}" for table in logs for what in ("no_change", "no_truncate"))


def open_site(url: str | Path, part: SchemaPart) -> Database:
    """Connect to the site database ``url`` names and create what is missing there.

    The part's Core tables are created in each backend's DDL; its ``statements``
    (per backend: triggers, or a table whose shape differs per backend) run after
    them — on SQLite every time (``IF NOT EXISTS``), on PostgreSQL only while a
    trigger the part names as ``present`` is missing. A bad URL, a database that is
    not the site's or one the set-up fails on is an `UnsupportedDatabase` (a
    one-line `InputError`).
    """
    parsed = parse_url(url)
    db = open_database(parsed)
    try:
        with db.create_tables(part):
            pass
    except (sa.exc.SQLAlchemyError, *db.errors) as error:
        db.close()
        reason = (str(getattr(error, "orig", None) or error).strip().splitlines() or ["?"])[0]
        raise UnsupportedDatabase(
            parsed.display, f"cannot set up the fleet tables ({reason})"
        ) from None
    return db


@contextmanager
def writing(db: Database) -> Iterator[Database]:
    """One write transaction: everything inside is stored, or (on any error) nothing."""
    db.begin_write()
    try:
        yield db
    except BaseException:
        db.rollback()
        raise
    db.commit()


@contextmanager
def reading(db: Database) -> Iterator[Database]:
    """One read snapshot for several SELECTs (what a restart reads back is one state)."""
    db.begin_read()
    try:
        yield db
    finally:
        db.commit()
