"""Shared fixtures: where the public benchmark data lives, and small floors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Fixtures for a real PostgreSQL server (started once per session, skipped without binaries).
from tests.pg_server import postgres_database, postgres_server  # noqa: F401

# No wall-clock limits on property tests: Hypothesis' default 200 ms deadline per example
# and its too-slow data-generation check fail a test on a loaded machine, not on a bug.
# A test's own @settings inherits what it does not set (its suppress_health_check list
# replaces this one).
settings.register_profile(
    "no-wall-clock", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("no-wall-clock")

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("WAREHOUSE_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` (or ``$WAREHOUSE_SHARED``); tests using it skip when it is absent."""
    if not (SHARED / "benchmarks").is_dir():
        pytest.skip(f"public benchmark data not found at {SHARED} (set WAREHOUSE_SHARED)")
    return SHARED


@pytest.fixture(scope="session")
def vda5050_schemas_dir() -> Path:
    """The official VDA 5050 2.1.0 JSON schemas in ``../shared``; tests skip when absent."""
    folder = SHARED / "vda5050" / "2.1.0"
    if not folder.is_dir():
        pytest.skip(f"VDA 5050 2.1.0 schemas not found at {folder} (set WAREHOUSE_SHARED)")
    return folder
