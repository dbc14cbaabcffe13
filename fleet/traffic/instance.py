"""Lifelong MAPF problems: a Robot Runners 2023 or 2024 instance, or random starts and goals.

Robot Runners 2023 instance: a JSON file with ``mapFile``, ``agentFile``,
``teamSize``, ``taskFile`` (paths relative to the JSON); ``.agents`` and
``.tasks`` files hold a count line, then one linearised cell id
(``row * width + col``) per line. Tasks are assigned round-robin: robot ``k``
gets tasks ``k, k + N, k + 2N, ...``.

Robot Runners 2024 instance: the same keys plus ``numTasksReveal`` (tasks
known at any time, as a multiple of the team) and no
``taskAssignmentStrategy`` (a 2023 instance names it, with
``numTasksReveal: 1``); lines starting with ``#`` are
comments; each task line is its errands, comma-separated cell ids, visited in
order. Tasks are scheduled (`fleet.traffic.schedule`), revealed in file order
and cycled when the file runs out. A 2023 instance may be scheduled the same
way (one errand per task, 1.5 × the team revealed) with ``scheduler``.

Every problem is validated up front so a bad file is one clear error, never
a crash mid-run.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.files import MiB, read_input_bytes
from fleet.traffic.lifelong import RandomTasks, RoundRobinTasks, TaskStream, random_starts
from fleet.traffic.schedule import ErrandTasks, ScheduledTasks, make_scheduler
from wms.errors import InputError
from wms.layout.grid import passable_mask
from wms.layout.mapfile import read_map

INSTANCE_KEYS = ("mapFile", "agentFile", "teamSize", "taskFile")
DEFAULT_REVEAL = 1.5


@dataclass(frozen=True)
class MapfProblem:
    """A floor, start cells, and a way to make a fresh task stream (one per planner run)."""

    name: str
    navigable: np.ndarray
    starts: np.ndarray
    make_tasks: Callable[[], TaskStream]
    known_goals: np.ndarray | None = None
    """Task goal cells in queue order, when known up front (tables are warmed for them)."""
    errand_tasks: ErrandTasks | None = None
    """The task list to schedule (2024 instances, or a 2023 list when asked)."""
    default_scheduler: str | None = None
    """``ours`` for a 2024 instance (tasks must be scheduled), ``None``: round robin."""

    def tasks(self, scheduler: str | None = None) -> TaskStream:
        """A fresh task stream; ``scheduler`` (``ours``/``greedy``) schedules the task list."""
        scheduler = scheduler or self.default_scheduler
        if scheduler is None:
            return self.make_tasks()
        if self.errand_tasks is None:
            raise InputError("scheduler", f"{self.name} has no task list to schedule")
        return ScheduledTasks(self.errand_tasks, self.navigable, make_scheduler(scheduler))

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
    """A Robot Runners 2023 or 2024 instance; ``agents`` (optional) uses only the first N robots."""
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
    reveal = spec.get("numTasksReveal")
    # 2023 instances carry numTasksReveal = 1 too, but name their assignment
    # strategy (round robin); 2024 instances do not: their tasks are scheduled
    is_2024 = reveal is not None and "taskAssignmentStrategy" not in spec
    if is_2024 and (
        not isinstance(reveal, int | float) or isinstance(reveal, bool) or not reveal > 0
    ):
        raise InputError(f"{path}: numTasksReveal", f"{reveal!r} is not a positive number")
    base = path.parent
    navigable = passable_mask(read_map(base / spec["mapFile"]))
    size = navigable.size
    starts = read_cells(base / spec["agentFile"], size)
    cells, offsets = read_errands(base / spec["taskFile"], size)
    if starts.size < team:
        raise InputError(str(base / spec["agentFile"]), f"{starts.size} agents, teamSize is {team}")
    if not is_2024 and cells.size != offsets.size - 1:
        raise InputError(
            str(base / spec["taskFile"]),
            "tasks of several errands need numTasksReveal (a 2024 instance)",
        )
    if agents is not None:
        if agents > team:
            raise InputError("robots", f"{agents} is more than the instance's teamSize {team}")
        team = agents
    starts = starts[:team]
    flat = navigable.ravel()
    for source, found in ((spec["agentFile"], starts), (spec["taskFile"], cells)):
        bad = np.flatnonzero(~flat[found])
        if bad.size:
            k = int(bad[0])
            line = k + 2 if found is starts else int(np.searchsorted(offsets, k, "right")) + 1
            row, col = divmod(int(found[k]), navigable.shape[1])
            raise InputError(
                str(base / source),
                f"task {line - 1}: cell {int(found[k])} (row {row}, col {col}) is blocked"
                if found is cells
                else f"line {line}: cell {int(found[k])} (row {row}, col {col}) is blocked",
            )
    errand_tasks = ErrandTasks(
        cells, offsets, reveal=math.ceil((reveal or DEFAULT_REVEAL) * team - 1e-9)
    )
    return MapfProblem(
        name=path.stem,
        navigable=navigable,
        starts=starts,
        make_tasks=lambda: RoundRobinTasks(cells, team),
        known_goals=None if is_2024 else cells,
        errand_tasks=errand_tasks,
        default_scheduler="ours" if is_2024 else None,
    )


def _data_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, text) of the non-empty, non-comment lines (``#`` starts a comment line)."""
    try:
        text = read_input_bytes(path, 256 * MiB).decode("ascii")
    except UnicodeDecodeError as error:
        raise InputError(str(path), f"cannot be read ({error})") from None
    lines = [
        (n, line.strip())
        for n, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        raise InputError(str(path), "empty file")
    return lines


def _count(path: Path, lines: list[tuple[int, str]]) -> int:
    number, text = lines[0]
    if not text.isdigit():
        raise InputError(f"{path}:{number}", f"count line {text!r} is not a non-negative integer")
    count = int(text)
    if count != len(lines) - 1:
        raise InputError(str(path), f"count line says {count} but {len(lines) - 1} lines follow")
    return count


def read_errands(path: Path, size: int) -> tuple[np.ndarray, np.ndarray]:
    """A count line, then one task per line: its errands as comma-separated cell ids.

    Returns (flat errand cells, offsets ``[tasks + 1]``); `InputError` names the bad line.
    """
    lines = _data_lines(path)
    _count(path, lines)
    values: list[int] = []
    offsets = [0]
    for number, text in lines[1:]:
        values.extend(_cell_id(path, number, part.strip(), size) for part in text.split(","))
        offsets.append(len(values))
    if len(offsets) < 2:
        raise InputError(str(path), "no tasks")
    return np.asarray(values, dtype=np.int64), np.asarray(offsets, dtype=np.int64)


def read_cells(path: Path, size: int) -> np.ndarray:
    """A count line then one cell id per line (``#`` comment lines skipped); `InputError`
    names the bad line."""
    lines = _data_lines(path)
    _count(path, lines)
    cells = [_cell_id(path, number, text, size) for number, text in lines[1:]]
    return np.asarray(cells, dtype=np.int64)


def _cell_id(path: Path, number: int, text: str, size: int) -> int:
    """One cell id on line ``number``; `InputError` if not an integer or off the map."""
    if not text.lstrip("-").isdigit():
        raise InputError(f"{path}:{number}", f"{text!r} is not an integer cell id")
    cell = int(text)
    if not 0 <= cell < size:
        raise InputError(f"{path}:{number}", f"cell {cell} is off the map")
    return cell
