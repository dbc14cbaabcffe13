"""The robots' durable state on both backends: an SQLite file and a real PostgreSQL server.

What is stored comes back as the resume; every table refuses to be rewritten by hand
(UPDATE, DELETE, a REPLACE on SQLite, TRUNCATE on PostgreSQL); and a manager crashed
mid-work and rebuilt from a PostgreSQL database finishes every task as on SQLite.
"""

from __future__ import annotations

import sqlite3
import subprocess

import psycopg
import pytest

from fleet.manager.durable import LOGS, DurableFleet
from fleet.manager.events import CellsBlocked, LoadLeft, RobotPlaced, SendOrder, TaskEvent
from fleet.manager.model import Stop, StopAction, TaskKind, TaskSpec
from fleet.manager.resume import FleetResume
from fleet.manager.store import SqlTaskStore
from fleet.manager.tasks import TaskBook
from fleet.protocol.positions import path_nodes_edges
from tests.fleet.manager.test_crash_recovery import crash_and_restore
from tests.fleet.manager.world import FLOOR
from tests.pg_server import PostgresServer, create_database, drop_database, find_bin_dir
from wms.errors import InputError
from wms.ledger import Ledger
from wms.ledger.demo import tiny_ledger


@pytest.fixture
def site(site_url: str) -> str:
    """A site database with the ledger in it, on each backend."""
    Ledger.open(site_url).close()
    return site_url


def test_durable_fleet_round_trips(site: str) -> None:
    """The resume holds the registry in number order, each robot's latest order or
    placement, the blocked cells, left loads and the incarnation; an update stored again
    with the same id (re-sent after a restart) supersedes the first."""
    durable = DurableFleet(site)
    first = durable.begin()
    assert first.incarnation == 0 and first.latest == {}
    nodes, edges = path_nodes_edges(FLOOR, [(29, 2), (29, 3), (29, 4)], 2)
    durable.record(
        [
            RobotPlaced("sim/r1", 1, (29, 6)),
            RobotPlaced("sim/r0", 0, (29, 2)),
            SendOrder("sim/r0", "r0-1~t", 0, nodes, edges, 0, "t"),
            CellsBlocked(((5, 5), (5, 6))),
            CellsBlocked(((5, 6),), blocked=False),
            LoadLeft("sim/r1", "pod-7", (12, 3), "t9", TaskKind.PICK_ROUTE),
        ]
    )
    again, _ = path_nodes_edges(FLOOR, [(29, 3), (29, 4)], 2, 2)
    durable.record([SendOrder("sim/r0", "r0-1~t", 1, again, (), 2, "t")])
    other, _ = path_nodes_edges(FLOOR, [(29, 3)], 1, 2)
    durable.record([SendOrder("sim/r0", "r0-1~t", 1, other, (), 2, "t")])  # re-sent
    durable.record([RobotPlaced("sim/r0", 5, (29, 2))])  # registered again: keeps number 0
    durable.close()
    durable = DurableFleet(site)
    resume = durable.begin()
    assert resume.incarnation == 1
    assert resume.robots == ("sim/r0", "sim/r1")
    assert resume.latest == {"sim/r0": (29, 2), "sim/r1": (29, 6)}
    assert resume.entry["sim/r0"] > resume.entry["sim/r1"]
    assert resume.blocked == frozenset({(5, 5)})
    assert resume.orders_started == {"sim/r0": 1}
    updates = resume.orders["sim/r0"]["r0-1~t"]
    assert [u.update_id for u in updates] == [0, 1]
    assert [n.sequence_id for n in updates[1].nodes] == [2]
    assert updates[0].task_id == "t" and updates[0].horizon and not updates[1].horizon
    assert durable.loads() == {"pod-7": ((12, 3), "sim/r1")}
    assert durable.begin().incarnation == 2
    durable.close()


def _stored(site: str) -> DurableFleet:
    durable = DurableFleet(site)
    durable.begin()
    nodes, edges = path_nodes_edges(FLOOR, [(29, 2), (29, 3)], 2)
    durable.record(
        [
            RobotPlaced("sim/r0", 0, (29, 2)),
            SendOrder("sim/r0", "r0-1~t", 0, nodes, edges, 0, "t"),
            CellsBlocked(((5, 5),)),
            LoadLeft("sim/r0", "pod-7", (12, 3), "t", TaskKind.PICK_ROUTE),
        ]
    )
    return durable


def test_every_table_is_append_only_on_sqlite(tmp_path) -> None:
    """A plain sqlite3 connection (no recursive_triggers, as any tool opens the file) can
    neither UPDATE, DELETE nor REPLACE a stored row of any durable table."""
    db = tmp_path / "site.db"
    Ledger.open(str(db)).close()
    durable = _stored(str(db))
    before = durable.resume()
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        for table, key in LOGS.items():
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                conn.execute(f"UPDATE {table} SET {key[0]} = {key[0]}")
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                conn.execute(f"DELETE FROM {table}")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute(
                "REPLACE INTO fleet_orders SELECT entry, robot, 'x', 9, 0, 0, NULL, '[]'"
                " FROM fleet_orders"
            )
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("INSERT OR REPLACE INTO fleet_starts (incarnation) VALUES (0)")
        conn.execute("INSERT OR REPLACE INTO fleet_robots (robot, number) VALUES ('sim/r0', 9)")
        assert conn.execute("SELECT number FROM fleet_robots").fetchall() == [(0,)]
    finally:
        conn.close()
    assert durable.resume() == before
    durable.close()


def test_every_table_is_append_only_on_postgresql(postgres_database: str) -> None:
    """On PostgreSQL every durable table refuses UPDATE (so ON CONFLICT DO UPDATE too),
    DELETE and TRUNCATE from any connection, and the stored state is unchanged."""
    Ledger.open(postgres_database).close()
    durable = _stored(postgres_database)
    before = durable.resume()
    with psycopg.connect(postgres_database, autocommit=True) as conn:
        for table, key in LOGS.items():
            for statement in (
                f"UPDATE {table} SET {key[0]} = {key[0]}",
                f"DELETE FROM {table}",
                f"TRUNCATE {table}",
            ):
                with pytest.raises(psycopg.IntegrityError, match="append-only"):
                    conn.execute(statement)
        with pytest.raises(psycopg.IntegrityError, match="append-only"):
            conn.execute(
                "INSERT INTO fleet_robots (robot, number) VALUES ('sim/r0', 9)"
                " ON CONFLICT (robot) DO UPDATE SET number = 9"
            )
        with pytest.raises(psycopg.IntegrityError):  # an entry number used twice
            conn.execute(
                "INSERT INTO fleet_blocks (entry, cell_row, cell_col, blocked)"
                " SELECT MAX(entry), 1, 1, 1 FROM fleet_blocks"
            )
    assert durable.resume() == before
    durable.close()


def test_the_task_log_keeps_a_replaced_event_on_sqlite(tmp_path) -> None:
    """INSERT OR REPLACE of a stored task event leaves the stored one (SQLite)."""
    db = tmp_path / "site.db"
    Ledger.open(str(db)).close()
    store = SqlTaskStore(str(db))
    event = TaskBook().submit(TaskSpec("t1", TaskKind.MOVE, (Stop((5, 6), StopAction.NONE),)), 0.0)
    store.append([event])
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute(
        "INSERT OR REPLACE INTO fleet_task_events (task_id, seq, status, at_s, stop_index)"
        " VALUES ('t1', 1, 'cancelled', 9.0, 0)"
    )
    conn.close()
    assert list(store.events()) == [event]
    store.close()


def test_a_database_that_is_not_the_sites_is_refused(tmp_path) -> None:
    """A file with other tables in it is refused with one line, and left as it was."""
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.close()
    with pytest.raises(InputError, match="not a ledger database"):
        DurableFleet(str(other))
    conn = sqlite3.connect(other)
    assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["notes"]
    conn.close()


@pytest.mark.parametrize("crash", ["tick", "after_write", "at_pick"])
def test_core_crash_and_restore_on_postgresql(postgres_database: str, crash: str) -> None:
    """The crash test's run (kill the manager mid-work, the robots drive on, rebuild it
    from the database) on PostgreSQL: every task done, every pick confirmed, no violation."""
    crash_and_restore(postgres_database, crash_tick=60, outage_ticks=6, crash=crash, seed=11)


def _site_on(url: str) -> tuple[FleetResume, list[TaskEvent]]:
    """A PostgreSQL site with stock, a task event and durable robot state; what it holds."""
    tiny_ledger(url).close()
    store = SqlTaskStore(url)
    events = [TaskBook().submit(TaskSpec("t1", TaskKind.MOVE, (Stop((5, 6)),)), 0.0)]
    store.append(events)
    store.close()
    durable = _stored(url)
    resume = durable.resume()
    durable.close()
    return resume, events


def _read_site(url: str) -> tuple[FleetResume, list[TaskEvent]]:
    durable, store = DurableFleet(url), SqlTaskStore(url)
    try:
        return durable.resume(), list(store.events())
    finally:
        durable.close()
        store.close()


def test_backup_and_restore_cover_the_fleet_tables(postgres_server: PostgresServer) -> None:
    """docs/operations.md's pg_dump / pg_restore of a site brings back the ledger, the
    task log and the robots' durable state, still append-only."""
    source = create_database(postgres_server)
    target = create_database(postgres_server)
    try:
        before = _site_on(source)
        bin_dir = find_bin_dir()
        assert bin_dir is not None
        dump = subprocess.run(
            [str(bin_dir / "pg_dump"), "--format=custom", f"--dbname={source}"],
            capture_output=True,
            check=True,
            timeout=120,
        ).stdout
        subprocess.run(
            [str(bin_dir / "pg_restore"), "--no-owner", f"--dbname={target}"],
            input=dump,
            capture_output=True,
            check=True,
            timeout=120,
        )
        assert _read_site(target) == before
        with Ledger.open(target) as ledger:
            assert ledger.balance_check().ok
        with psycopg.connect(target, autocommit=True) as conn:
            for table in (*LOGS, "fleet_task_events"):
                with pytest.raises(psycopg.IntegrityError, match="append-only"):
                    conn.execute(f"TRUNCATE {table}")
    finally:
        for url in (source, target):
            drop_database(postgres_server, url.split("/")[3].split("?")[0])


def test_a_service_role_that_owns_nothing_runs_the_site(postgres_database: str) -> None:
    """The set-up of docs/operations.md: the owner creates ledger and fleet tables, a
    service role that may only read and write opens all three, works, and can neither
    rewrite a log nor switch its triggers off."""
    _site_on(postgres_database)
    with psycopg.connect(postgres_database, autocommit=True) as owner:
        owner.execute("DROP ROLE IF EXISTS wms_service")
        owner.execute("CREATE ROLE wms_service LOGIN")
        owner.execute("GRANT USAGE ON SCHEMA public TO wms_service")
        owner.execute("GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO wms_service")
        owner.execute("GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO wms_service")
    service = postgres_database.replace("postgresql://postgres@", "postgresql://wms_service@")
    try:
        Ledger.open(service).close()
        durable = DurableFleet(service)
        assert durable.begin().incarnation == 1
        durable.record([RobotPlaced("sim/r1", 1, (29, 6))])
        durable.close()
        store = SqlTaskStore(service)
        store.append([TaskBook().submit(TaskSpec("t2", TaskKind.MOVE, (Stop((5, 7)),)), 1.0)])
        store.close()
        with psycopg.connect(service, autocommit=True) as conn:
            with pytest.raises(psycopg.IntegrityError, match="append-only"):
                conn.execute("UPDATE fleet_orders SET update_id = 7")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("ALTER TABLE fleet_orders DISABLE TRIGGER USER")
        resume, events = _read_site(service)
        assert resume.robots == ("sim/r0", "sim/r1") and len(events) == 2
    finally:
        with psycopg.connect(postgres_database, autocommit=True) as owner:
            owner.execute("DROP OWNED BY wms_service")
            owner.execute("DROP ROLE wms_service")


def test_a_service_role_without_the_fleet_tables_gets_one_line(postgres_database: str) -> None:
    """A role that may not create tables, on a site whose fleet tables were never made,
    is told so in one line (no traceback, nothing written)."""
    tiny_ledger(postgres_database).close()
    with psycopg.connect(postgres_database, autocommit=True) as owner:
        owner.execute("DROP ROLE IF EXISTS wms_reader")
        owner.execute("CREATE ROLE wms_reader LOGIN")
        owner.execute("GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO wms_reader")
    service = postgres_database.replace("postgresql://postgres@", "postgresql://wms_reader@")
    try:
        for opening in (DurableFleet, SqlTaskStore):
            with pytest.raises(InputError, match="cannot set up the fleet tables") as refused:
                opening(service)
            assert "\n" not in str(refused.value)
        with psycopg.connect(postgres_database) as conn:
            assert conn.execute("SELECT to_regclass('fleet_orders')").fetchone() == (None,)
    finally:
        with psycopg.connect(postgres_database, autocommit=True) as owner:
            owner.execute("DROP OWNED BY wms_reader")
            owner.execute("DROP ROLE wms_reader")
