"""Task lifecycle, event replay and the append-only task store."""

from __future__ import annotations

import contextlib
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleet.manager.model import PickLine, Stop, StopAction, TaskKind, TaskSpec, TaskStatus
from fleet.manager.store import SqliteTaskStore, spec_from_dict, spec_to_dict
from fleet.manager.tasks import TaskBook, TaskError
from wms.ledger import Ledger

SPEC = TaskSpec(
    "t1",
    TaskKind.PICK_ROUTE,
    (
        Stop((3, 4), StopAction.PICK_LINES, lines=(PickLine("b/0", "o1", "SKU1", 2, "L1", 7),)),
        Stop((5, 6), StopAction.STATION),
    ),
    priority=2,
    due_s=300.0,
)


def test_lifecycle_refuses_illegal_steps() -> None:
    """queued → done is refused and leaves the task as it was; final states are final."""
    book = TaskBook()
    book.submit(SPEC, 0.0)
    with pytest.raises(TaskError):
        book.transition("t1", TaskStatus.DONE, 1.0)
    assert book.get("t1").status is TaskStatus.QUEUED
    book.transition("t1", TaskStatus.ASSIGNED, 1.0, robot="a/r1")
    book.transition("t1", TaskStatus.ACTIVE, 2.0, robot="a/r1")
    book.transition("t1", TaskStatus.DONE, 3.0)
    with pytest.raises(TaskError):
        book.transition("t1", TaskStatus.QUEUED, 4.0)
    with pytest.raises(TaskError):
        book.get("nope")


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from(["assign", "activate", "requeue", "stop"]), max_size=12))
def test_replay_is_idempotent(steps: list[str]) -> None:
    """Replaying a log, even twice over and shuffled by duplicates, rebuilds the same book."""
    book = TaskBook()
    log = [book.submit(SPEC, 0.0)]
    moves = {
        "assign": TaskStatus.ASSIGNED,
        "activate": TaskStatus.ACTIVE,
        "requeue": TaskStatus.QUEUED,
        "stop": TaskStatus.ACTIVE,
    }
    for i, step in enumerate(steps):
        with contextlib.suppress(TaskError):
            log.append(book.transition("t1", moves[step], float(i), robot="a/r1"))
    twice = [e for e in log for _ in range(2)]
    again = TaskBook.replay(log + twice)
    assert again.get("t1") == book.get("t1")


def test_spec_round_trips_through_json() -> None:
    """A task spec survives the store's encoding unchanged."""
    assert spec_from_dict(spec_to_dict(SPEC)) == SPEC


def test_sqlite_store_is_append_only_and_deduplicates(tmp_path) -> None:
    """Appending an event twice keeps one; UPDATE and DELETE are refused by the database."""
    db = tmp_path / "site.db"
    Ledger.open(str(db)).close()
    store = SqliteTaskStore(str(db))
    book = TaskBook()
    events = [book.submit(SPEC, 0.0), book.transition("t1", TaskStatus.ASSIGNED, 1.0, robot="a/r")]
    store.append(events)
    store.append(events)
    assert list(store.events()) == events
    store.close()
    conn = sqlite3.connect(db)
    with pytest.raises(sqlite3.DatabaseError):
        conn.execute("UPDATE fleet_task_events SET status = 'done'")
    with pytest.raises(sqlite3.DatabaseError):
        conn.execute("DELETE FROM fleet_task_events")
    conn.close()
    reopened = SqliteTaskStore(str(db))
    assert TaskBook.replay(reopened.events()).get("t1").status is TaskStatus.ASSIGNED
    reopened.close()


def test_confirmed_moves_and_picks_book_once(tmp_path) -> None:
    """A robot's replenishment move and a pick, each confirmed twice, are booked once."""
    from wms.inventory_types import LocationKind
    from wms.ledger import LocationRecord, SkuRecord

    ledger = Ledger.open(str(tmp_path / "l.db"))
    ledger.add_skus([SkuRecord("S")])
    ledger.add_locations(
        [LocationRecord("F", LocationKind.FORWARD), LocationRecord("R", LocationKind.RESERVE)]
    )
    ledger.receive("S", "R", 10)
    assert ledger.confirm_move("m1", "S", "R", "F", 4)
    assert not ledger.confirm_move("m1", "S", "R", "F", 4)
    assert ledger.confirm_pick("p1", "S", "F", 3)
    assert not ledger.confirm_pick("p1", "S", "F", 3)
    assert (ledger.on_hand("S", "F"), ledger.on_hand("S", "R")) == (1, 6)
    assert ledger.balance_check().ok
    ledger.close()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 5),
            st.sampled_from(list(TaskStatus)),
        ),
        max_size=40,
    )
)
def test_open_tasks_are_the_unfinished_ones_in_submission_order(steps) -> None:
    """`open()` (kept as an index, not a scan) always equals the unfinished tasks in submission
    order, also after a replay, whatever the lifecycle steps; `queued()` is its QUEUED part."""
    book = TaskBook()
    log = []
    for i in range(6):
        log.append(book.submit(TaskSpec(f"t{i}", TaskKind.MOVE, (Stop((1, i)),)), 0.0))
    for n, (i, status) in enumerate(steps):
        with contextlib.suppress(TaskError):
            log.append(book.transition(f"t{i}", status, float(n), robot="a/r1"))
        unfinished = [t for t in book if not t.status.final]
        assert book.open() == unfinished
        assert book.queued() == [t for t in unfinished if t.status is TaskStatus.QUEUED]
    assert TaskBook.replay(log).open() == book.open()
