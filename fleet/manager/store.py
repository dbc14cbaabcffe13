"""Where task events are kept: an append-only log behind a small interface.

`TaskStore` is what the manager needs (append events, read them back in
order); `SqliteTaskStore` keeps them in the ledger's database (table
``fleet_task_events``, triggers refuse UPDATE and DELETE) and `MemoryTaskStore`
in a list for runs that keep nothing. Appending an event twice (same task and
``seq``) stores it once, so a replayed batch never duplicates history.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from fleet.manager.events import TaskEvent
from fleet.manager.model import PickLine, Stop, StopAction, TaskKind, TaskSpec, TaskStatus
from wms.errors import InputError
from wms.ledger.url import UnsupportedDatabase, connect, parse_url

DDL = (
    """CREATE TABLE IF NOT EXISTS fleet_task_events (
        task_id TEXT NOT NULL,
        seq INTEGER NOT NULL CHECK (seq >= 1),
        status TEXT NOT NULL,
        at_s REAL NOT NULL,
        robot TEXT,
        reason TEXT,
        stop_index INTEGER NOT NULL,
        priority INTEGER,
        spec TEXT,
        sequence TEXT,
        PRIMARY KEY (task_id, seq)
    ) STRICT""",
    """CREATE TRIGGER IF NOT EXISTS fleet_task_events_no_update
       BEFORE UPDATE ON fleet_task_events
       BEGIN SELECT RAISE(ABORT, 'task events are append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS fleet_task_events_no_delete
       BEFORE DELETE ON fleet_task_events
       BEGIN SELECT RAISE(ABORT, 'task events are append-only'); END""",
)


class TaskStore(Protocol):
    def append(self, events: Sequence[TaskEvent]) -> None: ...

    def events(self) -> Iterator[TaskEvent]: ...

    def close(self) -> None: ...


class MemoryTaskStore:
    def __init__(self) -> None:
        self._events: dict[tuple[str, int], TaskEvent] = {}

    def append(self, events: Sequence[TaskEvent]) -> None:
        for event in events:
            self._events.setdefault((event.task_id, event.seq), event)

    def events(self) -> Iterator[TaskEvent]:
        return iter(list(self._events.values()))

    def close(self) -> None:
        pass


class SqliteTaskStore:
    """Task events in an SQLite database (the ledger's, so one file holds the site)."""

    def __init__(self, url: str | Path) -> None:
        parsed = parse_url(url)
        try:
            self._conn = connect(parsed)
        except UnsupportedDatabase as error:
            raise InputError(str(url), str(error)) from None
        with self._conn:
            for statement in DDL:
                self._conn.execute(statement)

    def append(self, events: Sequence[TaskEvent]) -> None:
        if not events:
            return
        rows = [
            (
                e.task_id,
                e.seq,
                e.status.value,
                e.at_s,
                e.robot,
                e.reason,
                e.stop_index,
                e.priority,
                json.dumps(spec_to_dict(e.spec)) if e.spec is not None else None,
                json.dumps(list(e.sequence)) if e.sequence is not None else None,
            )
            for e in events
        ]
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            self._conn.executemany(
                "INSERT INTO fleet_task_events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (task_id, seq) DO NOTHING",
                rows,
            )
        except sqlite3.Error:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def events(self) -> Iterator[TaskEvent]:
        rows = self._conn.execute("SELECT * FROM fleet_task_events ORDER BY rowid").fetchall()
        for row in rows:
            yield TaskEvent(
                task_id=row["task_id"],
                seq=row["seq"],
                status=TaskStatus(row["status"]),
                at_s=row["at_s"],
                robot=row["robot"],
                reason=row["reason"],
                stop_index=row["stop_index"],
                priority=row["priority"],
                spec=spec_from_dict(json.loads(row["spec"])) if row["spec"] else None,
                sequence=tuple(json.loads(row["sequence"])) if row["sequence"] else None,
            )

    def close(self) -> None:
        self._conn.close()


def open_store(url: str | Path | None) -> TaskStore:
    return MemoryTaskStore() if url is None else SqliteTaskStore(url)


def spec_to_dict(spec: TaskSpec) -> dict[str, Any]:
    return {
        "task_id": spec.task_id,
        "kind": spec.kind.value,
        "priority": spec.priority,
        "due_s": spec.due_s,
        "payload_kg": spec.payload_kg,
        "robot_kind": spec.robot_kind.value if spec.robot_kind else None,
        "resequence": spec.resequence,
        "robot": spec.robot,
        "stops": [
            {
                "cell": list(s.cell),
                "action": s.action.value,
                "duration_s": s.duration_s,
                "load_id": s.load_id,
                "lines": [
                    [
                        ln.pick_id,
                        ln.order_id,
                        ln.sku,
                        ln.qty,
                        ln.location_id,
                        ln.reservation_id,
                        ln.from_location,
                    ]
                    for ln in s.lines
                ],
            }
            for s in spec.stops
        ],
    }


def spec_from_dict(data: dict[str, Any]) -> TaskSpec:
    from fleet.manager.model import RobotKind

    return TaskSpec(
        task_id=data["task_id"],
        kind=TaskKind(data["kind"]),
        priority=data["priority"],
        due_s=data["due_s"],
        payload_kg=data["payload_kg"],
        robot_kind=RobotKind(data["robot_kind"]) if data["robot_kind"] else None,
        resequence=data["resequence"],
        robot=data["robot"],
        stops=tuple(
            Stop(
                (s["cell"][0], s["cell"][1]),
                StopAction(s["action"]),
                s["duration_s"],
                tuple(PickLine(*ln) for ln in s["lines"]),
                s["load_id"],
            )
            for s in data["stops"]
        ),
    )
