"""The fault campaign end to end: a lockstep day whose server process is SIGKILLed and
restarted from its database, with breakdowns, comm-loss bursts and blocked aisles, loses
no order and no unit; the CLI prints the documented JSON."""

from __future__ import annotations

import json
import subprocess
import sys

from warehouse.config import load_config
from warehouse.fault_campaign import CampaignSettings, run_faults

CLI = (sys.executable, "-m", "warehouse.cli", "bench", "faults")
TOTAL_KEYS = {
    "runs_completed",
    "orders_completed",
    "orders_lost",
    "units_lost",
    "units_duplicated",
    "safety_violations",
    "max_recovery_s",
}


def test_a_fault_run_loses_nothing() -> None:
    """With the server killed at least once, every order completes, every pick done is
    booked exactly once, the ledger balances and no robot shares a cell or enters an
    obstacle; each kill has a measured recovery."""
    result = run_faults(load_config(), 7, CampaignSettings(robots=8, orders=16, kills=(1, 2)))
    assert result["server_kills"] >= 1
    assert len(result["recovery_s"]) == result["server_kills"]
    assert all(r > 0 for r in result["recovery_s"])
    assert result["orders_lost"] == 0, result
    assert result["orders_completed"] == result["orders"]
    assert result["units_lost"] == 0 and result["units_duplicated"] == 0
    assert result["ledger_balanced"]
    assert result["safety_violations"] == 0
    assert result["completed"] and result["manager_errors"] == 0


def test_bench_faults_cli_json() -> None:
    """`warehouse bench faults --runs 1 --json` reports `runs` (a list) and `total` with the
    campaign's keys; bad input is a one-line error with exit code 2."""
    out = subprocess.run(
        [*CLI, "--runs", "1", "--robots", "6", "--orders", "8", "--json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout)
    assert isinstance(report["runs"], list) and len(report["runs"]) == 1
    assert set(report["total"]) >= TOTAL_KEYS
    assert report["total"]["orders_lost"] == 0
    bad = subprocess.run(
        [*CLI, "--runs", "0"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_a_fault_run_on_postgresql_loses_nothing_and_leaves_no_schema(postgres_database) -> None:
    """The same run on a real PostgreSQL server (tests/pg_server.py): the server process,
    its restarts, the ledger and the judge all use the run's scratch schema, nothing is
    lost, and the schema is gone afterwards."""
    import psycopg

    result = run_faults(
        load_config(), 3, CampaignSettings(robots=6, orders=8, kills=(1, 1)), postgres_database
    )
    assert result["backend"] == "postgresql"
    assert result["server_kills"] == 1
    assert result["orders_lost"] == 0, result
    assert result["orders_completed"] == result["orders"] > 0
    assert result["lines_booked"] > 0
    assert result["units_lost"] == 0 and result["units_duplicated"] == 0
    assert result["ledger_balanced"]
    assert result["safety_violations"] == 0
    assert result["completed"] and result["manager_errors"] == 0
    with psycopg.connect(postgres_database) as conn:
        left = conn.execute(
            "SELECT count(*) FROM information_schema.schemata"
            " WHERE schema_name LIKE 'ledger_scratch_%'"
        ).fetchone()
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
    assert left == (0,) and tables == (0,)


def test_bench_faults_refuses_a_database_url_that_is_not_postgresql() -> None:
    bad = subprocess.run(
        [*CLI, "--runs", "1", "--db-url", "sqlite:///x.db"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "postgresql://" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
