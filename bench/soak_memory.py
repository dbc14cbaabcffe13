"""Where the soak's fleet process memory goes: the soak's floor with tracemalloc on.

    nice -n 19 .venv/bin/python bench/soak_memory.py --robots 40 --hours 2 --warmup-h 0.5

Builds the floor of `bench/soak.py` (`bench.soak.build`: the bus and the fleet
manager in this process, the simulated robots in a child process, the task log
in an SQLite file) and runs it with the same task stream. After ``--warmup-h``
simulated hours (start-up, the first kept finished tasks, the caches filling)
it starts `tracemalloc` in this process only (the world child is already
running and is not traced), then every ``--sample-h`` it records:

* RSS of both processes (VmRSS), and what makes up the fleet's: the bytes
  tracemalloc sees alive (Python objects allocated since the warm-up), the
  SQLite library's own heap (``sqlite3_memory_used``: page caches, statements),
  glibc's in-use and free heap bytes (``mallinfo2``; free bytes are
  fragmentation the allocator holds);
* object counts by type (`gc.get_objects`);
* the size of every container reachable from the floor, by attribute path
  (``run.core.tasks._open`` ...), so a structure that grows with ticks or tasks
  shows by name, and a bounded cache shows as a size that stops rising.

At the end it prints the growth from the first to the last sample: tracemalloc's
``compare_to(..., "traceback")`` top entries, the object types and the
containers that grew, each per simulated hour and per task done. A structure
that grows linearly with tasks done is unbounded; one that flattens is a cache.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import multiprocessing
import os
import sys
import tempfile
import tracemalloc
from collections import Counter, deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.soak import HOUR_S, KEEP_FINISHED, build, rss_kib, warm_caches  # noqa: E402
from fleet.manager.model import TaskStatus  # noqa: E402
from fleet.manager.store import SqlTaskStore  # noqa: E402
from warehouse.floor_sim import LockstepFloor  # noqa: E402

MIB = 1024 * 1024


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _native() -> tuple[Any, Any]:
    """``sqlite3_memory_used`` and glibc's ``mallinfo2`` (None where the platform lacks one)."""
    sqlite_used = malloc_info = None
    try:
        import _sqlite3

        sqlite_used = ctypes.CDLL(_sqlite3.__file__).sqlite3_memory_used
        sqlite_used.restype = ctypes.c_int64
    except (ImportError, OSError, AttributeError):
        pass
    try:
        malloc_info = ctypes.CDLL("libc.so.6").mallinfo2
        malloc_info.restype = _MallInfo2
    except (OSError, AttributeError):
        pass
    return sqlite_used, malloc_info


def containers(root: object, max_depth: int = 6) -> dict[str, int]:
    """Sizes of the containers reachable from ``root`` through attributes, by first path.

    Walks instance ``__dict__``s and ``__slots__``, and into the values of dicts,
    lists, tuples, sets and deques; each object is visited once (its shortest path
    wins). Containers of fewer than 16 items are left out (too many to read).
    """
    sizes: dict[str, int] = {}
    seen: set[int] = set()
    queue: deque[tuple[str, object, int]] = deque([("run", root, 0)])
    while queue:
        path, obj, depth = queue.popleft()
        if id(obj) in seen or isinstance(obj, str | bytes | int | float | bool | type(None)):
            continue
        seen.add(id(obj))
        if isinstance(obj, dict | list | tuple | set | frozenset | deque):
            if len(obj) >= 16:
                sizes[path] = len(obj)
            if depth >= max_depth:
                continue
            items: Iterator[tuple[str, object]]
            if isinstance(obj, dict):
                items = (("{}", v) for v in obj.values())
            else:
                items = (("[]", v) for v in obj)
            for i, (suffix, child) in enumerate(items):
                if i >= 64:  # one container's elements share a shape; a sample suffices
                    break
                queue.append((path + suffix, child, depth + 1))
            continue
        if depth >= max_depth or type(obj).__module__.split(".")[0] not in _OWN:
            continue
        for name, child in _attributes(obj):
            queue.append((f"{path}.{name}", child, depth + 1))
    return sizes


_OWN = {"fleet", "warehouse", "wms", "sim", "core", "bench"}


def _attributes(obj: object) -> Iterator[tuple[str, object]]:
    yield from getattr(obj, "__dict__", {}).items()
    for cls in type(obj).__mro__:
        for name in getattr(cls, "__slots__", ()):
            if hasattr(obj, name):
                yield name, getattr(obj, name)


def sample(run: LockstepFloor, child_pid: int | None, native: tuple[Any, Any]) -> dict[str, Any]:
    sqlite_used, malloc_info = native
    gc.collect()
    out: dict[str, Any] = {
        "sim_h": round(run.now_s / HOUR_S, 3),
        "tasks_done": run.core.tasks.finished[TaskStatus.DONE],
        "fleet_rss_mib": round((rss_kib(os.getpid()) or 0) / 1024, 2),
        "world_rss_mib": round((rss_kib(child_pid) or 0) / 1024, 2) if child_pid else None,
        "traced_mib": round(tracemalloc.get_traced_memory()[0] / MIB, 3),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    if sqlite_used is not None:
        out["sqlite_mib"] = round(sqlite_used() / MIB, 3)
    if malloc_info is not None:
        info = malloc_info()
        out["malloc_in_use_mib"] = round((info.uordblks + info.hblkhd) / MIB, 2)
        out["malloc_free_mib"] = round(info.fordblks / MIB, 2)
    out["types"] = Counter(type(o).__qualname__ for o in gc.get_objects())
    out["containers"] = containers(run)
    return out


def growth(first: dict[str, int], last: dict[str, int], top: int) -> list[tuple[str, int, int]]:
    keys = set(first) | set(last)
    rows = [(k, first.get(k, 0), last.get(k, 0)) for k in keys]
    rows = [r for r in rows if r[2] != r[1]]
    return sorted(rows, key=lambda r: -(r[2] - r[1]))[:top]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--robots", type=int, default=40)
    parser.add_argument("--hours", type=float, default=2.0, help="simulated hours in all")
    parser.add_argument("--warmup-h", type=float, default=0.5, help="before tracing starts")
    parser.add_argument("--sample-h", type=float, default=0.25)
    parser.add_argument("--frames", type=int, default=25)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--keep-finished",
        type=int,
        default=KEEP_FINISHED // 10,
        help="finished tasks kept in memory (fewer than the soak's, so the task book is "
        "full before the warm-up ends and its filling is not mistaken for growth)",
    )
    parser.add_argument(
        "--warm",
        action="store_true",
        help="fill the floor-bounded distance caches first (`bench.soak.warm_caches`), so "
        "their filling is not in the traced growth",
    )
    parser.add_argument("--json", type=Path, help="write the samples' figures here")
    args = parser.parse_args()
    if not 0 <= args.warmup_h < args.hours or args.sample_h <= 0 or args.robots < 1:
        print("soak_memory: need 0 <= --warmup-h < --hours, --sample-h > 0, --robots >= 1")
        return 2
    native = _native()
    with tempfile.TemporaryDirectory(prefix="soak-mem-") as scratch:
        store = SqlTaskStore(Path(scratch) / "site.db")
        try:
            run, stream = build(args.robots, args.seed, store, args.keep_finished)
            if args.warm:
                warm_caches(run)
            with run:
                children = multiprocessing.active_children()
                child_pid = children[0].pid if children else None
                samples: list[dict[str, Any]] = []
                snapshots: list[tracemalloc.Snapshot] = []
                next_s = args.warmup_h * HOUR_S
                while True:
                    if run.now_s >= next_s:
                        if not tracemalloc.is_tracing():
                            tracemalloc.start(args.frames)
                        s = sample(run, child_pid, native)
                        snapshots.append(tracemalloc.take_snapshot())
                        samples.append(s)
                        run.cycle_ms.clear()  # as the soak does: one sample's cycle times
                        brief = {k: v for k, v in s.items() if k not in ("types", "containers")}
                        print(json.dumps(brief), file=sys.stderr, flush=True)
                        next_s += args.sample_h * HOUR_S
                    if run.now_s >= args.hours * HOUR_S:
                        break
                    run.service.call(stream.top_up, timeout_s=300.0)
                    run.step()
        finally:
            store.close()
    report(samples, snapshots, args.top)
    if args.json is not None:
        figures = [{k: v for k, v in s.items() if k not in ("types",)} for s in samples]
        args.json.write_text(json.dumps(figures, indent=1))
    return 0


def report(samples: list[dict[str, Any]], snapshots: list[tracemalloc.Snapshot], top: int) -> None:
    first, last = samples[0], samples[-1]
    hours = max(last["sim_h"] - first["sim_h"], 1e-9)
    tasks = max(last["tasks_done"] - first["tasks_done"], 1)
    print(f"\n== {first['sim_h']} -> {last['sim_h']} simulated h, {tasks} tasks done")
    for key in ("fleet_rss_mib", "world_rss_mib", "traced_mib", "sqlite_mib", "malloc_in_use_mib"):
        if first.get(key) is not None and last.get(key) is not None:
            grew = last[key] - first[key]
            print(
                f"{key:>18}: {first[key]:9.2f} -> {last[key]:9.2f}  {grew / hours:+8.3f} MiB/h"
                f"  {grew * MIB / tasks:+9.1f} B/task   per sample: "
                + ", ".join(str(s[key]) for s in samples)
            )
    print("\n== tracemalloc, first -> last snapshot, by traceback (top growth)")
    for stat in snapshots[-1].compare_to(snapshots[0], "traceback")[:top]:
        if stat.size_diff <= 0:
            continue
        print(
            f"\n{stat.size_diff / 1024:+10.1f} KiB ({stat.size_diff / tasks:+8.1f} B/task) "
            f"{stat.count_diff:+8d} blocks"
        )
        for line in stat.traceback.format()[-16:]:
            print("   ", line)
    print("\n== object types (count first -> last, per 1,000 tasks)")
    for name, a, b in growth(first["types"], last["types"], top):
        print(f"{name:>40}: {a:9d} -> {b:9d}  {(b - a) * 1000 / tasks:+9.1f}")
    print("\n== containers reachable from the floor (size per sample)")
    for path, a, b in growth(first["containers"], last["containers"], top):
        series = ", ".join(str(s["containers"].get(path, 0)) for s in samples)
        print(f"{path}: {a} -> {b}: {series}")


if __name__ == "__main__":
    raise SystemExit(main())
