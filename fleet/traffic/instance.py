"""Lifelong MAPF problems: a Robot Runners 2023 instance or random starts and goals.

Robot Runners 2023 instance: a JSON file with ``mapFile``, ``agentFile``,
``teamSize``, ``taskFile`` (paths relative to the JSON); ``.agents`` and
``.tasks`` files hold a count line, then one linearised cell id
(``row * width + col``) per line. Tasks are assigned round-robin: robot ``k``
gets tasks ``k, k + N, k + 2N, ...``. Every problem is validated up front so a
bad file is one clear error, never a crash mid-run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fleet.traffic.lifelong import RandomTasks, RoundRobinTasks, TaskStream, random_starts
from wms.errors import InputError
from wms.input_files import MiB, read_input_bytes
from wms.layout.grid import passable_mask
from wms.layout.mapfile import read_map

INSTANCE_KEYS = ("mapFile", "agentFile", "teamSize", "taskFile")


@dataclass(frozen=True)
class MapfProblem:
    """A floor, start cells, and a way to make a fresh task stream (one per planner run)."""

    name: str
    navigable: np.ndarray
    starts: np.ndarray
    make_tasks: Callable[[], TaskStream]
    known_goals: np.ndarray | None = None
    """Task goal cells in queue order, when known up front (tables are warmed for them)."""

    @property
    def agents(self) -> int:
        return int(self.starts.size)


def random_problem(map_path: str | Path, agents: int, seed: int) -> MapfProblem:
    """Distinct random free starts; goals uniform over free cells from a seeded stream."""
    navigable = passable_mask(read_map(map_path))
    free = np.flatnonzero(navigable.ravel())
    if free.size == 0:
        raise InputError(str(map_path), "map has no free cells")
    starts = random_starts(navigable, agents, seed)
    return MapfProblem(
        name=Path(map_path).stem,
        navigable=navigable,
        starts=starts,
        make_tasks=lambda: RandomTasks(free, seed),
    )


def read_instance(path: str | Path, agents: int | None = None) -> MapfProblem:
    """A Robot Runners 2023 instance; ``agents`` (optional) uses only the first N robots."""
    path = Path(path)
    try:
        spec = json.loads(read_input_bytes(path, 16 * MiB).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(str(path), f"not a JSON instance ({error})") from None
    if not isinstance(spec, dict):
        raise InputError(str(path), "instance must be a JSON object")
    for key in INSTANCE_KEYS:
        if key not in spec:
            raise InputError(str(path), f"missing key {key!r}")
    team = spec["teamSize"]
    if not isinstance(team, int) or isinstance(team, bool) or team <= 0:
        raise InputError(f"{path}: teamSize", f"{team!r} is not a positive integer")
    for key in ("mapFile", "agentFile", "taskFile"):
        if not isinstance(spec[key], str):
            raise InputError(f"{path}: {key}", "must be a path string")
    strategy = spec.get("taskAssignmentStrategy", "roundrobin")
    if strategy != "roundrobin":
        raise InputError(f"{path}: taskAssignmentStrategy", f"{strategy!r} is not supported")
    base = path.parent
    navigable = passable_mask(read_map(base / spec["mapFile"]))
    size = navigable.size
    starts = read_cells(base / spec["agentFile"], size)
    tasks = read_cells(base / spec["taskFile"], size)
    if starts.size < team:
        raise InputError(str(base / spec["agentFile"]), f"{starts.size} agents, teamSize is {team}")
    if agents is not None:
        if agents > team:
            raise InputError("--agents", f"{agents} is more than the instance's teamSize {team}")
        team = agents
    starts = starts[:team]
    flat = navigable.ravel()
    for source, cells in ((spec["agentFile"], starts), (spec["taskFile"], tasks)):
        bad = np.flatnonzero(~flat[cells])
        if bad.size:
            k = int(bad[0])
            row, col = divmod(int(cells[k]), navigable.shape[1])
            raise InputError(
                str(base / source),
                f"line {k + 2}: cell {int(cells[k])} (row {row}, col {col}) is blocked",
            )
    return MapfProblem(
        name=path.stem,
        navigable=navigable,
        starts=starts,
        make_tasks=lambda: RoundRobinTasks(tasks, team),
        known_goals=tasks,
    )


def read_cells(path: Path, size: int) -> np.ndarray:
    """A count line then one cell id per line; `InputError` names the bad line."""
    try:
        lines = read_input_bytes(path, 256 * MiB).decode("ascii").split()
    except UnicodeDecodeError as error:
        raise InputError(str(path), f"cannot be read ({error})") from None
    if not lines:
        raise InputError(str(path), "empty file")
    try:
        values = np.array([int(v) for v in lines], dtype=np.int64)
    except ValueError:
        bad = next(k for k, v in enumerate(lines) if not v.lstrip("-").isdigit())
        raise InputError(f"{path}:{bad + 1}", f"{lines[bad]!r} is not an integer") from None
    count, cells = int(values[0]), values[1:]
    if count != cells.size:
        raise InputError(str(path), f"count line says {count} but {cells.size} cells follow")
    outside = np.flatnonzero((cells < 0) | (cells >= size))
    if outside.size:
        k = int(outside[0])
        raise InputError(f"{path}:{k + 2}", f"cell {int(cells[k])} is off the map")
    return cells
