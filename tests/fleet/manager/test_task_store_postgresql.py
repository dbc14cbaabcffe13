"""The task event store on a real PostgreSQL server, in the ledger's database."""

from __future__ import annotations

import psycopg
import pytest

from fleet.manager.model import Stop, StopAction, TaskKind, TaskSpec, TaskStatus
from fleet.manager.store import open_store
from fleet.manager.tasks import TaskBook
from wms.ledger.demo import tiny_ledger

SPEC = TaskSpec("t1", TaskKind.PICK_ROUTE, (Stop((5, 6), StopAction.STATION),), priority=2)


def test_store_shares_the_ledger_database_and_is_append_only(postgres_database: str) -> None:
    """Events round-trip in order, a replayed batch is stored once, and the database
    refuses UPDATE, DELETE and TRUNCATE of the log."""
    tiny_ledger(postgres_database).close()
    book = TaskBook()
    events = [book.submit(SPEC, 0.0), book.transition("t1", TaskStatus.ASSIGNED, 1.5, robot="a/r")]
    store = open_store(postgres_database)
    store.append(events)
    store.append(events)
    store.close()
    again = open_store(postgres_database)
    assert list(again.events()) == events
    again.close()
    with psycopg.connect(postgres_database, autocommit=True) as conn:
        for statement in (
            "UPDATE fleet_task_events SET status = 'done'",
            "DELETE FROM fleet_task_events",
            "TRUNCATE fleet_task_events",
        ):
            with pytest.raises(psycopg.IntegrityError, match="append-only"):
                conn.execute(statement)
        assert conn.execute("SELECT COUNT(*) FROM fleet_task_events").fetchone()[0] == 2
