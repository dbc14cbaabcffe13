"""A task book whose events are durable keeps only the newest finished tasks in memory.

In lifelong operation the finished tasks outnumber the open ones without bound; with
`TaskBook.retain` the book's size stays bounded by the open tasks plus ``keep``, the
running counts still cover every task, and a forgotten id is still refused (the
store remembers it).
"""

from __future__ import annotations

import pytest

from fleet.manager.core import FleetCore, ManagerRefused
from fleet.manager.events import TaskEvent
from fleet.manager.model import Stop, TaskKind, TaskSpec, TaskStatus
from fleet.manager.store import MemoryTaskStore, SqlTaskStore, TaskStore
from fleet.manager.tasks import TaskBook, TaskError
from tests.fleet.manager.world import ACCESS, FLOOR


def spec(n: int) -> TaskSpec:
    return TaskSpec(f"t{n}", TaskKind.PICK_ROUTE, (Stop(ACCESS[0]), Stop(ACCESS[1])))


def finish(book: TaskBook, store: TaskStore, n: int, status: TaskStatus) -> None:
    """Submit task ``n`` and take it to ``status``, its events stored as the service does."""
    events = [book.submit(spec(n), float(n))]
    events.append(book.transition(f"t{n}", TaskStatus.ASSIGNED, float(n), robot="a/r1"))
    if status is not TaskStatus.CANCELLED:
        events.append(book.transition(f"t{n}", TaskStatus.ACTIVE, float(n), robot="a/r1"))
    events.append(book.transition(f"t{n}", status, float(n)))
    store.append(events)


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_finished_tasks_are_forgotten_but_counted_and_their_ids_refused(
    backend: str, tmp_path
) -> None:
    store: TaskStore = (
        MemoryTaskStore() if backend == "memory" else SqlTaskStore(tmp_path / "site.db")
    )
    book = TaskBook()
    book.retain(10, store.has_task)
    open_ids = []
    for n in range(500):
        if n % 50 == 0:  # a few stay open all along
            store.append([book.submit(spec(n), float(n))])
            open_ids.append(f"t{n}")
            continue
        finish(book, store, n, TaskStatus.CANCELLED if n % 7 == 0 else TaskStatus.DONE)
        assert len(book) <= 10 + len(open_ids)
    assert len(book) == 10 + len(open_ids)
    assert [t.task_id for t in book.open()] == open_ids
    assert book.finished[TaskStatus.DONE] + book.finished[TaskStatus.CANCELLED] == 490
    assert book.finished[TaskStatus.CANCELLED] == sum(
        1 for n in range(500) if n % 50 and n % 7 == 0
    )
    assert book.forgotten == 480
    assert [t.task_id for t in book if t.status.final] == [f"t{n}" for n in range(490, 500)]
    assert "t3" in book  # forgotten, but the store knows it
    assert "t-never" not in book
    with pytest.raises(TaskError, match="only the store keeps it"):
        book.get("t3")
    with pytest.raises(TaskError, match="exists already"):
        book.submit(spec(3), 600.0)
    # The store still has every event: a replay rebuilds the whole day.
    replayed = TaskBook.replay(store.events())
    assert len(replayed) == 500
    assert replayed.finished == book.finished
    store.close()


def test_the_core_refuses_a_forgotten_id(tmp_path) -> None:
    core = FleetCore(FLOOR)
    store = SqlTaskStore(tmp_path / "site.db")
    core.tasks.retain(1, store.has_task)
    for n in range(3):
        core.submit(spec(n))
        core.cancel(f"t{n}")
        store.append([c for c in core._flush() if isinstance(c, TaskEvent)])
    assert len(core.tasks) == 1
    with pytest.raises(ManagerRefused, match="exists already"):
        core.submit(spec(0))
    store.close()


def test_keep_must_leave_the_newest_finished_task() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        TaskBook().retain(0, lambda _: False)
