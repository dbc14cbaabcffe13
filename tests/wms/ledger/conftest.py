"""The ledger's storage tests run on both backends: SQLite and a real PostgreSQL server.

`ledger_url` is parametrised: ``sqlite`` is a private in-memory database,
``postgresql`` a new database on the session's server (tests/pg_server.py),
skipped with the reason when no server binary is installed.
"""

from __future__ import annotations

import pytest

from wms.ledger import Ledger
from wms.ledger.demo import tiny_ledger

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def ledger_url(backend: str, request: pytest.FixtureRequest, tmp_path) -> str:
    """A URL no ledger is in yet; a file for SQLite so that several connections share it."""
    if backend == "postgresql":
        return request.getfixturevalue("postgres_database")
    return f"sqlite:///{tmp_path / 'ledger.db'}"


@pytest.fixture
def ledger(backend: str, request: pytest.FixtureRequest):
    """The tiny example ledger (three SKUs, six locations) on each backend."""
    url = ":memory:" if backend == "sqlite" else request.getfixturevalue("postgres_database")
    opened: Ledger = tiny_ledger(url)
    yield opened
    opened.close()
