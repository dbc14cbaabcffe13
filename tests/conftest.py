"""Shared fixtures: where the public benchmark data lives, and small floors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("WAREHOUSE_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` (or ``$WAREHOUSE_SHARED``); tests using it skip when it is absent."""
    if not (SHARED / "benchmarks").is_dir():
        pytest.skip(f"public benchmark data not found at {SHARED} (set WAREHOUSE_SHARED)")
    return SHARED
