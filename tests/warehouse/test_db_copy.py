"""`warehouse db copy`: a whole site database moved between SQLite and a real PostgreSQL.

Every row of every table comes back after SQLite -> PostgreSQL -> SQLite; the copy opens
with the normal ledger and fleet code and carries on (new bookings, the task log, a
restart of the durable state); bad input is one line, exit 2, and leaves the target as
it was; and the copy covers every table the schema declares.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import pkgutil
import sqlite3
import threading
from datetime import date
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

import fleet
import wms
from fleet.manager.durable import DurableFleet
from fleet.manager.durable import tables as durable_tables
from fleet.manager.events import TaskEvent
from fleet.manager.model import Stop, StopAction, TaskKind, TaskSpec, TaskStatus
from fleet.manager.site import SITE_SCHEMA, copy_site
from fleet.manager.store import SqlTaskStore, task_events
from fleet.manager.tasks import TaskBook
from tests.fleet.manager.test_durable_backends import _stored
from tests.pg_server import create_database, drop_database
from warehouse.cli import main
from wms.inventory_types import Condition
from wms.ledger import Ledger, LedgerError, UnsupportedDatabase
from wms.ledger.demo import tiny_ledger
from wms.ledger.schema import LEDGER_SCHEMA, SchemaPart, metadata
from wms.ledger.site_copy import copy_site as copy_parts
from wms.ledger.site_copy import site_tables
from wms.ledger.storage import open_database
from wms.ledger.url import parse_url


def build_site(url: str) -> list[TaskEvent]:
    """A site using every table: lots (one split pick), reservations, a transfer in
    transit, a return, a regrade, task events and the robots' durable state."""
    with tiny_ledger(url) as ledger:
        ledger.receive("A", "R1", 30, lot="L1", received_on="2026-05-01", expires_on="2027-01-01")
        ledger.receive("A", "R1", 20, lot="L2", received_on="2026-05-02")
        ledger.receive("B", "R2", 12, ref="po-9")
        ledger.pick("A", "R1", 35, ref="order-1")  # draws L1 then L2: a movement_lots split
        held = ledger.reserve("A", "R1", 5, ref="order-2")
        ledger.pick_reserved(held, 2)
        ledger.move("B", "R2", "F2", 4)
        ledger.adjust("B", "R2", -1, ref="count")
        ledger.dispatch("C", "R2", 9, lot="SUP-1", expires_on=date(2027, 6, 1))
        transfer = ledger.dispatch("B", "D1", 3, from_location="R2")
        ledger.arrive(transfer, 2)
        ledger.return_in("A", "RET", 1, Condition.USED_GOOD, ref="rma-1")
        ledger.regrade("A", "RET", 1, Condition.USED_GOOD, Condition.NEW)
        assert ledger.balance_check().ok
    book, store = TaskBook(), SqlTaskStore(url)
    events = [
        book.submit(TaskSpec("t1", TaskKind.MOVE, (Stop((5, 6)),)), 0.0),
        book.submit(TaskSpec("t2", TaskKind.MOVE, (Stop((7, 6), StopAction.NONE),)), 0.5),
        book.transition("t1", TaskStatus.ASSIGNED, 1.0, robot="sim/r0"),
    ]
    store.append(events)
    store.close()
    _stored(url).close()  # registry, an order, a placement, a block, a left load
    return events


def dump(url: str) -> dict[str, list[tuple]]:
    """Every row of every site table, by primary key (read-only)."""
    db = open_database(parse_url(url), must_exist=True, read_only=True)
    try:
        out = {}
        for table in site_tables(SITE_SCHEMA):
            columns = ", ".join(c.name for c in table.columns)
            key = ", ".join(c.name for c in table.primary_key.columns)
            out[table.name] = [
                tuple(r) for r in db.execute(f"SELECT {columns} FROM {table.name} ORDER BY {key}")
            ]
        return out
    finally:
        db.close()


def pg_tables(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return sorted(
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
        )


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def sqlite_site(tmp_path) -> tuple[str, list[TaskEvent]]:
    url = str(tmp_path / "site.db")
    return url, build_site(url)


def test_the_copy_covers_every_table_the_schema_declares(tmp_path) -> None:
    """The tables copied are those of the ledger's and the fleet's metadata, and they are
    exactly the tables a site opened by the ledger, task store and durable state holds."""
    copied = {t.name for t in site_tables(SITE_SCHEMA)}
    declared = set(metadata.tables) | set(durable_tables.tables) | {task_events.name}
    assert copied == declared
    url = str(tmp_path / "site.db")
    Ledger.open(url).close()
    SqlTaskStore(url).close()
    DurableFleet(url).close()
    db = open_database(parse_url(url), read_only=True)
    try:
        assert db.table_names() == copied
    finally:
        db.close()
    assert set(copy_site(url, str(tmp_path / "copy.db")).rows) == declared


def test_every_schema_part_and_metadata_in_the_packages_is_part_of_the_site() -> None:
    """A package that declares tables (a module-level `SchemaPart` or `MetaData`) in wms or
    fleet has them in `SITE_SCHEMA`, so a new part cannot be forgotten by the copy."""
    copied = {t.name for t in site_tables(SITE_SCHEMA)}
    found = []
    for package in (wms, fleet):
        for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            module = importlib.import_module(info.name)
            for name, value in vars(module).items():
                if isinstance(value, SchemaPart):
                    assert value in SITE_SCHEMA, f"{info.name}.{name} is not in SITE_SCHEMA"
                    found.append(value)
                elif isinstance(value, sa.MetaData):
                    missing = set(value.tables) - copied
                    assert not missing, f"{info.name}.{name}: {sorted(missing)} not copied"
    assert set(map(id, found)) == set(map(id, SITE_SCHEMA))


def test_a_table_added_to_a_part_is_copied_without_changing_the_copy(tmp_path) -> None:
    """The list is derived from the metadata: a new part's table (created the normal way)
    is carried with its rows, and a source holding a table no part declares is refused."""
    extra = sa.MetaData()
    sa.Table(
        "future_log", extra, sa.Column("n", sa.Integer, primary_key=True), sa.Column("x", sa.Text)
    )
    part = SchemaPart(extra, {"sqlite": (), "postgresql": ()})
    src = str(tmp_path / "src.db")
    tiny_ledger(src).close()
    db = open_database(parse_url(src))
    with db.create_tables(part):
        pass
    db.begin_write()
    db.executemany("INSERT INTO future_log (n, x) VALUES (?, ?)", [(1, "a"), (2, "b")])
    db.commit()
    db.close()
    report = copy_parts(src, str(tmp_path / "dst.db"), (LEDGER_SCHEMA, part))
    assert report.rows["future_log"] == 2
    with pytest.raises(UnsupportedDatabase, match=r"does not know .*future_log"):
        copy_parts(src, str(tmp_path / "dst2.db"), (LEDGER_SCHEMA,))
    assert not (tmp_path / "dst2.db").exists()


def test_sqlite_to_postgresql_to_sqlite_keeps_every_row(
    sqlite_site, postgres_database: str, postgres_server, tmp_path
) -> None:
    """Round trip: every table equal, row for row, and the task log in its append order;
    the source file is not changed by a byte. PostgreSQL to PostgreSQL works as well."""
    src, events = sqlite_site
    before = dump(src)
    digest = file_digest(Path(src))
    there = copy_site(src, postgres_database)
    assert there.balance.ok and there.missing == ()
    assert there.rows == {name: len(rows) for name, rows in before.items()}
    assert all(before[name] for name in before), "the site fixture leaves a table empty"
    back = tmp_path / "back" / "site.db"
    copy_site(postgres_database, str(back))
    other = create_database(postgres_server)
    try:
        copy_site(postgres_database, other)
        assert file_digest(Path(src)) == digest
        for url in (postgres_database, str(back), other):
            assert dump(url) == before, url
            store = SqlTaskStore(url)
            assert list(store.events()) == events
            store.close()
    finally:
        drop_database(postgres_server, other.split("/")[3].split("?")[0])


def test_the_copied_site_carries_on_on_postgresql(sqlite_site, postgres_database: str) -> None:
    """The copy opens with the normal code: receipts and picks book with new ids past the
    copied ones, the task store resumes its tasks, the durable state restarts, and the
    append-only triggers hold."""
    src, events = sqlite_site
    copy_site(src, postgres_database)
    with Ledger.open(postgres_database, must_exist=True) as ledger:
        last = max(m.movement_id for m in ledger.movements())
        received = ledger.receive("C", "R1", 4, ref="po-10")
        picked = ledger.pick("C", "R1", 3, ref="order-3")
        assert (received, picked) == (last + 1, last + 2)
        assert ledger.reserve("C", "R1", 1) > 1  # reservations continue past the copied ids
        assert ledger.balance_check().ok
    store = SqlTaskStore(postgres_database)
    book = TaskBook.replay(store.events())
    assert book.get("t1").robot == "sim/r0" and book.get("t2").status is TaskStatus.QUEUED
    store.append([book.transition("t2", TaskStatus.ASSIGNED, 2.0, robot="sim/r1")])
    assert [e.task_id for e in store.events()] == ["t1", "t2", "t1", "t2"]
    assert list(store.events())[: len(events)] == events
    store.close()
    durable = DurableFleet(postgres_database)
    resume = durable.begin()
    assert resume.incarnation == 1 and resume.robots == ("sim/r0",)
    assert durable.loads() == {"pod-7": ((12, 3), "sim/r0")}
    durable.close()
    with psycopg.connect(postgres_database, autocommit=True) as conn:
        for table in ("movements", "fleet_task_events", "fleet_orders"):
            with pytest.raises(psycopg.IntegrityError, match="append-only"):
                conn.execute(f"DELETE FROM {table}")


def test_cli_copies_and_reports_json(sqlite_site, postgres_database: str, capsys) -> None:
    """`warehouse db copy --from F --to URL --json` reports tables, rows and the balance."""
    src, _ = sqlite_site
    assert main(["db", "copy", "--from", src, "--to", postgres_database, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["tables"] == len(site_tables(SITE_SCHEMA))
    assert report["rows"] == sum(len(rows) for rows in dump(src).values())
    assert report["balance"]["ok"] is True


def refused(argv: list[str], capsys) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    return err


def test_a_target_that_is_not_empty_is_refused_unchanged(
    sqlite_site, postgres_database: str, tmp_path, capsys
) -> None:
    """A target holding a site, or anyone's tables, is refused before anything is written."""
    src, _ = sqlite_site
    with psycopg.connect(postgres_database, autocommit=True) as conn:
        conn.execute("CREATE TABLE invoices (id int)")
    err = refused(["db", "copy", "--from", src, "--to", postgres_database], capsys)
    assert "is not empty" in err and "invoices" in err
    assert pg_tables(postgres_database) == ["invoices"]
    other = tmp_path / "other.db"
    tiny_ledger(str(other)).close()
    digest = file_digest(other)
    err = refused(["db", "copy", "--from", src, "--to", str(other)], capsys)
    assert "is not empty" in err
    assert file_digest(other) == digest


def not_site_databases(folder: Path) -> tuple[Path, Path, Path]:
    """SQLite files that are not site databases of this build: someone else's, one with
    someone else's `meta` table, and a ledger of an older schema version."""
    foreign = folder / "foreign.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
    odd = folder / "odd.db"
    with sqlite3.connect(odd) as conn:
        conn.execute("CREATE TABLE meta (a, b)")  # someone else's table of that name
    old = folder / "old.db"
    tiny_ledger(str(old)).close()
    with sqlite3.connect(old) as conn:
        conn.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    return foreign, odd, old


def test_a_source_that_is_not_a_site_is_refused(postgres_database: str, tmp_path, capsys) -> None:
    """Someone else's file (or `meta` table), an empty database, a missing file, an older
    schema: one line each (no CLI flags named by the library); the target stays empty."""
    foreign, odd, old = not_site_databases(tmp_path)
    cases = {
        str(foreign): "without a ledger in it): copy from a site database",
        str(tmp_path / "missing.db"): "no database file there",
        str(odd): "not a site database (no such column",
        postgres_database: "it is empty",
        str(old): "schema version 3, this build copies version 4: open it once",
    }
    target = tmp_path / "new" / "target.db"
    for source, reason in cases.items():
        err = refused(["db", "copy", "--from", source, "--to", str(target)], capsys)
        assert reason in err and "--" not in err.split("error: ", 1)[1], err
        assert not target.exists() and not target.parent.exists()
    assert pg_tables(postgres_database) == []
    refused(["db", "copy", "--from", str(old), "--to", postgres_database], capsys)
    assert pg_tables(postgres_database) == []


def test_bad_urls_are_one_line(tmp_path, capsys) -> None:
    """An unknown scheme, an in-memory database, a folder: one line, exit 2, nothing made."""
    src = str(tmp_path / "site.db")
    tiny_ledger(src).close()
    for argv in (
        ["--from", "mysql://host/db", "--to", str(tmp_path / "a.db")],
        ["--from", src, "--to", "mysql://host/db"],
        ["--from", src, "--to", ":memory:"],
        ["--from", src, "--to", str(tmp_path)],
        ["--from", src, "--to", "postgresql://nobody@/nowhere?host=/nonexistent&port=1"],
    ):
        refused(["db", "copy", *argv], capsys)
    # Only the source is there (with the WAL index files any reader of a WAL file makes).
    assert {p.name for p in tmp_path.iterdir()} <= {"site.db", "site.db-wal", "site.db-shm"}


def test_a_failed_copy_leaves_the_target_as_it_was(
    tmp_path, postgres_database: str, postgres_server
) -> None:
    """A value the target refuses mid-copy (a NUL in an SQLite text) rolls back the whole
    copy, tables included; a PostgreSQL ledger with an id gap cannot become SQLite (a gap is
    a removed row there): the verification refuses it and the file it began is removed."""
    src = str(tmp_path / "nul.db")
    with tiny_ledger(src) as ledger:
        ledger.receive("A", "R1", 3)
    with sqlite3.connect(src) as conn:
        conn.execute("UPDATE skus SET description = ? WHERE sku = 'C'", ("a\x00b",))
    with pytest.raises(LedgerError, match="nothing written"):
        copy_site(src, postgres_database)
    assert pg_tables(postgres_database) == []

    gappy = create_database(postgres_server)
    try:
        with tiny_ledger(gappy) as ledger:
            ledger.receive("A", "R1", 3)
            ledger._db.execute(
                "SELECT setval(pg_get_serial_sequence('movements', 'movement_id'), 10)"
            )
            ledger.receive("A", "R1", 2)
        target = tmp_path / "from_pg.db"
        with pytest.raises(LedgerError, match=r"balance check differs.*ids run to 11"):
            copy_site(gappy, str(target))
        assert not target.exists()
    finally:
        drop_database(postgres_server, gappy.split("/")[3].split("?")[0])


def test_two_copies_into_one_database_at_once_leave_one_site(
    sqlite_site, postgres_database: str
) -> None:
    """Two copies started together into the same empty database: one copies, the other
    is refused as the target is no longer empty (checked again under the writer lock)."""
    src, _ = sqlite_site
    outcomes: list[object] = []

    def copy() -> None:
        try:
            outcomes.append(copy_site(src, postgres_database))
        except LedgerError as error:
            outcomes.append(error)

    threads = [threading.Thread(target=copy) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    refusals = [o for o in outcomes if isinstance(o, LedgerError)]
    assert len(outcomes) == 2 and len(refusals) == 1, outcomes
    assert "is not empty" in str(refusals[0])
    assert dump(postgres_database) == dump(src)
