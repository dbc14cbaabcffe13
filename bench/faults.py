"""Fault campaign: lockstep days whose server is SIGKILLed and restarted, with breakdowns,
communication-loss bursts and blocked aisles; nothing may be lost.

    .venv/bin/python bench/faults.py --runs 20            # print the section
    .venv/bin/python bench/faults.py --runs 20 --write    # and replace it in docs/benchmarks.md
    .venv/bin/python bench/faults.py --runs 20 --db-url postgresql://...   # on PostgreSQL

The same runs as `warehouse bench faults --runs N --json` (`warehouse.fault_campaign`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.sections import write_section  # noqa: E402
from warehouse.config import load_config  # noqa: E402
from warehouse.fault_campaign import (  # noqa: E402
    CampaignSettings,
    backend_of,
    run_faults,
    totals,
)

HEADING = "## Fault campaign"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--robots", type=int, default=20)
    parser.add_argument("--orders", type=int, default=60)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    parser.add_argument("--json", metavar="F", help="also write the full result here")
    parser.add_argument(
        "--db-url", metavar="URL", help="postgresql:// database for the runs' scratch schemas"
    )
    args = parser.parse_args()
    settings = CampaignSettings(robots=args.robots, orders=args.orders)
    config = load_config()
    runs = []
    for seed in range(args.runs):
        runs.append(run_faults(config, seed, settings, args.db_url))
        print(json.dumps(runs[-1]), file=sys.stderr)
    total = totals(runs)
    if args.json:
        Path(args.json).write_text(json.dumps({"runs": runs, "total": total}, indent=2) + "\n")
    recoveries = [r for run in runs for r in run["recovery_s"]]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    text = "\n".join(
        [
            HEADING,
            "",
            f"`.venv/bin/python bench/faults.py --runs {args.runs} --write` on "
            f"{backend_of(args.db_url)} (the same runs as "
            f"`warehouse bench faults --runs {args.runs} --robots {args.robots} --orders "
            f"{args.orders} --json`; machine: {os.cpu_count()} cores, load average {load:.1f} "
            f"at the end, Python {platform.python_version()}). Each run is a lockstep day on "
            f"the demo floor with {args.robots} robots and {args.orders} synthetic orders; the "
            "server (bus + fleet manager) runs in its own process and is SIGKILLed 1–2 times "
            "at random ticks and restarted on the same database (the robots drive on for 0–3 "
            "ticks meanwhile), 10% of the robots break down for 30–120 s, three bursts silence "
            "a fifth of the fleet for 2–8 s, two 3-cell aisle segments are blocked for "
            "30–120 s. Judged from the database alone (task log and ledger) and the robots' "
            "own safety monitor. Targets: 20 runs, 0 orders lost, 0 units lost or duplicated, "
            "0 safety violations, every run completes, recovery ≤ 5 s wall.",
            "",
            "| runs completed | orders completed | orders lost | units lost | units duplicated "
            "| safety violations | server kills | recovery, median | recovery, max |",
            "|---|---|---|---|---|---|---|---|---|",
            f"| {total['runs_completed']}/{total['runs']} | {total['orders_completed']} "
            f"| {total['orders_lost']} | {total['units_lost']} | {total['units_duplicated']} "
            f"| {total['safety_violations']} | {total['server_kills']} "
            f"| {statistics.median(recoveries) if recoveries else 0:.2f} s "
            f"| **{total['max_recovery_s']:.2f} s** |",
            "",
            "Recovery is wall time from the SIGKILL until every robot that can talk has "
            "reported to the new server and has its drive back (the new process starts from a "
            "forkserver with the modules loaded, restores the task log and the robots' last "
            "orders, and the robots' DEALER sockets reconnect on their own). Every ledger "
            f"balanced: {total['ledgers_balanced']}.",
            "",
            "A lockstep kill falls between two ticks (the server is idle, waiting for the next "
            "one), so this campaign exercises restart, adoption and the comm-loss, breakdown "
            "and blockage paths at scale; the crash windows inside a cycle (after the task log "
            "is written and before the orders go out or the pick is booked) are covered by "
            "tests/fleet/manager/test_crash_recovery.py (hypothesis: kill at any tick, right "
            "after a batch is stored, right after a finished pick is stored) and by "
            "tests/fleet/manager/test_kill_restart.py (`warehouse serve` SIGKILLed at a random "
            "wall-clock moment while real-time robots work).",
            "",
        ]
    )
    print(text)
    if args.write:
        write_section(REPO / "docs" / "benchmarks.md", HEADING, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
