"""The storage layer on a real PostgreSQL server: URLs, refusals, CLI and bench end to end."""

from __future__ import annotations

import json

import psycopg
import pytest

from warehouse.cli import main
from wms.ledger import Ledger, LedgerError, UnsupportedDatabase
from wms.ledger.demo import tiny_ledger


def test_a_database_with_other_tables_is_refused_untouched(postgres_database: str) -> None:
    """Someone else's database is not turned into a ledger by a wrong --db."""
    with psycopg.connect(postgres_database, autocommit=True) as conn:
        conn.execute("CREATE TABLE invoices (id int)")
    with pytest.raises(UnsupportedDatabase, match="not a ledger database"):
        Ledger.open(postgres_database)
    with psycopg.connect(postgres_database) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
    assert tables == [("invoices",)]


def test_an_empty_database_is_not_a_ledger_when_it_must_exist(postgres_database: str) -> None:
    """must_exist refuses an empty database (a typo'd name must not become a ledger)."""
    with pytest.raises(LedgerError, match="it is empty"):
        Ledger.open(postgres_database, must_exist=True)
    tiny_ledger(postgres_database).close()
    with Ledger.open(postgres_database, must_exist=True) as ledger:
        assert not ledger.is_empty()


def test_a_missing_database_is_one_line_without_the_password(postgres_server) -> None:
    """A database that does not exist is a clear error that does not print the password."""
    url = postgres_server.url("no_such_db").replace("postgres@", "postgres:hunter2@")
    with pytest.raises(UnsupportedDatabase) as caught:
        Ledger.open(url)
    message = str(caught.value)
    assert "cannot connect" in message and "\n" not in message
    assert "hunter2" not in message and "***" in message


def test_cli_reads_a_postgresql_ledger(postgres_database: str, capsys) -> None:
    """`warehouse stock --db postgresql://...` reports the stock and the balance check."""
    with tiny_ledger(postgres_database) as ledger:
        ledger.receive("A", "R1", 7)
    assert main(["stock", "--db", postgres_database, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["balance"]["ok"] is True
    assert report["balance"]["on_hand"] == 7


def test_ledger_bench_on_postgresql_leaves_no_schema(postgres_database: str, capsys) -> None:
    """The bench runs on both backends in one run and drops its scratch schemas."""
    argv = ["bench", "ledger", "--ops", "20", "--history", "60", "--skus", "3", "--repeats", "1"]
    assert main([*argv, "--db", postgres_database, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["availability"]["movements"] >= 60
    assert result["postgresql"]["availability"]["movements"] >= 60
    assert result["postgresql"]["commits"]["batched_ops_per_s"] > 0
    with psycopg.connect(postgres_database) as conn:
        left = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'ledger_scratch_%'"
        ).fetchall()
    assert left == []


@pytest.mark.parametrize(
    "call",
    [
        lambda lg: lg.receive("A\x00", "R1", 1),
        lambda lg: lg.on_hand("A", "R\x001"),
        lambda lg: lg.reserve("A", "R1\x00", 1),
        lambda lg: lg.return_in("A", "RET", 1, "NEW", ref="RMA\x00"),
    ],
)
def test_a_value_postgresql_cannot_store_is_a_ledger_error(postgres_database: str, call) -> None:
    """A NUL byte in a text (PostgreSQL refuses it, SQLite does not) is bad input: a
    one-line LedgerError, nothing written, and the ledger still usable."""
    with tiny_ledger(postgres_database) as ledger:
        ledger.receive("A", "R1", 2)
        before = ledger.snapshot()
        with pytest.raises(LedgerError) as caught:
            call(ledger)
        assert "\n" not in str(caught.value)
        assert ledger.snapshot() == before
        ledger.receive("A", "R1", 1)
        assert ledger.balance_check().ok
