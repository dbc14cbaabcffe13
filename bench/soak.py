"""Soak: lifelong operation for a simulated day, one command.

    nice .venv/bin/python bench/soak.py                      # 24 simulated hours, 100 robots
    .venv/bin/python bench/soak.py --hours 0.25 --robots 20  # a short version
    .venv/bin/python bench/soak.py --write                   # and record it in docs/benchmarks.md

The whole system in lockstep (`warehouse.floor_sim.LockstepFloor`: the real bus
and fleet manager in this process, the simulated robots in a child process,
real ZeroMQ on loopback, a barrier per 1 s tick) on configs/retail.toml with a
continuous task stream: whenever fewer than half the fleet's number of tasks
are queued, new pick routes (two pick stops at random storage faces, then a
station) are submitted, so every robot keeps getting work for the whole run.

What it checks, per robot and per tick:

* **progress**: a robot that holds a task (its own or a charge task) makes
  progress when it moves to another cell, starts or ends an action, gets
  another task, or gains charge. The longest run of ticks without progress is
  kept per robot; a deadlock (robots waiting on each other for ever) shows as
  a run that grows until the end, so the soak fails when any run exceeds
  ``--stall-limit`` ticks;
* **memory**: resident size (VmRSS) of both processes, sampled every simulated
  hour; the growth from hour 1 to the end is reported (hour 0 holds start-up);
* **throughput**: tasks done per simulated hour (a slow jam shows as a decline);
* **safety**: the simulator's own monitor (collisions, swaps, blocked cells).

Each hour's figures are also appended to ``--log`` as one JSON line as the run
goes, so a run cut short still leaves its figures.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import os
import platform
import random
import re
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from bench.sections import write_section  # noqa: E402
from fleet.manager.config import FleetConfig  # noqa: E402
from fleet.manager.core import FleetCore  # noqa: E402
from fleet.manager.model import (  # noqa: E402
    PickLine,
    Stop,
    StopAction,
    TaskKind,
    TaskSpec,
    TaskStatus,
)
from fleet.manager.store import SqlTaskStore  # noqa: E402
from fleet.traffic.distances import GoalDistances  # noqa: E402
from sim.controller import SimRobotParams  # noqa: E402
from sim.runner import SimRobotSpec  # noqa: E402
from warehouse.config import load_config  # noqa: E402
from warehouse.fleet_lockstep import start_cells  # noqa: E402
from warehouse.floor_sim import LockstepFloor, LockstepSettings  # noqa: E402
from wms.layout import Floor  # noqa: E402

HEADING = "## Soak: a simulated day of lifelong operation (issue 11)"
HOUR_S = 3600.0
KEEP_FINISHED = 1000
"""Finished tasks the manager keeps in memory (the task log on disk keeps all of them)."""


def rss_kib(pid: int) -> int | None:
    """Resident size of a process in KiB (None once it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(found.group(1)) if found else None


class TaskStream:
    """Pick routes at random storage faces, submitted to keep a queue of ``target`` tasks."""

    def __init__(self, floor: Floor, target: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.faces = sorted({loc.access_cell for loc in floor.locations})
        self.stations = sorted(p.cell for p in floor.stations)
        self.target = target
        self.made = 0

    def top_up(self, core: FleetCore) -> int:
        """Submit tasks until ``target`` are queued; runs on the manager's thread."""
        queued = sum(1 for t in core.tasks.open() if t.status is TaskStatus.QUEUED)
        added = 0
        for _ in range(max(0, self.target - queued)):
            task_id = f"soak{self.made}"
            picks = [self.faces[self.rng.randrange(len(self.faces))] for _ in range(2)]
            stops = tuple(
                Stop(cell, StopAction.PICK_LINES, 4.0, (PickLine(f"{task_id}/{i}", "", "", 1, ""),))
                for i, cell in enumerate(picks)
            )
            station = Stop(
                self.stations[self.rng.randrange(len(self.stations))], StopAction.STATION
            )
            core.submit(TaskSpec(task_id, TaskKind.PICK_ROUTE, (*stops, station)))
            self.made += 1
            added += 1
        return added


@dataclass
class Progress:
    """Per robot: what it looked like last tick and how long it has held a task unchanged."""

    last: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    battery: dict[str, float] = field(default_factory=dict)
    stalled: dict[str, int] = field(default_factory=dict)
    longest: dict[str, int] = field(default_factory=dict)
    worst_at_s: dict[str, float] = field(default_factory=dict)

    def observe(self, run: LockstepFloor, now_s: float) -> None:
        assert run.runner is not None
        for rid, track in run.core.robots.items():
            robot = run.runner.robot(rid)
            seen = (robot.cell, track.task_id, track.action_id)
            charged = robot.battery_pct > self.battery.get(rid, 101.0)
            self.battery[rid] = robot.battery_pct
            moved = seen != self.last.get(rid)
            self.last[rid] = seen
            if track.task_id is None or moved or charged:
                self.stalled[rid] = 0
                continue
            self.stalled[rid] = self.stalled.get(rid, 0) + 1
            if self.stalled[rid] > self.longest.get(rid, 0):
                self.longest[rid] = self.stalled[rid]
                self.worst_at_s[rid] = now_s

    def worst(self) -> tuple[str | None, int]:
        if not self.longest:
            return None, 0
        rid = max(self.longest, key=lambda r: (self.longest[r], r))
        return rid, self.longest[rid]


def soak(
    robots: int,
    hours: float,
    seed: int,
    stall_limit: int,
    log: Path | None,
    sample_s: float = HOUR_S,
    keep_finished: int = KEEP_FINISHED,
    warm: bool = False,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="soak-") as scratch:
        store = SqlTaskStore(Path(scratch) / "site.db")
        try:
            return _soak(
                robots, hours, seed, stall_limit, log, sample_s, store, keep_finished, warm
            )
        finally:
            store.close()


def build(
    robots: int, seed: int, store: SqlTaskStore, keep_finished: int
) -> tuple[LockstepFloor, TaskStream]:
    """The soak's floor (not started) and its task stream: ``robots`` robots on
    configs/retail.toml, the task log in ``store``, ``keep_finished`` finished tasks kept."""
    config = load_config(REPO / "configs" / "retail.toml")
    floor = config.floor
    cells = start_cells(floor, robots, {p.cell for p in floor.chargers})
    specs = [SimRobotSpec(f"amr{i:03d}", cell) for i, cell in enumerate(cells)]
    fleet = FleetConfig(cycle_s=1.0, seconds_per_cell=1.0)
    run = LockstepFloor(
        floor,
        specs,
        fleet=fleet,
        settings=LockstepSettings(tick_s=1.0),
        params=SimRobotParams(seconds_per_cell=1.0),
        store=store,
        keep_finished=keep_finished,
        seed=seed,
    )
    return run, TaskStream(floor, max(1, robots // 2), seed)


def warm_caches(run: LockstepFloor) -> int:
    """Fill the two distance caches whose bound is the floor, as a day would fill them.

    The core's distance tables (`wms.layout.DistanceTables`, one ``int32`` table per
    source cell, 17.7 KiB on retail.toml) are kept for every cell a distance was asked
    from: stops, and robot cells when a matrix is computed from the robots' side, so up
    to every navigable cell (2,142 tables, ~37 MiB). The planner's goal pool
    (`GoalDistances`) is bounded by its capacity in rows and touches a row's pages the
    first time it is written. Both fill as random tasks reach new cells, ever more
    slowly (a coupon collector), which looks like a slowly declining leak in RSS;
    filling them before the run (``--warm``) shows what is left. Returns the tables
    computed.
    """
    cells = [(int(r), int(c)) for r, c in zip(*np.nonzero(run.floor.navigable), strict=True)]
    for start in range(0, len(cells), 256):
        run.core.tables.from_cells(cells[start : start + 256])  # the stack is dropped
    goals = getattr(run.core.planner, "distances", None)
    if isinstance(goals, GoalDistances):
        nodes = np.arange(goals.graph.size)
        for start in range(0, nodes.size, 64):  # the LRU evicts; every pool row is written
            goals.slots(nodes[start : start + 64])
    return len(cells)


def _soak(
    robots: int,
    hours: float,
    seed: int,
    stall_limit: int,
    log: Path | None,
    sample_s: float,
    store: SqlTaskStore,
    keep_finished: int,
    warm: bool,
) -> dict[str, Any]:
    """The run, with the task log in ``store`` (an SQLite file: what `warehouse serve --db`
    keeps), so the manager keeps only ``keep_finished`` finished tasks in memory."""
    run, stream = build(robots, seed, store, keep_finished)
    if warm:
        warm_caches(run)
    progress = Progress()
    samples: list[dict[str, Any]] = []
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("")
    limit_s = hours * HOUR_S
    with run:
        children = multiprocessing.active_children()
        child_pid = children[0].pid if children else None
        wall0 = time.perf_counter()
        done_before = 0
        next_sample = 0.0
        stalled_out = False
        stopped = False
        stop = threading.Event()
        # SIGINT / SIGTERM end the run between two ticks; the hours so far are reported.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        while True:
            if run.now_s >= next_sample or run.now_s >= limit_s or stopped:
                done = run.core.tasks.finished[TaskStatus.DONE]
                worst_robot, worst = progress.worst()
                sample = {
                    "sim_h": round(run.now_s / HOUR_S, 3),
                    "wall_s": round(time.perf_counter() - wall0, 1),
                    "fleet_rss_mib": _mib(rss_kib(os.getpid())),
                    "world_rss_mib": _mib(rss_kib(child_pid)) if child_pid else None,
                    "tasks_submitted": stream.made,
                    "tasks_done": done,
                    "done_this_hour": done - done_before,
                    "tasks_open": len(run.core.tasks.open()),
                    "longest_stall_ticks": worst,
                    "longest_stall_robot": worst_robot,
                    "cycle_ms_p95_last_hour": _p95(run.cycle_ms),
                    "tasks_in_memory": len(run.core.tasks),
                    "load_avg_1m": round(os.getloadavg()[0], 2),
                    "safety_violations": len(run.runner.violations()) if run.runner else None,
                    "manager_errors": run.service.errors,
                }
                done_before = done
                run.cycle_ms.clear()  # the harness keeps one sample's cycle times, not a day's
                samples.append(sample)
                if log is not None:
                    with log.open("a") as out:
                        out.write(json.dumps(sample) + "\n")
                print(json.dumps(sample), file=sys.stderr, flush=True)
                next_sample += sample_s
            if run.now_s >= limit_s or stopped:
                break
            if progress.worst()[1] > stall_limit:
                stalled_out = True
                break
            run.service.call(stream.top_up, timeout_s=300.0)
            run.step()
            progress.observe(run, run.now_s)
            stopped = stop.is_set()
        wall_s = time.perf_counter() - wall0
        violations = len(run.runner.violations()) if run.runner else None
        errors = run.service.errors
    return summarise(samples, progress, robots, hours, wall_s, violations, errors, stalled_out)


# The summary says how far a run stopped by a signal got: "sim_hours" against "target_hours".


def summarise(
    samples: list[dict[str, Any]],
    progress: Progress,
    robots: int,
    hours: float,
    wall_s: float,
    violations: int | None,
    errors: int,
    stalled_out: bool,
) -> dict[str, Any]:
    base = samples[1] if len(samples) > 2 else samples[0]
    end = samples[-1]
    longest = sorted(progress.longest.values())
    worst_robot, worst = progress.worst()
    return {
        "robots": robots,
        "sim_hours": round(end["sim_h"], 3),
        "target_hours": hours,
        "wall_s": round(wall_s, 1),
        "speedup": round(end["sim_h"] * HOUR_S / wall_s, 1) if wall_s else None,
        "tasks_submitted": end["tasks_submitted"],
        "tasks_done": end["tasks_done"],
        "done_per_hour": [s["done_this_hour"] for s in samples[1:]],
        "longest_stall_ticks": worst,
        "longest_stall_robot": worst_robot,
        "longest_stall_at_s": progress.worst_at_s.get(worst_robot) if worst_robot else None,
        "longest_stall_median_robot": longest[len(longest) // 2] if longest else 0,
        "stalled_out": stalled_out,
        "safety_violations": violations,
        "manager_errors": errors,
        "tasks_in_memory": [s["tasks_in_memory"] for s in samples],
        "tasks_open": [s["tasks_open"] for s in samples],
        "fleet_rss_mib": [s["fleet_rss_mib"] for s in samples],
        "world_rss_mib": [s["world_rss_mib"] for s in samples],
        "fleet_rss_growth_mib": _delta(base["fleet_rss_mib"], end["fleet_rss_mib"]),
        "world_rss_growth_mib": _delta(base["world_rss_mib"], end["world_rss_mib"]),
        "cycle_ms_p95_per_hour": [s["cycle_ms_p95_last_hour"] for s in samples[1:]],
        "load_avg_1m": [s["load_avg_1m"] for s in samples],
    }


def _mib(kib: int | None) -> float | None:
    return round(kib / 1024, 1) if kib is not None else None


def _delta(first: float | None, last: float | None) -> float | None:
    return round(last - first, 1) if first is not None and last is not None else None


def _p95(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2)


def rss_trend(samples: list[dict[str, Any]], key: str) -> dict[str, float | None]:
    """RSS at the start, at 1 simulated hour and at the end, and the least-squares slope in
    MiB per simulated hour over the samples from hour 1 on (hour 0 holds start-up and the
    first hour fills the bounded buffers: the world's trace, the kept finished tasks)."""
    points = [(s["sim_h"], s[key]) for s in samples if s.get(key) is not None]
    later = [(h, v) for h, v in points if h >= 1.0]
    slope = None
    if len(later) >= 2:
        mean_h = sum(h for h, _ in later) / len(later)
        mean_v = sum(v for _, v in later) / len(later)
        spread = sum((h - mean_h) ** 2 for h, _ in later)
        if spread > 0:
            slope = round(sum((h - mean_h) * (v - mean_v) for h, v in later) / spread, 3)
    return {
        "start": points[0][1] if points else None,
        "h1": later[0][1] if later else None,
        "end": points[-1][1] if points else None,
        "slope_per_h": slope,
    }


def section(result: dict[str, Any], samples: list[dict[str, Any]], command: str) -> str:
    """The docs/benchmarks.md section of a run: its summary and its per-hour samples."""
    r = result
    fleet, world = rss_trend(samples, "fleet_rss_mib"), rss_trend(samples, "world_rss_mib")
    hours = [s for s in samples if s["sim_h"] > 0]
    per_hour_wall = [
        round((b["wall_s"] - a["wall_s"]) / max(b["sim_h"] - a["sim_h"], 1e-9) / 60, 1)
        for a, b in itertools.pairwise(samples)
    ]
    lines = [
        HEADING,
        "",
        f"`{command}` (machine: {os.cpu_count()} cores, shared with other engineers' test runs; "
        f"Python {platform.python_version()}). The whole system in lockstep on "
        "configs/retail.toml: bus and fleet manager in one process, the simulated robots in a "
        "child process, real ZeroMQ on loopback, a barrier per 1 s tick, a continuous stream of "
        "pick routes (two picks and a station; half the fleet's number kept queued); the task "
        "log in an SQLite file, the manager keeping the open and the newest "
        f"{KEEP_FINISHED:,} finished tasks in memory. "
        "See the docstring of `bench/soak.py` for what counts as progress.",
        "",
        "| robots | simulated h | wall s | tasks done | longest ticks without progress "
        "(worst robot / median robot) | safety violations | manager errors "
        "| RSS MiB fleet start / 1 h / end (slope) | RSS MiB world start / 1 h / end (slope) |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {r['robots']} | {r['sim_hours']} | {r['wall_s']:,} | {r['tasks_done']:,} "
        f"| {r['longest_stall_ticks']} / {r['longest_stall_median_robot']} "
        f"| {r['safety_violations']} | {r['manager_errors']} "
        f"| {_trend(fleet)} | {_trend(world)} |",
        "",
        *(
            [
                f"- **Stopped at {r['sim_hours']} of the {r['target_hours']:g} simulated hours** "
                "(SIGTERM at the session's deadline; the figures are those of the hours run)."
            ]
            if r["sim_hours"] < r["target_hours"]
            else []
        ),
        "- Tasks done per simulated hour (the last one partial if stopped): "
        f"{', '.join(str(s['done_this_hour']) for s in hours)}.",
        "- Wall minutes per simulated hour: " + ", ".join(map(str, per_hour_wall)) + ".",
        "- Tasks in the manager's memory (open + kept finished) per hour: "
        f"{', '.join(str(s.get('tasks_in_memory', '-')) for s in samples)}.",
        f"- Fleet process RSS per hour (MiB): {_column(samples, 'fleet_rss_mib')}.",
        f"- World process RSS per hour (MiB): {_column(samples, 'world_rss_mib')}.",
        "- Longest ticks without progress so far, per hour: "
        f"{', '.join(str(s['longest_stall_ticks']) for s in samples)}.",
        f"- Decision cycle p95 per hour (ms): {', '.join(map(str, r['cycle_ms_p95_per_hour']))}.",
        f"- Load average (1 min) per hour: {', '.join(map(str, r['load_avg_1m']))}.",
    ]
    return "\n".join(lines) + "\n"


def _column(samples: list[dict[str, Any]], key: str) -> str:
    return ", ".join(str(s.get(key, "-")) for s in samples)


def _trend(trend: dict[str, float | None]) -> str:
    slope = trend["slope_per_h"]
    shown = f"{slope:+.2f} MiB/h" if slope is not None else "-"
    return f"{trend['start']} / {trend['h1']} / {trend['end']} ({shown})"


def read_log(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--robots", type=int, default=100)
    parser.add_argument("--hours", type=float, default=24.0, help="simulated hours")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--stall-limit",
        type=int,
        default=1800,
        help="ticks a robot may hold a task without progress before the soak fails",
    )
    parser.add_argument(
        "--sample-h", type=float, default=1.0, help="simulated hours between samples"
    )
    parser.add_argument(
        "--warm",
        action="store_true",
        help="fill the distance caches the floor bounds before the run (`warm_caches`)",
    )
    parser.add_argument("--log", type=Path, default=REPO / "runs" / "soak.jsonl")
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    parser.add_argument(
        "--section-from",
        type=Path,
        metavar="RESULT",
        help="no run: write the section of a finished run from its printed result (JSON) "
        "and its --log",
    )
    args = parser.parse_args()
    command = f"nice .venv/bin/python bench/soak.py --robots {args.robots} --hours {args.hours:g}"
    command += " --warm" if args.warm else ""
    if args.section_from is not None:
        result = json.loads(args.section_from.read_text())
        text = section(result, read_log(args.log), command)
        print(text)
        if args.write:
            write_section(REPO / "docs" / "benchmarks.md", HEADING, text)
        return 0
    result = soak(
        args.robots,
        args.hours,
        args.seed,
        args.stall_limit,
        args.log,
        args.sample_h * HOUR_S,
        warm=args.warm,
    )
    print(json.dumps(result, indent=2))
    if args.write and args.log is not None:
        text = section(result, read_log(args.log), command)
        write_section(REPO / "docs" / "benchmarks.md", HEADING, text)
    ok = not result["stalled_out"] and result["safety_violations"] == 0
    return 0 if ok and result["manager_errors"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
