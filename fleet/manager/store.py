"""Where task events are kept: an append-only log behind a small interface.

`TaskStore` is what the manager needs (append events, read them back in
order); `SqlTaskStore` keeps them in the ledger's database, SQLite or
PostgreSQL, through the ledger's storage layer (`wms.ledger.storage`), so one
database holds the site (table ``fleet_task_events``, append-only on both
backends: `fleet.manager.site_db.append_only`), and `MemoryTaskStore` in a list
for runs that keep nothing. Appending an event twice (same task and ``seq``) stores it
once, so a replayed batch never duplicates history. Events read back in the
order they were appended (SQLite's rowid; an identity column on PostgreSQL).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa

from fleet.manager.events import TaskEvent
from fleet.manager.model import PickLine, Stop, StopAction, TaskKind, TaskSpec, TaskStatus
from fleet.manager.site_db import Integer, append_only, open_site, trigger_names, writing
from wms.ledger.schema import SchemaPart
from wms.ledger.storage import POSTGRESQL, SQLITE

TABLE = {
    SQLITE: """CREATE TABLE IF NOT EXISTS fleet_task_events (
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
    POSTGRESQL: """CREATE TABLE IF NOT EXISTS fleet_task_events (
        entry BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
        task_id TEXT NOT NULL,
        seq BIGINT NOT NULL CHECK (seq >= 1),
        status TEXT NOT NULL,
        at_s DOUBLE PRECISION NOT NULL,
        robot TEXT,
        reason TEXT,
        stop_index BIGINT NOT NULL,
        priority BIGINT,
        spec TEXT,
        sequence TEXT,
        PRIMARY KEY (task_id, seq)
    )""",
}
"""Per backend, as the log must be read back in append order: by SQLite's rowid (files
made before PostgreSQL support have no other column), by an identity column there."""

task_events = sa.Table(
    "fleet_task_events",
    sa.MetaData(),
    sa.Column("task_id", sa.Text, primary_key=True),
    sa.Column("seq", Integer, primary_key=True),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("at_s", sa.Double, nullable=False),
    sa.Column("robot", sa.Text),
    sa.Column("reason", sa.Text),
    sa.Column("stop_index", Integer, nullable=False),
    sa.Column("priority", Integer),
    sa.Column("spec", sa.Text),
    sa.Column("sequence", sa.Text),
)
"""The columns `TABLE` gives the log on both backends (the order column, which
differs, is not among them): what the store reads and writes, and what a copy of the
site database carries (`wms.ledger.site_copy`). Created by `TABLE`, not by Core."""
COLUMNS = ", ".join(column.name for column in task_events.columns)

LOG = {"fleet_task_events": ("task_id", "seq")}
GUARDS = append_only(LOG, ignore_duplicates=LOG)
"""A replayed event (same task and seq) is ignored, on SQLite even by INSERT OR REPLACE."""
TASK_LOG_SCHEMA = SchemaPart(
    sa.MetaData(),
    {backend: (TABLE[backend], *GUARDS[backend]) for backend in TABLE},
    trigger_names(LOG),
    described=(task_events,),
)
"""The task log's part of the site database."""


class TaskStore(Protocol):
    def append(self, events: Sequence[TaskEvent]) -> None: ...

    def events(self) -> Iterator[TaskEvent]: ...

    def has_task(self, task_id: str) -> bool:
        """Whether the task was ever submitted (its first event is stored)."""
        ...

    def close(self) -> None: ...


class MemoryTaskStore:
    def __init__(self) -> None:
        self._events: dict[tuple[str, int], TaskEvent] = {}

    def append(self, events: Sequence[TaskEvent]) -> None:
        for event in events:
            self._events.setdefault((event.task_id, event.seq), event)

    def events(self) -> Iterator[TaskEvent]:
        return iter(list(self._events.values()))

    def has_task(self, task_id: str) -> bool:
        return (task_id, 1) in self._events

    def close(self) -> None:
        pass


class SqlTaskStore:
    """Task events in the site's database (the ledger's: one database holds the site)."""

    def __init__(self, url: str | Path) -> None:
        self._db = open_site(url, TASK_LOG_SCHEMA)
        self._order = "entry" if self._db.backend == POSTGRESQL else "rowid"

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
        with writing(self._db):
            self._db.executemany(
                f"INSERT INTO fleet_task_events ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (task_id, seq) DO NOTHING",
                rows,
            )

    def events(self) -> Iterator[TaskEvent]:
        rows = self._db.execute(
            f"SELECT {COLUMNS} FROM fleet_task_events ORDER BY {self._order}"
        ).fetchall()
        for task_id, seq, status, at_s, robot, reason, stop_index, priority, spec, seq_ in rows:
            yield TaskEvent(
                task_id=task_id,
                seq=seq,
                status=TaskStatus(status),
                at_s=at_s,
                robot=robot,
                reason=reason,
                stop_index=stop_index,
                priority=priority,
                spec=spec_from_dict(json.loads(spec)) if spec else None,
                sequence=tuple(json.loads(seq_)) if seq_ else None,
            )

    def has_task(self, task_id: str) -> bool:
        """One primary-key lookup (the manager asks once per task submitted, see
        `TaskBook.retain`)."""
        row = self._db.execute(
            "SELECT 1 FROM fleet_task_events WHERE task_id = ? AND seq = 1", (task_id,)
        ).fetchone()
        return row is not None

    def close(self) -> None:
        self._db.close()


SqliteTaskStore = SqlTaskStore
"""The old name, from when the store was SQLite only."""


def open_store(url: str | Path | None) -> TaskStore:
    return MemoryTaskStore() if url is None else SqlTaskStore(url)


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
