"""Fuzz campaign, one command: protocol frames against a live server, then CLI inputs and files.

    .venv/bin/python bench/fuzz.py                 # 100,000 frames per bus mode, 10,000 files
    .venv/bin/python bench/fuzz.py --frames 2000 --files 300 --argv 100   # a short version
    .venv/bin/python bench/fuzz.py --write         # and record it in docs/benchmarks.md

1. **Protocol** (`bench/fuzz_bus.py`'s campaign, reused): ``--frames`` hostile
   messages against a `warehouse serve` subprocess per mode (CURVE, then plain):
   arbitrary bytes, arbitrary msgpack values, valid messages with a field of the
   wrong type, 1,500-deep nesting, 70,000-item arrays, oversized bodies, wrong
   framing, other robots' identities; then a flood from a peer that never reads.
   Checked: the server never exits, an honest robot beside it is never
   CONNECTIONBROKEN, no robot appears that no key (CURVE) or connection (plain)
   stands for, and the server's peak resident memory.
2. **Files** (`warehouse.cli_fuzz`): ``--files`` mutated config, map, scenario,
   orders, returns, demand and returns-policy files, spread evenly over the
   kinds, each read by the real CLI entry point in this process.
3. **Argument lists**: ``--argv`` hostile command lines for the cheap commands.

For 2 and 3 every input must exit 0, or exit 2 with one stderr line and - when
it named a ledger with ``--db`` - the ledger's SQL dump unchanged. The peak
resident memory of this process is reported. Inputs that broke a rule are kept
under ``runs/fuzz-findings``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import tempfile
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from random import Random
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.fuzz_bus import campaign  # noqa: E402
from bench.sections import write_section  # noqa: E402
from warehouse.cli_fuzz import (  # noqa: E402
    Outcome,
    file_input,
    file_kinds,
    hostile_argv,
    prepare_work,
    reset_scratch,
    run_input,
)
from wms.ledger import Ledger  # noqa: E402

HEADING = "## Fuzzing (issue 11)"
FINDINGS = REPO / "runs" / "fuzz-findings"
PROTOCOL_JSON = REPO / "runs" / "fuzz-protocol.json"
"""The protocol part's figures, written as soon as it ends."""
PLANNER_REFUSAL = "unknown planner 'none'"
"""A scenario file that was read and bound in full is refused for the planner only."""


def memory_kib(field: str, pid: int | str = "self") -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE)
    assert found is not None
    return int(found.group(1))


def protocol(frames: int, flood: int, peers: int, seed: int) -> list[dict[str, Any]]:
    results = []
    for curve in (True, False):
        result = campaign(curve, frames, flood, peers, seed)
        # Under CURVE a robot exists only for a key; plain TCP has no keys, and a connection's
        # first message binds it to the (free) identity it claims (docs/protocol.md).
        expected = {"acme/honest", *(f"acme/a{p}" for p in range(peers))}
        unexpected = sorted(set(result.get("robots", [])) - expected) if curve else []
        result["unexpected_robots"] = unexpected
        results.append(result)
    return results


class Tally:
    """Counts per input kind, and the findings."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, int]] = {}
        self.findings: list[Outcome] = []
        self.memory: list[tuple[int, str, list[str]]] = []
        """(growth of the peak RSS in KiB, kind, argv) of the inputs that raised it most."""

    def run(self, kind: str, make: Any) -> None:
        """Run one input (``make()`` returns its outcomes), noting how it moved the peak RSS."""
        before = memory_kib("VmHWM")
        try:
            outcomes = make()
        except Exception:  # a bug of the generator itself: kept as a finding, the run goes on
            outcomes = [Outcome(("<generator>", kind), None, "", traceback.format_exc(limit=-4))]
        grew = memory_kib("VmHWM") - before
        if grew > 0:
            self.memory.append((grew, kind, list(outcomes[0].argv)))
            self.memory = sorted(self.memory, reverse=True)[:5]
        self.add(kind, outcomes)

    def add(self, kind: str, outcomes: list[Outcome]) -> None:
        row = self.rows.setdefault(
            kind,
            {
                "inputs": 0,
                "runs": 0,
                "exit_0": 0,
                "exit_2": 0,
                "accepted": 0,
                "problems": 0,
                "ledger": 0,
            },
        )
        row["inputs"] += 1
        for outcome in outcomes:
            row["runs"] += 1
            row["accepted"] += outcome.code == 0 or PLANNER_REFUSAL in outcome.stderr
            row["exit_0"] += outcome.code == 0 and outcome.problem is None
            row["exit_2"] += outcome.code == 2 and outcome.problem is None
            row["ledger"] += outcome.ledger_checked and outcome.code == 2
            if outcome.problem is not None:
                row["problems"] += 1
                self.findings.append(outcome)


def files_and_argv(files: int, argv_count: int, seed: int, first: int = 0) -> dict[str, Any]:
    """Files ``first .. first + files - 1`` (kinds in turn) and ``argv_count`` command lines."""
    rng = Random(seed)
    tally = Tally()
    kinds = list(file_kinds().values())
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        work = Path(tmp)
        cwd = Path.cwd()
        os.chdir(work)  # a command given a bare name as a path writes it here, not in the repo
        try:
            prepare_work(work)
            start_kib = memory_kib("VmRSS")
            began = time.monotonic()
            for i in range(first, first + files):
                kind = kinds[i % len(kinds)]
                tally.run(kind.name, lambda kind=kind, i=i: file_input(rng, kind, work, i))
            files_s = time.monotonic() - began
            began = time.monotonic()
            for _ in range(argv_count):
                tally.run("argv", lambda: [run_input(hostile_argv(rng, work))])
                reset_scratch(work)
            argv_s = time.monotonic() - began
            with Ledger.open(str(work / "ledger.db"), must_exist=True) as ledger:
                balanced = bool(ledger.balance_check().ok)
            end_kib = memory_kib("VmRSS")
        finally:
            os.chdir(cwd)
    _keep(tally.findings)
    return {
        "rows": tally.rows,
        "findings": len(tally.findings),
        "finding_samples": [
            {"argv": list(o.argv)[:8], "problem": o.problem[:300] if o.problem else None}
            for o in tally.findings[:10]
        ],
        "files_s": round(files_s, 1),
        "argv_s": round(argv_s, 1),
        "ledger_balanced_after": balanced,
        "rss_start_mib": round(start_kib / 1024, 1),
        "rss_end_mib": round(end_kib / 1024, 1),
        "peak_rss_mib": round(memory_kib("VmHWM") / 1024, 1),
        "peak_raisers": [
            {"kind": kind, "grew_mib": round(kib / 1024, 1), "argv": argv[:8]}
            for kib, kind, argv in tally.memory
        ],
    }


def parallel(files: int, argv_count: int, seed: int, workers: int) -> dict[str, Any]:
    """`files_and_argv` split over ``workers`` processes (each its own scratch ledger), merged:
    counts added, times and memory the largest of any worker."""
    with ProcessPoolExecutor(max_workers=workers) as pool:
        parts = list(
            pool.map(
                files_and_argv,
                [files // workers + (k < files % workers) for k in range(workers)],
                [argv_count // workers + (k < argv_count % workers) for k in range(workers)],
                [seed + k for k in range(workers)],
                [k * (files // workers + 1) for k in range(workers)],
            )
        )
    merged = dict(parts[0])
    rows: dict[str, dict[str, int]] = {}
    for part in parts:
        for kind, row in part["rows"].items():
            into = rows.setdefault(kind, dict.fromkeys(row, 0))
            for key, value in row.items():
                into[key] += value
    merged["rows"] = rows
    merged["workers"] = workers
    merged["findings"] = sum(p["findings"] for p in parts)
    merged["finding_samples"] = [f for p in parts for f in p["finding_samples"]][:10]
    merged["ledger_balanced_after"] = all(p["ledger_balanced_after"] for p in parts)
    for key in ("files_s", "argv_s", "rss_start_mib", "rss_end_mib", "peak_rss_mib"):
        merged[key] = max(p[key] for p in parts)
    raisers = [r for p in parts for r in p["peak_raisers"]]
    merged["peak_raisers"] = sorted(raisers, key=lambda r: -r["grew_mib"])[:5]
    return merged


def _keep(findings: list[Outcome]) -> None:
    if not findings:
        return
    FINDINGS.mkdir(parents=True, exist_ok=True)
    with (FINDINGS / "findings.jsonl").open("a") as out:
        for o in findings:
            out.write(json.dumps({"argv": o.argv, "problem": o.problem, "stderr": o.stderr}) + "\n")


def section(protocol_rows: list[dict[str, Any]], cli: dict[str, Any], command: str) -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [
        HEADING,
        "",
        f"`{command}` (machine: {os.cpu_count()} cores shared with other engineers' test runs, "
        f"load average {load} at the end; Python {platform.python_version()}). "
        "What each part sends and checks: the docstring of `bench/fuzz.py`.",
        "",
        "**Protocol frames** against a `warehouse serve` subprocess, an honest robot and a "
        "viewer beside the attackers:",
        "",
        "| mode | hostile messages | frames sent | rejected | server exits "
        "| robots no key stands for | server RSS MiB idle / peak / end "
        "| honest robot CONNECTIONBROKEN | s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in protocol_rows:
        lines.append(
            f"| {r['mode']} | {r['messages']:,} | {r['frames_sent']:,} | {r['rejected']:,} "
            f"| {r['crashes']} | {len(r['unexpected_robots']) if r['mode'] == 'CURVE' else 'n/a'} "
            f"| {r['idle_rss_mib']} / {r['peak_rss_mib']} / {r['end_rss_mib']} "
            f"| {r['honest_broken']} | {r['seconds']} |"
        )
    lines += [
        "",
        "**Files and command lines** through `warehouse.cli.main` in-process (`runs` is the "
        "number of commands run: an orders file is read by `slot` and by `wave`):",
        "",
        "| input | inputs | runs | accepted | exit 0 | exit 2, one line | refused with a ledger, "
        "ledger unchanged | findings |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for kind, row in cli["rows"].items():
        lines.append(
            f"| {kind} | {row['inputs']:,} | {row['runs']:,} | {row['accepted']:,} "
            f"| {row['exit_0']:,} | {row['exit_2']:,} | {row['ledger']:,} | {row['problems']} |"
        )
    total = sum(r["inputs"] for k, r in cli["rows"].items() if k != "argv")
    lines += [
        "",
        f"- {total:,} files and {cli['rows'].get('argv', {}).get('inputs', 0):,} command "
        f"lines in {cli['files_s']} s + {cli['argv_s']} s; findings (crash, traceback, other "
        f"exit code, more than one line, a refused input that changed the ledger, an input "
        f"over its 60 s budget): **{cli['findings']}**; the ledger balanced afterwards: "
        f"{cli['ledger_balanced_after']}.",
        f"- Memory of the fuzzing process (it runs every command): RSS {cli['rss_start_mib']} "
        f"MiB before the files, {cli['rss_end_mib']} MiB at the end, peak {cli['peak_rss_mib']}"
        " MiB.",
        "- Accepted = exit 0, or (scenarios) read and bound in full, then refused only for "
        "`--planner none`, which stops the day before it starts.",
    ]
    if cli["peak_raisers"]:
        top = cli["peak_raisers"][0]
        lines.append(
            f"- The input that raised the peak most (+{top['grew_mib']} MiB, {top['kind']}): "
            f"`{' '.join(top['argv'])}`."
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100_000, help="hostile messages per mode")
    parser.add_argument("--flood", type=int, default=150_000, help="unread invalid frames")
    parser.add_argument("--peers", type=int, default=8)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--argv", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--workers", type=int, default=2, help="processes for the files")
    parser.add_argument("--skip-protocol", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    with ProcessPoolExecutor(max_workers=1) as files_side:  # the files beside the frames
        cli_future = files_side.submit(parallel, args.files, args.argv, args.seed, args.workers)
        protocol_rows = (
            [] if args.skip_protocol else protocol(args.frames, args.flood, args.peers, args.seed)
        )
        if protocol_rows:
            PROTOCOL_JSON.parent.mkdir(parents=True, exist_ok=True)
            PROTOCOL_JSON.write_text(json.dumps(protocol_rows, indent=2))
        cli = cli_future.result()
    result = {"protocol": protocol_rows, "cli": cli}
    command = (
        f".venv/bin/python bench/fuzz.py --frames {args.frames} --flood {args.flood} "
        f"--files {args.files} --argv {args.argv} --seed {args.seed} --workers {args.workers}"
    )
    text = section(protocol_rows, cli, command)
    print(json.dumps(result, indent=2) if args.json else text)
    if args.write:
        write_section(REPO / "docs" / "benchmarks.md", HEADING, text)
    protocol_ok = all(
        r["crashes"] == 0 and r["honest_broken"] == 0 and not r["unexpected_robots"]
        for r in protocol_rows
    )
    return 0 if protocol_ok and cli["findings"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
