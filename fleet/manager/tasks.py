"""The task book: every task's lifecycle, as an append-only list of events.

``queued → assigned → active → done | failed | cancelled``. A task may go back
from ``assigned`` or ``active`` to ``queued`` (its robot failed, or a better
robot takes a task not yet started); final states are final. Every change is a
`TaskEvent` with the task's next ``seq``, so the store keeps exactly the events
and `TaskBook.replay` rebuilds the same book from them, skipping duplicates.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from fleet.manager.events import TaskEvent
from fleet.manager.model import Stop, TaskSpec, TaskStatus

ALLOWED: dict[TaskStatus, frozenset[TaskStatus]] = {
    TaskStatus.QUEUED: frozenset({TaskStatus.ASSIGNED, TaskStatus.FAILED, TaskStatus.CANCELLED}),
    TaskStatus.ASSIGNED: frozenset(
        {
            TaskStatus.QUEUED,
            TaskStatus.ASSIGNED,
            TaskStatus.ACTIVE,
            TaskStatus.FAILED,
            TaskStatus.CANCELLED,
        }
    ),
    TaskStatus.ACTIVE: frozenset(
        {
            TaskStatus.QUEUED,
            TaskStatus.ACTIVE,
            TaskStatus.DONE,
            TaskStatus.FAILED,
            TaskStatus.CANCELLED,
        }
    ),
    TaskStatus.DONE: frozenset(),
    TaskStatus.FAILED: frozenset(),
    TaskStatus.CANCELLED: frozenset(),
}
"""Legal transitions; ``ACTIVE → ACTIVE`` records a stop completed."""


class TaskError(ValueError):
    """An illegal lifecycle step or an unknown task: the book is unchanged."""


@dataclass(frozen=True, slots=True)
class Task:
    spec: TaskSpec
    status: TaskStatus
    robot: str | None
    stop_index: int
    """The next stop to visit (stops before it are done)."""
    priority: int
    seq: int
    created_s: float
    updated_s: float
    reason: str | None = None
    sequence: tuple[int, ...] | None = None
    """The visiting order chosen for the stops (indices into ``spec.stops``), if re-sequenced."""

    @property
    def stops(self) -> tuple[Stop, ...]:
        """The stops in visiting order; ``stop_index`` counts along these."""
        if self.sequence is None:
            return self.spec.stops
        return tuple(self.spec.stops[i] for i in self.sequence)

    @property
    def task_id(self) -> str:
        return self.spec.task_id

    @property
    def started(self) -> bool:
        return self.status is TaskStatus.ACTIVE

    def as_dict(self) -> dict[str, object]:
        return {
            "task_id": self.task_id,
            "kind": self.spec.kind.value,
            "status": self.status.value,
            "robot": self.robot,
            "priority": self.priority,
            "stop_index": self.stop_index,
            "stops": [list(s.cell) for s in self.stops],
            "due_s": self.spec.due_s,
            "reason": self.reason,
        }


class TaskBook:
    """Every task in memory, or, once `retain` is on, the open ones and the newest finished.

    In lifelong operation finished tasks outnumber open ones without bound (about a
    thousand an hour with a hundred robots). The store keeps every event, so a book
    whose events are durable may forget all but the newest ``keep`` finished tasks
    (`retain`); it still refuses a forgotten id (``archived`` asks the store) and keeps
    how many tasks ended in each final state (`finished`) as running counts.
    """

    def __init__(self) -> None:
        self._tasks: dict[str, Task] = {}
        self._order: dict[str, None] = {}
        """Ids in submission order (a dict: a forgotten task leaves it in O(1))."""
        self._open: dict[str, None] = {}
        """Ids of the tasks not in a final state, in submission order (a task enters once, at
        submission, and leaves for good when it ends): every cycle asks for the open tasks,
        and in lifelong operation the finished ones outnumber them without bound."""
        self._finished: deque[str] = deque()
        """Finished tasks still in memory, oldest end first."""
        self.finished: Counter[TaskStatus] = Counter()
        """Tasks that reached each final state, forgotten ones included."""
        self.forgotten = 0
        """Finished tasks dropped from memory by `retain` (their events are in the store)."""
        self._keep: int | None = None
        self._archived: Callable[[str], bool] = lambda _task_id: False

    def retain(self, keep: int, archived: Callable[[str], bool]) -> None:
        """From now on keep only the newest ``keep`` finished tasks in memory.

        Only for a book whose events are durable before they are acted on (the service
        appends them to its store first): a forgotten task is still in the store, and
        ``archived(task_id)`` (the store's lookup) keeps its id from being used again.
        """
        if keep < 1:  # the core may look up a task in the cycle it finished in
            raise ValueError(f"keep must be at least 1, got {keep}")
        self._keep = keep
        self._archived = archived
        self._forget()

    def _forget(self) -> None:
        if self._keep is None:
            return
        while len(self._finished) > self._keep:
            task_id = self._finished.popleft()
            del self._tasks[task_id]
            del self._order[task_id]
            self.forgotten += 1

    def __contains__(self, task_id: object) -> bool:
        if task_id in self._tasks:
            return True
        return self.forgotten > 0 and isinstance(task_id, str) and self._archived(task_id)

    def __len__(self) -> int:
        """Tasks in memory (see `retain`; ``forgotten`` counts the rest)."""
        return len(self._tasks)

    def __iter__(self) -> Iterator[Task]:
        return (self._tasks[t] for t in self._order)

    def get(self, task_id: str) -> Task:
        task = self._tasks.get(task_id)
        if task is None:
            if task_id in self:
                raise TaskError(f"task {task_id!r} has finished; only the store keeps it now")
            raise TaskError(f"unknown task {task_id!r}")
        return task

    def open(self) -> list[Task]:
        """Tasks not in a final state, in submission order."""
        return [self._tasks[t] for t in self._open]

    def queued(self) -> list[Task]:
        return [t for t in self.open() if t.status is TaskStatus.QUEUED]

    def of_robot(self, robot: str) -> Task | None:
        for task in self.open():
            if task.robot == robot and task.status in (TaskStatus.ASSIGNED, TaskStatus.ACTIVE):
                return task
        return None

    # --- changes (each returns the event to persist) ------------------------------------

    def submit(self, spec: TaskSpec, now: float) -> TaskEvent:
        if spec.task_id in self:
            raise TaskError(f"task {spec.task_id!r} exists already")
        event = TaskEvent(
            spec.task_id, 1, TaskStatus.QUEUED, now, spec=spec, priority=spec.priority
        )
        self.apply(event)
        return event

    def transition(
        self,
        task_id: str,
        status: TaskStatus,
        now: float,
        *,
        robot: str | None = None,
        reason: str | None = None,
        stop_index: int | None = None,
        sequence: tuple[int, ...] | None = None,
    ) -> TaskEvent:
        task = self.get(task_id)
        if status not in ALLOWED[task.status]:
            raise TaskError(
                f"task {task_id!r} is {task.status.value}; it cannot become {status.value}"
            )
        event = TaskEvent(
            task_id,
            task.seq + 1,
            status,
            now,
            robot=robot if status in (TaskStatus.ASSIGNED, TaskStatus.ACTIVE) else None,
            reason=reason,
            stop_index=task.stop_index if stop_index is None else stop_index,
            sequence=sequence,
        )
        self.apply(event)
        return event

    def reprioritise(self, task_id: str, priority: int, now: float) -> TaskEvent:
        task = self.get(task_id)
        if task.status.final:
            raise TaskError(f"task {task_id!r} is {task.status.value} already")
        event = TaskEvent(
            task_id,
            task.seq + 1,
            task.status,
            now,
            robot=task.robot,
            stop_index=task.stop_index,
            priority=priority,
            reason="reprioritised",
        )
        self.apply(event)
        return event

    def apply(self, event: TaskEvent) -> bool:
        """Apply one logged event; an event already applied (or out of order) is skipped."""
        task = self._tasks.get(event.task_id)
        if task is None:
            if event.seq != 1 or event.spec is None:
                return False
            self._tasks[event.task_id] = Task(
                spec=event.spec,
                status=event.status,
                robot=None,
                stop_index=0,
                priority=event.priority if event.priority is not None else event.spec.priority,
                seq=1,
                created_s=event.at_s,
                updated_s=event.at_s,
            )
            self._order[event.task_id] = None
            if event.status.final:
                self._finish(event)
            else:
                self._open[event.task_id] = None
            return True
        if event.seq != task.seq + 1:
            return False
        self._tasks[event.task_id] = dataclasses.replace(
            task,
            status=event.status,
            robot=event.robot,
            stop_index=event.stop_index,
            priority=event.priority if event.priority is not None else task.priority,
            seq=event.seq,
            updated_s=event.at_s,
            reason=event.reason,
            sequence=event.sequence if event.sequence is not None else task.sequence,
        )
        if event.status.final:
            self._open.pop(event.task_id, None)
            self._finish(event)
        return True

    def _finish(self, event: TaskEvent) -> None:
        self.finished[event.status] += 1
        self._finished.append(event.task_id)
        self._forget()

    @classmethod
    def replay(cls, events: Iterable[TaskEvent]) -> TaskBook:
        book = cls()
        for event in events:
            book.apply(event)
        return book
