"""The robots' durable state: registry, placements and every order update sent.

`DurableFleet` keeps, in the ledger's database next to the task log
(`fleet.manager.store`), what the manager needs to resume its robots after a
crash (`fleet.manager.resume.FleetResume`):

- ``fleet_robots`` — the registry: robot id and number (the planner's tie-break);
- ``fleet_placements`` — the cell a robot stood on when it had no order;
- ``fleet_orders`` — every order and order update, with its released nodes, *before*
  it goes on the bus (write before act): after a restart the manager knows exactly
  what each robot can be driving;
- ``fleet_loads`` — where a load (pod, tote) was left when its robot failed;
- ``fleet_blocks`` — cells blocked and unblocked at run time;
- ``fleet_starts`` — one row per manager start (the incarnation number).

Rows are only ever inserted: the logs and the registry are append-only on both
backends (`fleet.manager.site_db.append_only`: UPDATE, DELETE, a REPLACE of a
stored row, and TRUNCATE on PostgreSQL are refused). An order update stored but
never sent (the manager died in between) is superseded by the one a restarted
manager sends with the same ``orderUpdateId``: the later entry wins.

``entry`` numbers placements, orders, loads and blocks in *one* sequence, so the
latest thing a robot was given is known across tables; a per-table identity column
(PostgreSQL) or rowid (SQLite) cannot give that, so the manager — the site's one
writer of these logs — numbers them, continuing from the largest stored entry, and
the primary key refuses a number used twice (a second manager on the same site
fails on its first write instead of interleaving). The tables are SQLAlchemy Core
`Table` objects (64-bit integers on PostgreSQL, STRICT tables on SQLite) and the
statements plain SQL both backends run, through the ledger's storage layer.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa

from fleet.manager.events import CellsBlocked, Command, LoadLeft, RobotPlaced, SendOrder
from fleet.manager.resume import FleetResume, OrderNode, SentOrder
from fleet.manager.site_db import Integer, append_only, open_site, reading, trigger_names, writing
from wms.layout import Cell
from wms.ledger.schema import SchemaPart

tables = sa.MetaData()
"""The fleet's durable tables (the ledger's own are `wms.ledger.schema.metadata`)."""

_sqlite = {"sqlite_strict": True}


def _entry() -> sa.Column:
    return sa.Column("entry", Integer, primary_key=True, autoincrement=False)


def _cell() -> tuple[sa.Column, sa.Column]:
    return (
        sa.Column("cell_row", Integer, nullable=False),
        sa.Column("cell_col", Integer, nullable=False),
    )


sa.Table(
    "fleet_robots",
    tables,
    sa.Column("robot", sa.Text, primary_key=True),
    sa.Column("number", Integer, nullable=False),
    **_sqlite,
)
sa.Table(
    "fleet_placements",
    tables,
    _entry(),
    sa.Column("robot", sa.Text, nullable=False),
    *_cell(),
    **_sqlite,
)
fleet_orders = sa.Table(
    "fleet_orders",
    tables,
    _entry(),
    sa.Column("robot", sa.Text, nullable=False),
    sa.Column("order_id", sa.Text, nullable=False),
    sa.Column("update_id", Integer, sa.CheckConstraint("update_id >= 0"), nullable=False),
    sa.Column("reached_seq", Integer, nullable=False),
    sa.Column("horizon", Integer, nullable=False),
    sa.Column("task_id", sa.Text),
    sa.Column("nodes", sa.Text, nullable=False),
    **_sqlite,
)
sa.Index("fleet_orders_by_order", fleet_orders.c.robot, fleet_orders.c.order_id)
sa.Table(
    "fleet_loads",
    tables,
    _entry(),
    sa.Column("load_id", sa.Text, nullable=False),
    sa.Column("robot", sa.Text),
    sa.Column("task_id", sa.Text),
    *_cell(),
    **_sqlite,
)
sa.Table(
    "fleet_blocks",
    tables,
    _entry(),
    *_cell(),
    sa.Column("blocked", Integer, nullable=False),
    **_sqlite,
)
sa.Table(
    "fleet_starts",
    tables,
    sa.Column("incarnation", Integer, primary_key=True, autoincrement=False),
    **_sqlite,
)

ENTRY_LOGS = ("fleet_placements", "fleet_orders", "fleet_loads", "fleet_blocks")
LOGS = {
    "fleet_robots": ("robot",),
    **{table: ("entry",) for table in ENTRY_LOGS},
    "fleet_starts": ("incarnation",),
}
"""Every durable table, with its primary key: all append-only."""
GUARDS = append_only(LOGS, ignore_duplicates=("fleet_robots",))
"""A robot registered again keeps its first number (``ON CONFLICT DO NOTHING`` too)."""
DURABLE_SCHEMA = SchemaPart(tables, GUARDS, trigger_names(LOGS))
"""The robots' durable state's part of the site database."""


class DurableFleet:
    """The robots' durable state in the site database (the ledger's: SQLite or PostgreSQL)."""

    def __init__(self, url: str | Path) -> None:
        self._db = open_site(url, DURABLE_SCHEMA)
        latest = " UNION ALL ".join(f"SELECT MAX(entry) AS e FROM {t}" for t in ENTRY_LOGS)
        self._entry = int(self._db.scalar(f"SELECT MAX(e) FROM ({latest}) AS entries") or 0)

    def _next(self) -> int:
        self._entry += 1
        return self._entry

    # --- writing (before acting) ---------------------------------------------------------

    def begin(self) -> FleetResume:
        """Record one more manager start and return what it resumes from."""
        with writing(self._db) as db:
            before = int(db.scalar("SELECT COUNT(*) FROM fleet_starts"))
            db.write("INSERT INTO fleet_starts (incarnation) VALUES (?)", (before,))
        return self.resume(before)

    def record(self, commands: Sequence[Command]) -> None:
        """Keep the orders, placements and loads among ``commands`` (one transaction)."""
        robots, placements, orders, loads, blocks = [], [], [], [], []
        for command in commands:
            if isinstance(command, RobotPlaced):
                robots.append((command.robot, command.number))
                placements.append((self._next(), command.robot, *command.cell))
            elif isinstance(command, SendOrder):
                sent = SentOrder.of(
                    command.robot,
                    command.order_id,
                    command.order_update_id,
                    command.nodes,
                    command.reached_sequence_id,
                    command.task_id,
                )
                nodes = [[n.sequence_id, *n.cell, list(n.action_ids)] for n in sent.nodes]
                orders.append(
                    (
                        self._next(),
                        sent.robot,
                        sent.order_id,
                        sent.update_id,
                        sent.reached_sequence_id,
                        int(sent.horizon),
                        sent.task_id,
                        json.dumps(nodes),
                    )
                )
            elif isinstance(command, CellsBlocked):
                blocks += [(self._next(), *cell, int(command.blocked)) for cell in command.cells]
            elif isinstance(command, LoadLeft):
                loads.append((self._next(), command.load_id, command.robot, command.task_id))
                loads[-1] += command.cell
        batches = [
            (
                "INSERT INTO fleet_robots (robot, number) VALUES (?, ?)"
                " ON CONFLICT (robot) DO NOTHING",
                robots,
            ),
            (
                "INSERT INTO fleet_placements (entry, robot, cell_row, cell_col)"
                " VALUES (?, ?, ?, ?)",
                placements,
            ),
            (
                "INSERT INTO fleet_orders (entry, robot, order_id, update_id, reached_seq,"
                " horizon, task_id, nodes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                orders,
            ),
            (
                "INSERT INTO fleet_loads (entry, load_id, robot, task_id, cell_row, cell_col)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                loads,
            ),
            (
                "INSERT INTO fleet_blocks (entry, cell_row, cell_col, blocked) VALUES (?, ?, ?, ?)",
                blocks,
            ),
        ]
        batches = [(sql, rows) for sql, rows in batches if rows]
        if not batches:
            return
        with writing(self._db) as db:
            for sql, rows in batches:
                db.executemany(sql, rows)

    # --- reading (on restart) ------------------------------------------------------------

    def resume(self, incarnation: int = 0) -> FleetResume:
        """What `FleetCore.restore` needs: the registry and each robot's last two orders."""
        with reading(self._db):
            return self._resume(incarnation)

    def _resume(self, incarnation: int) -> FleetResume:
        db = self._db
        robots = tuple(
            robot
            for (robot,) in db.execute("SELECT robot FROM fleet_robots ORDER BY number, robot")
        )
        latest: dict[str, tuple[int, str | Cell]] = {}
        for entry, robot, row, col in db.execute(
            "SELECT entry, robot, cell_row, cell_col FROM fleet_placements ORDER BY entry"
        ):
            latest[robot] = (entry, (row, col))
        last_orders: dict[str, list[tuple[int, str]]] = {}
        started: dict[str, int] = {}
        for robot, order_id, entry in db.execute(
            "SELECT robot, order_id, MAX(entry) FROM fleet_orders GROUP BY robot, order_id"
        ):
            last_orders.setdefault(robot, []).append((entry, order_id))
            started[robot] = started.get(robot, 0) + 1
        orders: dict[str, dict[str, tuple[SentOrder, ...]]] = {}
        for robot, entries in last_orders.items():
            entries.sort(reverse=True)
            if entries[0][0] > latest.get(robot, (0, ""))[0]:
                latest[robot] = entries[0]
            orders[robot] = {oid: self._updates(robot, oid) for _, oid in entries[:2]}
        blocked: set[Cell] = set()
        for row, col, is_blocked in db.execute(
            "SELECT cell_row, cell_col, blocked FROM fleet_blocks ORDER BY entry"
        ):
            (blocked.add if is_blocked else blocked.discard)((row, col))
        return FleetResume(
            robots=robots,
            blocked=frozenset(blocked),
            orders=orders,
            latest={robot: what for robot, (_, what) in latest.items()},
            entry={robot: entry for robot, (entry, _) in latest.items()},
            orders_started=started,
            incarnation=incarnation,
        )

    def _updates(self, robot: str, order_id: str) -> tuple[SentOrder, ...]:
        # An update id can be stored twice: one the robot never got (the manager died before
        # sending it) and, after a restart, the one actually sent; the later entry is it.
        latest = {
            row[0]: row
            for row in self._db.execute(
                "SELECT update_id, horizon, reached_seq, task_id, nodes FROM fleet_orders"
                " WHERE robot = ? AND order_id = ? ORDER BY entry",
                (robot, order_id),
            )
        }
        return tuple(
            SentOrder(
                robot,
                order_id,
                update_id,
                tuple(OrderNode(n[0], (n[1], n[2]), tuple(n[3])) for n in json.loads(nodes)),
                bool(horizon),
                reached_seq,
                task_id,
            )
            for update_id, horizon, reached_seq, task_id, nodes in (
                latest[u] for u in sorted(latest)
            )
        )

    def loads(self) -> dict[str, tuple[Cell, str | None]]:
        """Where each load was last left by a failed robot (and which robot)."""
        out: dict[str, tuple[Cell, str | None]] = {}
        with reading(self._db) as db:
            for load_id, robot, row, col in db.execute(
                "SELECT load_id, robot, cell_row, cell_col FROM fleet_loads ORDER BY entry"
            ):
                out[load_id] = ((row, col), robot)
        return out

    def close(self) -> None:
        self._db.close()
