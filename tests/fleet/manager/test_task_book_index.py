"""The task book's index of open tasks agrees with a scan of every task, whatever happens."""

from __future__ import annotations

import contextlib
import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from fleet.manager.model import Stop, TaskKind, TaskSpec, TaskStatus
from fleet.manager.tasks import TaskBook, TaskError

SPEC = TaskSpec("t", TaskKind.PICK_ROUTE, (Stop((1, 1)), Stop((2, 3))))

STEPS = st.lists(
    st.tuples(st.integers(0, 5), st.sampled_from(list(TaskStatus))), min_size=1, max_size=40
)


@settings(max_examples=80, deadline=None)
@given(STEPS)
def test_open_index_matches_a_scan(steps: list[tuple[int, TaskStatus]]) -> None:
    """After any sequence of submissions and (legal or refused) transitions, `open` is the
    tasks not in a final state in submission order, and a replay of the log agrees."""
    book = TaskBook()
    log = []
    for i, (n, status) in enumerate(steps):
        task_id = f"t{n}"
        if task_id not in book:
            log.append(book.submit(dataclasses.replace(SPEC, task_id=task_id), float(i)))
            continue
        with contextlib.suppress(TaskError):
            log.append(book.transition(task_id, status, float(i), robot="a/r1"))
        scan = [t for t in book if not t.status.final]
        assert book.open() == scan
        assert book.queued() == [t for t in scan if t.status is TaskStatus.QUEUED]
    assert TaskBook.replay(log).open() == book.open()
