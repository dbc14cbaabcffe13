"""Simulator speed benchmark: simulated seconds per wall second of the whole system in lockstep.

    .venv/bin/python bench/sim.py                         # print the section
    .venv/bin/python bench/sim.py --write                 # and replace it in docs/benchmarks.md
    .venv/bin/python bench/sim.py --baseline fb2be9d      # against an older commit, same run

Each run is one `warehouse bench sim --robots N --seed S --json` subprocess on
configs/retail.toml (the WMS plan, the fleet manager, simulated controllers over
real ZeroMQ, a barrier per 1 s tick); the planning of the day is not timed, only
the simulated floor. With ``--baseline REV`` the same command also runs on the
tree of commit REV (`git archive` into a temporary folder), alternating with
this tree seed by seed, so both see the same load on this shared machine; the
section then reports both medians and their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.sections import write_section  # noqa: E402

HEADING = "## Simulator: lockstep speed"
SIZES = (50, 100, 200)


def run_once(tree: Path, robots: int, seed: int, seconds: float) -> dict:
    """One `warehouse bench sim` in ``tree`` (its own packages first on the path)."""
    command = ["bench", "sim", "--robots", str(robots), "--seconds", f"{seconds:g}"]
    done = subprocess.run(
        [sys.executable, "-m", "warehouse.cli", *command, "--seed", str(seed), "--json"],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        check=False,
        timeout=3600,
    )
    if done.returncode != 0:
        raise SystemExit(f"bench sim failed in {tree}: {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout)


def export(rev: str, into: Path) -> Path:
    """The tree of commit ``rev`` in ``into`` (tracked files only)."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", rev], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def measure(
    trees: dict[str, Path], sizes: list[int], repeats: int, seconds: float
) -> tuple[list[dict], list[str]]:
    rows, loads = [], [load()]
    for robots in sizes:
        speed: dict[str, list[float]] = {name: [] for name in trees}
        violations = 0
        for seed in range(repeats):
            for name, tree in trees.items():  # alternate: both see the same load
                result = run_once(tree, robots, seed, seconds)
                speed[name].append(result["speedup"])
                violations += result["safety_violations"] if name == "this" else 0
            loads.append(load())
        rows.append({"robots": robots, "speedups": speed, "violations": violations})
        print(robots, speed, file=sys.stderr)
    return rows, loads


def section(rows: list[dict], loads: list[str], args: argparse.Namespace) -> str:
    base = args.baseline
    command = "`.venv/bin/python bench/sim.py --write" + (f" --baseline {base}" if base else "")
    if args.sizes != ",".join(map(str, SIZES)):
        command += f" --sizes {args.sizes}"
    command += f" --repeats {args.repeats}`" if args.repeats != 3 else "`"
    head = "| robots | speed-up, median | min | max |"
    rule = "|---|---|---|---|"
    if base:
        head += f" baseline {base}, median | ratio, medians |"
        rule += "---|---|"
    head += " safety violations |"
    rule += "---|"
    lines = []
    for row in rows:
        ours = row["speedups"]["this"]
        med = statistics.median(ours)
        line = f"| {row['robots']} | **{med:.1f}×** | {min(ours):.1f}× | {max(ours):.1f}× |"
        if base:
            theirs = statistics.median(row["speedups"]["baseline"])
            line += f" {theirs:.1f}× | {med / theirs:.2f} |"
        lines.append(line + f" {row['violations']} |")
    return "\n".join(
        [
            HEADING,
            "",
            f"{command} (machine: {os.cpu_count()} cores, shared with other engineers; "
            f"Python {platform.python_version()}; load average 1/5/15 min at the start and "
            f"after each size: {'; '.join(loads)}). One run is `warehouse bench sim "
            f"--robots N --seconds {args.seconds:g} --seed S`: the day on configs/retail.toml "
            "(3,000 synthetic orders), the fleet manager and N simulated controllers over real "
            "ZeroMQ on loopback, one barrier per 1 s tick; the simulated robots run in a child "
            "process (`sim.process_runner`), the bus and the manager in the parent. Speed-up = "
            "simulated seconds / wall seconds of the running floor (planning the day and "
            f"starting the child are not timed); median of {args.repeats} seeds"
            + (
                f", each run alternating with the same run on the tree of commit `{base}`."
                if base
                else "."
            )
            + " Target: ≥ 20× with 200 robots.",
            "",
            head,
            rule,
            *lines,
            "",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    parser.add_argument("--repeats", type=int, default=3, help="seeds per size")
    parser.add_argument("--seconds", type=float, default=300.0, help="simulated s per run")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="fleet sizes")
    parser.add_argument("--baseline", metavar="REV", help="also run commit REV, alternating")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="bench-sim-") as tmp:
        trees = {"this": REPO}
        if args.baseline:
            trees["baseline"] = export(args.baseline, Path(tmp))
        rows, loads = measure(trees, sizes, args.repeats, args.seconds)
    text = section(rows, loads, args)
    print(text)
    if args.write:
        write_section(REPO / "docs" / "benchmarks.md", HEADING, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
