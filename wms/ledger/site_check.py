"""A read-only health check of a site database: its schema, its ledger, its held snapshots.

`check_site` answers what an operator needs before and while a site runs on a
database: is it a site database of this build's schema version (the same checks
`warehouse db copy` refuses a source on: `site_copy.check_site_schema`), how many
rows each site table holds, does the ledger's `balance_check` pass and — on
PostgreSQL — is any other session holding a transaction open. A long-open
transaction keeps every row version a booking leaves behind alive, so each booking
of a busy cell gets slower for as long as it stays open (docs/ledger.md,
"PostgreSQL: bookings and long transactions").

What is guaranteed:

- **Nothing is written**: the database is opened read-only (SQLite ``mode=ro``, a
  PostgreSQL session whose transactions are all ``READ ONLY``); the schema, counts and
  balance check are read in one snapshot, which is ended before the sessions are
  looked at, so the check never reports (or holds) a snapshot of its own.
- **Refused, as `UnsupportedDatabase`**: an in-memory database, one that cannot be
  reached, is not a site database or has another schema version.
- **A warning per problem** (`SiteHealth.warnings`): a ledger that does not balance
  (its first problem), and every other client session of the same database whose
  transaction has been open at least ``older_than_s`` seconds, naming the fix.
  Sessions of other roles that the check's role may not see (``hidden_sessions``:
  without superuser or ``pg_read_all_stats`` PostgreSQL hides their transactions) are
  counted, not warned about: whether they hold anything cannot be told.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wms.ledger.balance import balance_check
from wms.ledger.errors import UnsupportedDatabase, first_line
from wms.ledger.records import BalanceReport
from wms.ledger.schema import SCHEMA_VERSION, SchemaPart
from wms.ledger.site_copy import check_site_schema, open_site, site_tables
from wms.ledger.storage import POSTGRESQL, Database
from wms.ledger.url import parse_url

DEFAULT_OLDER_THAN_S = 300.0
"""A transaction open this long is reported: far longer than any booking or report
the site runs, well under the hours a forgotten client holds one."""

QUERY_CHARS = 80
"""How much of a session's last statement is shown."""

SUGGESTED_IDLE_TIMEOUT = "5min"
"""The ``idle_in_transaction_session_timeout`` docs/ledger.md recommends for a site."""

_OPEN_TRANSACTIONS_SQL = f"""
SELECT pid, state,
       EXTRACT(EPOCH FROM clock_timestamp() - xact_start)::float8,
       backend_xmin IS NOT NULL OR backend_xid IS NOT NULL,
       COALESCE(application_name, ''),
       left(COALESCE(query, ''), {QUERY_CHARS})
FROM pg_stat_activity
WHERE datname = current_database()
  AND pid <> pg_backend_pid()
  AND backend_type = 'client backend'
  AND xact_start IS NOT NULL
  AND clock_timestamp() - xact_start >= make_interval(secs => ?)
ORDER BY xact_start, pid
"""

_HIDDEN_SESSIONS_SQL = """
SELECT COUNT(*) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid()
  AND query = '<insufficient privilege>'
"""
"""Sessions of other roles whose transaction the check's role may not see (every column
but the database is NULL for them without ``pg_read_all_stats`` or superuser)."""


@dataclass(frozen=True)
class OpenTransaction:
    """Another session of the database with a transaction open: ``holds_snapshot`` when
    the server keeps row versions for it (a snapshot or a transaction id)."""

    pid: int
    state: str
    age_s: float
    holds_snapshot: bool
    application_name: str
    query: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "pid": self.pid,
            "state": self.state,
            "xact_age_s": round(self.age_s, 1),
            "holds_snapshot": self.holds_snapshot,
            "application_name": self.application_name,
            "query": self.query,
        }


@dataclass(frozen=True)
class SiteHealth:
    """What `check_site` found. ``open_transactions`` and ``idle_timeout`` are
    PostgreSQL's (empty and None on SQLite); ``missing`` are part tables the database
    does not have yet (the fleet's before a first ``serve``)."""

    database: str
    backend: str
    schema_version: int
    rows: Mapping[str, int]
    missing: tuple[str, ...]
    balance: BalanceReport
    older_than_s: float
    open_transactions: tuple[OpenTransaction, ...]
    idle_timeout: str | None
    database_name: str | None
    hidden_sessions: int = 0

    @property
    def warnings(self) -> tuple[str, ...]:
        """One line per problem, each saying what to do about it."""
        found = []
        if not self.balance.ok:
            found.append(
                f"the ledger does not balance ({len(self.balance.problems)} problems, the "
                f"first: {self.balance.problems[0]}); see docs/ledger.md, 'Invariants'"
            )
        for held in self.open_transactions:
            app = f" ({held.application_name})" if held.application_name else ""
            effect = (
                "PostgreSQL keeps every row version bookings leave behind while it stays "
                "open, so bookings slow down"
                if held.holds_snapshot
                else "it holds no snapshot this moment, but its next statement takes one "
                "that slows bookings for as long as it then stays open"
            )
            found.append(
                f"pid {held.pid}{app}, {held.state}, has held a transaction open for "
                f"{held.age_s:.0f} s: {effect} (docs/ledger.md); end it in that client "
                f"(COMMIT / ROLLBACK) or with SELECT pg_terminate_backend({held.pid}), and "
                f"set ALTER DATABASE {_identifier(self.database_name)} SET "
                f"idle_in_transaction_session_timeout = '{SUGGESTED_IDLE_TIMEOUT}'"
            )
        return tuple(found)

    @property
    def healthy(self) -> bool:
        return not self.warnings

    def to_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "backend": self.backend,
            "schema_version": self.schema_version,
            "tables": len(self.rows),
            "rows": dict(self.rows),
            "missing": list(self.missing),
            "balance": self.balance.to_dict(),
            "older_than_s": self.older_than_s,
            "open_transactions": [t.to_dict() for t in self.open_transactions],
            "idle_in_transaction_session_timeout": self.idle_timeout,
            "hidden_sessions": self.hidden_sessions,
            "warnings": list(self.warnings),
            "healthy": self.healthy,
        }


def check_site(
    url: str | Path, parts: Sequence[SchemaPart], older_than_s: float = DEFAULT_OLDER_THAN_S
) -> SiteHealth:
    """Check the site database ``url`` without writing to it (see the module docstring)."""
    if older_than_s < 0:
        raise ValueError("older_than_s must not be negative")
    parsed = parse_url(url)
    if parsed.in_memory:
        raise UnsupportedDatabase(parsed.text, "an in-memory database holds no site to check")
    db = open_site(parsed, "check")
    try:
        try:
            missing, rows, balance = _read_site(db, parts)
            held: tuple[OpenTransaction, ...] = ()
            timeout = name = None
            hidden = 0
            if db.backend == POSTGRESQL:
                held = _open_transactions(db, older_than_s)
                hidden = int(db.scalar(_HIDDEN_SESSIONS_SQL))
                timeout = str(db.scalar("SHOW idle_in_transaction_session_timeout"))
                name = str(db.scalar("SELECT current_database()"))
        except db.errors as error:
            raise UnsupportedDatabase(
                parsed.display, f"cannot check it ({first_line(error)})"
            ) from None
    finally:
        db.close()
    return SiteHealth(
        parsed.display,
        db.backend,
        SCHEMA_VERSION,
        rows,
        tuple(sorted(missing)),
        balance,
        older_than_s,
        held,
        timeout,
        name,
        hidden,
    )


def _read_site(
    db: Database, parts: Sequence[SchemaPart]
) -> tuple[set[str], dict[str, int], BalanceReport]:
    """Schema, row counts and balance in one read-only snapshot, ended before returning."""
    db.begin_read()
    try:
        missing = check_site_schema(db, parts, "check")
        rows = {
            table.name: int(db.scalar(f"SELECT COUNT(*) FROM {table.name}"))
            for table in site_tables(parts)
            if table.name not in missing
        }
        return missing, rows, balance_check(db)
    finally:
        with suppress(*db.errors):
            db.rollback()


def _identifier(name: str | None) -> str:
    """A database name as SQL may spell it: quoted unless a plain lower-case identifier."""
    if name is not None and re.fullmatch(r"[a-z_][a-z0-9_$]*", name):
        return name
    return '"' + (name or "").replace('"', '""') + '"'


def _open_transactions(db: Database, older_than_s: float) -> tuple[OpenTransaction, ...]:
    return tuple(
        OpenTransaction(int(r[0]), str(r[1] or "?"), float(r[2]), bool(r[3]), r[4], r[5])
        for r in db.execute(_OPEN_TRANSACTIONS_SQL, (older_than_s,))
    )
