"""`warehouse db check`: a read-only health check of a site database, SQLite and a real
PostgreSQL.

A healthy site is exit 0 and is not changed by a byte; a ledger that does not balance
is exit 1; anything that is not a site database, or cannot be reached, is one line and
exit 2; on PostgreSQL another session holding a transaction open is reported (exit 1,
naming the session and the fix) until it commits, and the check's own session never is.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.warehouse.test_db_copy import (
    build_site,
    dump,
    file_digest,
    not_site_databases,
    refused,
)
from warehouse.cli import main
from wms.ledger.demo import tiny_ledger
from wms.ledger.records import BalanceReport
from wms.ledger.site_check import OpenTransaction, SiteHealth

DEADLINE_S = 60.0


def check(url: str, capsys, *extra: str) -> tuple[int, dict[str, Any]]:
    code = main(["db", "check", "--db", url, "--json", *extra])
    return code, json.loads(capsys.readouterr().out)


def poll(url: str, capsys, until: Callable[[int, dict[str, Any]], bool], *extra: str):
    """Run the check until ``until`` holds for its result (the server publishes a
    session's state asynchronously), failing after a generous deadline."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        code, result = check(url, capsys, *extra)
        if until(code, result):
            return code, result
        assert time.monotonic() < deadline, result
        time.sleep(0.1)


def test_a_healthy_sqlite_site_is_exit_0_and_unchanged(tmp_path, capsys) -> None:
    """Every site table counted, the balance reported, nothing written to the file."""
    url = str(tmp_path / "site.db")
    build_site(url)
    before, digest = dump(url), file_digest(Path(url))
    code, result = check(url, capsys)
    assert code == 0 and result["healthy"] and result["warnings"] == []
    assert result["rows"] == {name: len(rows) for name, rows in before.items()}
    assert result["missing"] == [] and result["balance"]["ok"]
    assert result["open_transactions"] == [] and result["backend"] == "sqlite"
    assert result["idle_in_transaction_session_timeout"] is None
    assert main(["db", "check", "--db", url]) == 0
    out = capsys.readouterr().out
    assert "the ledger balances" in out and out.rstrip().endswith("healthy")
    assert file_digest(Path(url)) == digest and dump(url) == before


def test_a_ledger_that_does_not_balance_is_a_warning(tmp_path, capsys) -> None:
    url = str(tmp_path / "site.db")
    with tiny_ledger(url) as ledger:
        ledger.receive("A", "R1", 5)
    with sqlite3.connect(url) as conn:
        conn.execute("UPDATE stock SET on_hand = on_hand + 1")
    code, result = check(url, capsys)
    assert code == 1 and not result["healthy"]
    assert len(result["warnings"]) == 1 and "does not balance" in result["warnings"][0]
    assert result["missing"]  # the fleet's tables were never made: not a problem


def test_not_a_site_database_is_one_line_exit_2(tmp_path, postgres_database, capsys) -> None:
    foreign, odd, old = not_site_databases(tmp_path)
    cases = {
        str(foreign): "without a ledger in it): check a site database",
        str(odd): "not a site database (no such column",
        str(old): "schema version 3, this build checks version 4: open it once",
        postgres_database: "it is empty",
    }
    for url, reason in cases.items():
        err = refused(["db", "check", "--db", url], capsys)
        assert reason in err, err


def test_bad_urls_are_one_line_exit_2(tmp_path, capsys) -> None:
    for url in (
        "mysql://host/db",
        ":memory:",
        str(tmp_path),
        str(tmp_path / "missing.db"),
        "postgresql://nobody@/nowhere?host=/nonexistent&port=1",
    ):
        refused(["db", "check", "--db", url], capsys)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(SystemExit) as exited:
        main(["db", "check", "--db", "x.db", "--older-than", "-1"])
    assert exited.value.code == 2 and "must be 0 or more" in capsys.readouterr().err


def test_a_held_transaction_on_postgresql_is_reported_until_it_commits(
    tmp_path, postgres_database: str, capsys
) -> None:
    """A second session in a REPEATABLE READ transaction (a held snapshot) is reported
    with its pid, state, application and statement, and the fix; a threshold above its
    age hides it; once it commits the check is clean. The check's own session is never
    in the list, even with --older-than 0."""
    src = str(tmp_path / "site.db")
    build_site(src)
    assert main(["db", "copy", "--from", src, "--to", postgres_database]) == 0
    capsys.readouterr()
    code, result = check(postgres_database, capsys, "--older-than", "0")
    assert code == 0 and result["open_transactions"] == [], result
    assert result["backend"] == "postgresql" and result["balance"]["ok"]
    assert result["idle_in_transaction_session_timeout"] == "0"
    before = dump(postgres_database)

    with psycopg.connect(postgres_database, application_name="forgotten-report") as holder:
        holder.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        holder.execute("SELECT COUNT(*) FROM movements").fetchone()
        pid = holder.info.backend_pid

        def reported(code: int, result: dict[str, Any]) -> bool:
            return any(t["pid"] == pid for t in result["open_transactions"])

        code, result = poll(postgres_database, capsys, reported, "--older-than", "0")
        assert code == 1 and not result["healthy"]
        (held,) = result["open_transactions"]
        assert held["state"] == "idle in transaction" and held["holds_snapshot"]
        assert held["application_name"] == "forgotten-report"
        assert held["query"] == "SELECT COUNT(*) FROM movements"
        (warning,) = result["warnings"]
        assert f"pg_terminate_backend({pid})" in warning
        assert "idle_in_transaction_session_timeout = '5min'" in warning
        assert main(["db", "check", "--db", postgres_database, "--older-than", "0"]) == 1
        out = capsys.readouterr().out
        assert f"WARNING: pid {pid} (forgotten-report)" in out
        code, result = check(postgres_database, capsys, "--older-than", "86400")
        assert code == 0 and result["open_transactions"] == []
        holder.commit()

    code, result = poll(postgres_database, capsys, lambda c, r: c == 0, "--older-than", "0")
    assert result["healthy"] and result["open_transactions"] == []
    assert dump(postgres_database) == before


def test_sessions_of_other_roles_are_counted_as_hidden_until_the_role_may_see_them(
    tmp_path, postgres_database: str, postgres_server, capsys
) -> None:
    """A role without pg_read_all_stats cannot see another role's transaction: the check
    says how many sessions are hidden from it instead of calling the site healthy
    silently; granted pg_read_all_stats, the same role sees and reports it."""
    src = str(tmp_path / "site.db")
    build_site(src)
    assert main(["db", "copy", "--from", src, "--to", postgres_database]) == 0
    name = postgres_database.split("/")[3].split("?")[0]
    role = f"checker_{name}"
    with psycopg.connect(postgres_database, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
        admin.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{role}"')
    as_checker = postgres_database.replace("postgres@", f"{role}@", 1)
    capsys.readouterr()
    with psycopg.connect(postgres_database) as holder:
        holder.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        holder.execute("SELECT COUNT(*) FROM movements").fetchone()
        code, result = poll(
            as_checker, capsys, lambda c, r: r["hidden_sessions"] >= 1, "--older-than", "0"
        )
        assert code == 0 and result["open_transactions"] == []
        assert main(["db", "check", "--db", as_checker, "--older-than", "0"]) == 0
        assert "GRANT pg_read_all_stats" in capsys.readouterr().out
        with psycopg.connect(postgres_database, autocommit=True) as admin:
            admin.execute(f'GRANT pg_read_all_stats TO "{role}"')
        pid = holder.info.backend_pid
        code, result = poll(
            as_checker,
            capsys,
            lambda c, r: any(t["pid"] == pid for t in r["open_transactions"]),
            "--older-than",
            "0",
        )
        assert code == 1 and result["hidden_sessions"] == 0
        holder.commit()


def test_the_fix_names_the_database_as_sql_spells_it() -> None:
    """ALTER DATABASE in the warning can be pasted: a name that is not a plain lower-case
    identifier is quoted (with its quotes doubled)."""
    balance = BalanceReport(True, (), 0, 0, 0, 0, 0)
    held = (OpenTransaction(7, "idle in transaction", 900.0, True, "", "SELECT 1"),)
    for name, spelled in (("site_a", "site_a"), ("Site-A", '"Site-A"'), ('a"b', '"a""b"')):
        health = SiteHealth("u", "postgresql", 4, {}, (), balance, 300.0, held, "0", name)
        (warning,) = health.warnings
        assert f"ALTER DATABASE {spelled} SET idle_in_transaction_session_timeout" in warning
        assert "pid 7, idle in transaction" in warning and not health.healthy
        assert "keeps every row version" in warning


def test_a_read_committed_session_idle_in_transaction_is_reported_without_a_snapshot(
    postgres_database: str, capsys
) -> None:
    """Idle in a READ COMMITTED transaction that wrote nothing, a session holds no
    snapshot between statements: still reported (its next statement takes one), and the
    warning says which case it is."""
    tiny_ledger(postgres_database).close()
    with psycopg.connect(postgres_database) as holder:
        holder.execute("SELECT COUNT(*) FROM movements").fetchone()  # opens a transaction
        pid = holder.info.backend_pid
        code, result = poll(
            postgres_database,
            capsys,
            lambda c, r: any(t["pid"] == pid for t in r["open_transactions"]),
            "--older-than",
            "0",
        )
        (held,) = result["open_transactions"]
        assert code == 1 and not held["holds_snapshot"]
        assert "holds no snapshot this moment" in result["warnings"][0]
        holder.rollback()
