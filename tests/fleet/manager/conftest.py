"""`site_url`: a new, empty site database on each backend, for the fleet's storage tests.

``sqlite`` is a file (the manager, its tests and a killed server's successor all open
it); ``postgresql`` a new database on the session's real server (tests/pg_server.py),
skipped with the reason only when no server binary is installed.
"""

from __future__ import annotations

import pytest


@pytest.fixture(params=("sqlite", "postgresql"))
def site_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_database"))
    return f"sqlite:///{tmp_path / 'site.db'}"
