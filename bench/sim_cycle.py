"""CPU time of the fleet manager's decision cycle in `warehouse bench sim`, against a baseline.

    .venv/bin/python bench/sim_cycle.py --baseline be905e1 --robots 200 --seconds 200

Wall-clock speed-up on this shared machine tracks the other engineers' load; the
thread CPU time spent inside `FleetCore.cycle` does not (much). Each run is one
`warehouse bench sim --robots N --seconds S --seed K --json` in a subprocess on a
tree (its own packages first on the path) with `FleetCore.cycle` wrapped to sum
`time.thread_time()`; the trees alternate seed by seed. Every command a cycle
returns is hashed, so the two trees are shown to decide the same thing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def child(argv: list[str]) -> None:
    """In the tree on PYTHONPATH: run the bench with `FleetCore.cycle` timed and hashed."""
    import contextlib
    import io

    here = str(Path(__file__).resolve().parent)
    sys.path[:] = [p for p in sys.path if p != here]  # bench/sim.py is not the `sim` package
    from fleet.manager import core
    from warehouse.cli import main

    digest = hashlib.sha256()
    spent = [0.0, 0]
    original = core.FleetCore.cycle

    def cycle(self: core.FleetCore, now: float) -> list:
        start = time.thread_time()
        out = original(self, now)
        spent[0] += time.thread_time() - start
        spent[1] += 1
        digest.update(repr(out).encode())
        return out

    core.FleetCore.cycle = cycle  # type: ignore[method-assign]
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        main(["bench", "sim", *argv, "--json"])
    result = json.loads(buffer.getvalue())
    result.update(cycle_cpu_s=spent[0], cycles=spent[1], commands=digest.hexdigest()[:16])
    print(json.dumps(result))


def run_once(tree: Path, robots: int, seconds: float, seed: int) -> dict:
    from bench.sim import run_json

    args = ["--robots", str(robots), "--seconds", f"{seconds:g}", "--seed", str(seed)]
    return run_json(tree, [str(REPO / "bench" / "sim_cycle.py"), "--child", *args])


def main() -> int:
    if "--child" in sys.argv:
        child([a for a in sys.argv[1:] if a != "--child"])  # the tree on PYTHONPATH only
        return 0
    sys.path.insert(0, str(REPO))
    from bench.sim import export, load

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", metavar="REV", required=True, help="commit to compare")
    parser.add_argument("--robots", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=200.0, help="simulated s per run")
    parser.add_argument("--repeats", type=int, default=3, help="seeds")
    args = parser.parse_args()
    ms: dict[str, list[float]] = {"this": [], "baseline": []}
    speed: dict[str, list[float]] = {"this": [], "baseline": []}
    same = True
    with tempfile.TemporaryDirectory(prefix="bench-cycle-") as tmp:
        trees = {"baseline": export(args.baseline, Path(tmp)), "this": REPO}
        for seed in range(args.repeats):
            hashes = set()
            for name, tree in trees.items():
                result = run_once(tree, args.robots, args.seconds, seed)
                ms[name].append(1000 * result["cycle_cpu_s"] / max(result["cycles"], 1))
                speed[name].append(result["speedup"])
                hashes.add(result["commands"])
                print(name, seed, f"load {load()}", json.dumps(result), file=sys.stderr)
            same &= len(hashes) == 1
    ours, theirs = statistics.median(ms["this"]), statistics.median(ms["baseline"])
    print(
        f"{args.robots} robots, {args.seconds:g} simulated s, {args.repeats} seeds: manager cycle "
        f"CPU {ours:.1f} ms (this) vs {theirs:.1f} ms ({args.baseline}), "
        f"ratio {ours / theirs:.2f}; "
        f"speed-up {statistics.median(speed['this']):.1f}x vs "
        f"{statistics.median(speed['baseline']):.1f}x; same commands every seed: {same}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
