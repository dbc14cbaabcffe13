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

Rows are only ever inserted (triggers refuse UPDATE and DELETE on the logs). An order
update stored but never sent (the manager died in between) is superseded by the one
a restarted manager sends with the same ``orderUpdateId``: the later entry wins.
``entry`` numbers placements and orders in one sequence, so the latest thing a robot
was given is known. The SQL is plain (no ``INSERT OR REPLACE``, no ``STRICT``) so the
same statements run on PostgreSQL.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from fleet.manager.events import CellsBlocked, Command, LoadLeft, RobotPlaced, SendOrder
from fleet.manager.resume import FleetResume, OrderNode, SentOrder
from wms.errors import InputError
from wms.layout import Cell
from wms.ledger.url import UnsupportedDatabase, connect, parse_url

LOGS = ("fleet_placements", "fleet_orders", "fleet_loads", "fleet_blocks", "fleet_starts")

DDL = (
    """CREATE TABLE IF NOT EXISTS fleet_robots (
        robot TEXT PRIMARY KEY,
        number INTEGER NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS fleet_placements (
        entry INTEGER PRIMARY KEY,
        robot TEXT NOT NULL,
        cell_row INTEGER NOT NULL,
        cell_col INTEGER NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS fleet_orders (
        entry INTEGER PRIMARY KEY,
        robot TEXT NOT NULL,
        order_id TEXT NOT NULL,
        update_id INTEGER NOT NULL CHECK (update_id >= 0),
        reached_seq INTEGER NOT NULL,
        horizon INTEGER NOT NULL,
        task_id TEXT,
        nodes TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS fleet_orders_by_order ON fleet_orders (robot, order_id)",
    """CREATE TABLE IF NOT EXISTS fleet_loads (
        entry INTEGER PRIMARY KEY,
        load_id TEXT NOT NULL,
        robot TEXT,
        task_id TEXT,
        cell_row INTEGER NOT NULL,
        cell_col INTEGER NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS fleet_blocks (
        entry INTEGER PRIMARY KEY,
        cell_row INTEGER NOT NULL,
        cell_col INTEGER NOT NULL,
        blocked INTEGER NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS fleet_starts (
        incarnation INTEGER PRIMARY KEY
    )""",
    *(
        statement
        for table in LOGS
        for statement in (
            f"""CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table}
               BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END""",
            f"""CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table}
               BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END""",
        )
    ),
)


class DurableFleet:
    """The robots' durable state in an SQLite database (the ledger's)."""

    def __init__(self, url: str | Path) -> None:
        parsed = parse_url(url)
        try:
            self._conn = connect(parsed)
        except UnsupportedDatabase as error:
            raise InputError(str(url), str(error)) from None
        with self._conn:
            for statement in DDL:
                self._conn.execute(statement)
        self._entry = max(
            self._scalar("SELECT MAX(entry) FROM fleet_orders"),
            self._scalar("SELECT MAX(entry) FROM fleet_placements"),
            self._scalar("SELECT MAX(entry) FROM fleet_loads"),
            self._scalar("SELECT MAX(entry) FROM fleet_blocks"),
        )

    def _scalar(self, sql: str) -> int:
        value = self._conn.execute(sql).fetchone()[0]
        return int(value) if value is not None else 0

    def _next(self) -> int:
        self._entry += 1
        return self._entry

    # --- writing (before acting) ---------------------------------------------------------

    def begin(self) -> FleetResume:
        """Record one more manager start and return what it resumes from."""
        before = self._scalar("SELECT COUNT(*) FROM fleet_starts")
        self._write([("INSERT INTO fleet_starts (incarnation) VALUES (?)", [(before,)])])
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
        self._write(
            [
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
                    "INSERT INTO fleet_blocks (entry, cell_row, cell_col, blocked)"
                    " VALUES (?, ?, ?, ?)",
                    blocks,
                ),
            ]
        )

    def _write(self, batches: list[tuple[str, list[tuple[object, ...]]]]) -> None:
        batches = [(sql, rows) for sql, rows in batches if rows]
        if not batches:
            return
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            for sql, rows in batches:
                self._conn.executemany(sql, rows)
        except sqlite3.Error:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    # --- reading (on restart) ------------------------------------------------------------

    def resume(self, incarnation: int = 0) -> FleetResume:
        """What `FleetCore.restore` needs: the registry and each robot's last two orders."""
        robots = tuple(
            r["robot"]
            for r in self._conn.execute("SELECT robot FROM fleet_robots ORDER BY number, robot")
        )
        latest: dict[str, tuple[int, str | Cell]] = {}
        for row in self._conn.execute("SELECT * FROM fleet_placements ORDER BY entry"):
            latest[row["robot"]] = (row["entry"], (row["cell_row"], row["cell_col"]))
        last_orders: dict[str, list[tuple[int, str]]] = {}
        started: dict[str, int] = {}
        for row in self._conn.execute(
            "SELECT robot, order_id, MAX(entry) AS e FROM fleet_orders GROUP BY robot, order_id"
        ):
            last_orders.setdefault(row["robot"], []).append((row["e"], row["order_id"]))
            started[row["robot"]] = started.get(row["robot"], 0) + 1
        orders: dict[str, dict[str, tuple[SentOrder, ...]]] = {}
        for robot, entries in last_orders.items():
            entries.sort(reverse=True)
            if entries[0][0] > latest.get(robot, (0, ""))[0]:
                latest[robot] = entries[0]
            orders[robot] = {oid: self._updates(robot, oid) for _, oid in entries[:2]}
        blocked: set[Cell] = set()
        for row in self._conn.execute("SELECT * FROM fleet_blocks ORDER BY entry"):
            cell = (row["cell_row"], row["cell_col"])
            (blocked.add if row["blocked"] else blocked.discard)(cell)
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
            row["update_id"]: row
            for row in self._conn.execute(
                "SELECT * FROM fleet_orders WHERE robot = ? AND order_id = ? ORDER BY entry",
                (robot, order_id),
            )
        }
        rows = [latest[u] for u in sorted(latest)]
        return tuple(
            SentOrder(
                robot,
                order_id,
                row["update_id"],
                tuple(OrderNode(n[0], (n[1], n[2]), tuple(n[3])) for n in json.loads(row["nodes"])),
                bool(row["horizon"]),
                row["reached_seq"],
                row["task_id"],
            )
            for row in rows
        )

    def loads(self) -> dict[str, tuple[Cell, str | None]]:
        """Where each load was last left by a failed robot (and which robot)."""
        out: dict[str, tuple[Cell, str | None]] = {}
        for row in self._conn.execute("SELECT * FROM fleet_loads ORDER BY entry"):
            out[row["load_id"]] = ((row["cell_row"], row["cell_col"]), row["robot"])
        return out

    def close(self) -> None:
        self._conn.close()
