"""The live floor: obstacles, blocks waiting for a robot to leave, robots, reachability.

One class, `FloorState`, holds what a planner must be told every step and what
a dispatcher must know before it hands out a goal. The lifelong harness and
the fleet manager share it, so both apply the same rules:

- A block asked for a cell an on-line robot stands on is *pending*: it takes
  effect once that robot has left (`settle`), so blocking never traps a robot
  in an obstacle nor makes the current step illegal.
- An off-line robot stays where it is, and its cell is an obstacle for
  everyone else until it comes back on line.
- Reachability is the connected components of the navigable floor minus the
  obstacles (scipy ``ndimage.label``), recomputed lazily only when the
  obstacles changed, so checking a goal is one array lookup.

Robots are identified by stable integer ids; the arrays `ids`, `cells`,
`headings` and `online` are aligned, in the order robots were added. Every
method either succeeds completely or raises `InputError` and changes nothing.
Pure data: no clock, no I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from fleet.traffic.planner import PlanRequest
from wms.errors import InputError


class GoalIssue(enum.StrEnum):
    """Why a goal cannot be given to a robot."""

    BLOCKED = "blocked"
    """The goal cell is an obstacle (blocked, or an off-line robot stands there)."""
    UNREACHABLE = "unreachable"
    """The goal is free but in another connected part of the floor."""


@dataclass(frozen=True)
class BlockChange:
    """Outcome of `FloorState.block`: which of the asked cells are obstacles now,
    and which wait for the robot standing there to leave."""

    effective: tuple[int, ...]
    pending: tuple[int, ...]


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


class FloorState:
    """Navigable grid, run-time blocks, robots and reachability of one floor.

    ``starts`` are flat cells (distinct, navigable: `InputError` otherwise);
    the robots get ids ``0..N-1`` and ``headings`` (default 0, taken mod 4).
    """

    def __init__(
        self,
        navigable: np.ndarray,
        starts: np.ndarray | None = None,
        headings: np.ndarray | None = None,
    ) -> None:
        self.navigable = _frozen(np.asarray(navigable, dtype=bool).copy())
        if self.navigable.ndim != 2:
            raise InputError("floor", "navigable mask must be two-dimensional")
        self.width = int(self.navigable.shape[1])
        self._flat = self.navigable.ravel()
        cells = np.zeros(0, np.int64) if starts is None else np.asarray(starts, np.int64).copy()
        check_starts(self.navigable, cells)
        heads = np.zeros(cells.size, np.int64) if headings is None else np.asarray(headings)
        if heads.shape != cells.shape:
            raise InputError("headings", f"{heads.size} headings for {cells.size} robots")
        self._cells = _frozen(cells)
        self._headings = _frozen(heads.astype(np.int64) % 4)
        self._ids = _frozen(np.arange(cells.size, dtype=np.int64))
        self._online = _frozen(np.ones(cells.size, dtype=bool))
        self._index = {k: k for k in range(cells.size)}
        self._sorted: tuple[np.ndarray, np.ndarray] | None = None
        self._next_id = int(cells.size)
        self._blocked: set[int] = set()
        self._pending: set[int] = set()
        self._version = 0
        self._labels_version = -1
        self._labels = np.zeros(self._flat.size, dtype=np.int64)

    # -- robots -------------------------------------------------------------------

    @property
    def ids(self) -> np.ndarray:
        """Robot ids (read-only), in the order robots were added."""
        return self._ids

    @property
    def cells(self) -> np.ndarray:
        """Flat cell of every robot (read-only), aligned with `ids`."""
        return self._cells

    @property
    def headings(self) -> np.ndarray:
        """Heading 0..3 of every robot (read-only), aligned with `ids`."""
        return self._headings

    @property
    def online(self) -> np.ndarray:
        """Whether each robot is on line (read-only), aligned with `ids`."""
        return self._online

    def index(self, robot: int) -> int:
        """Position of ``robot`` in the aligned arrays; `InputError` if unknown."""
        try:
            return self._index[int(robot)]
        except KeyError:
            raise InputError("robot", f"unknown robot {robot}") from None

    def indices(self, robots: np.ndarray) -> np.ndarray:
        """Positions of many robots in the aligned arrays (vectorised `index`)."""
        robots = np.asarray(robots, dtype=np.int64)
        if self._sorted is None:
            order = np.argsort(self._ids, kind="stable")
            self._sorted = (order, self._ids[order])
        order, ids = self._sorted
        at = np.minimum(np.searchsorted(ids, robots), max(ids.size - 1, 0))
        unknown = ids[at] != robots if ids.size else np.ones(robots.shape, dtype=bool)
        if unknown.any():
            raise InputError("robot", f"unknown robot {int(robots[unknown][0])}")
        return order[at]

    def add_robot(self, cell: int, heading: int = 0, robot: int | None = None) -> int:
        """Put a robot on line on a free cell; returns its id (next unused if not given).

        `InputError` if the cell is off the map, not navigable, an obstacle or
        taken by another robot, or the id is in use.
        """
        cell = int(cell)
        self._check_on_floor(cell, "add robot")
        if not self._flat[cell]:
            raise InputError("add robot", f"cell {self.describe(cell)} is not navigable")
        if cell in self._blocked:
            raise InputError("add robot", f"cell {self.describe(cell)} is blocked")
        taken = np.flatnonzero(self._cells == cell)
        if taken.size:
            other = int(self._ids[taken[0]])
            raise InputError("add robot", f"cell {self.describe(cell)} is taken by robot {other}")
        robot = self._next_id if robot is None else int(robot)
        if robot in self._index:
            raise InputError("add robot", f"robot {robot} exists already")
        self._index[robot] = self._ids.size
        self._sorted = None
        self._next_id = max(self._next_id, robot + 1)
        self._ids = _frozen(np.append(self._ids, robot))
        self._cells = _frozen(np.append(self._cells, cell))
        self._headings = _frozen(np.append(self._headings, int(heading) % 4))
        self._online = _frozen(np.append(self._online, True))
        return robot

    def set_online(self, robot: int, online: bool) -> None:
        """Take a robot off line (its cell becomes an obstacle) or back on line.

        A robot coming back on a cell that was blocked meanwhile turns that
        block into a pending one: it holds once the robot has left.
        """
        k = self.index(robot)
        if bool(self._online[k]) == online:
            return
        flags = self._online.copy()
        flags[k] = online
        self._online = _frozen(flags)
        cell = int(self._cells[k])
        if online and cell in self._blocked:
            self._blocked.discard(cell)
            self._pending.add(cell)
        self._version += 1

    def move(
        self, robots: np.ndarray, cells: np.ndarray, headings: np.ndarray | None = None
    ) -> None:
        """Apply a step: on-line ``robots`` are now on ``cells`` (and ``headings``).

        Checks the resulting floor, not the moves (that is `check.check_step`'s
        job): every robot on a navigable cell that is not an obstacle, no two
        robots on one cell. Pending blocks are not promoted here (`settle`).
        """
        index = self.indices(robots)
        cells = np.asarray(cells, dtype=np.int64)
        if cells.shape != index.shape:
            raise InputError("move", f"{cells.size} cells for {index.size} robots")
        if index.size and not self._online[index].all():
            robot = int(self._ids[index[~self._online[index]][0]])
            raise InputError("move", f"robot {robot} is off line")
        for cell in cells.tolist():
            self._check_on_floor(cell, "move")
        bad = ~self._flat[cells]
        if self._blocked:
            bad |= np.isin(cells, list(self._blocked))
        if bad.any():
            raise InputError("move", f"cell {self.describe(int(cells[bad][0]))} is not free")
        new_cells = self._cells.copy()
        new_cells[index] = cells
        values, counts = np.unique(new_cells, return_counts=True)
        if (counts > 1).any():
            raise InputError("move", f"two robots on cell {int(values[counts > 1][0])}")
        self._cells = _frozen(new_cells)
        if headings is not None:
            new_heads = self._headings.copy()
            new_heads[index] = np.asarray(headings, dtype=np.int64) % 4
            self._headings = _frozen(new_heads)

    # -- blocks -------------------------------------------------------------------

    def block(self, cells: Iterable[int]) -> BlockChange:
        """Block cells at run time (a spilled pallet).

        Cells under an on-line robot wait until it has left; walls are ignored
        (they are obstacles already); a cell off the map is an `InputError`.
        """
        asked = [int(c) for c in cells]
        for cell in asked:
            self._check_on_floor(cell, "block")
        self._pending.update(c for c in asked if self._flat[c])
        self._promote()
        return BlockChange(
            effective=tuple(c for c in asked if c in self._blocked),
            pending=tuple(c for c in asked if c in self._pending),
        )

    def unblock(self, cells: Iterable[int]) -> None:
        """Lift blocks, effective or pending; cells that were not blocked are ignored."""
        cells = {int(c) for c in cells}
        if cells & self._blocked:
            self._version += 1
        self._blocked.difference_update(cells)
        self._pending.difference_update(cells)

    def settle(self) -> tuple[int, ...]:
        """Pending blocks whose robot has left become effective; returns those cells."""
        return self._promote() if self._pending else ()

    @property
    def blocked(self) -> frozenset[int]:
        """Cells blocked at run time now (not counting off-line robots)."""
        return frozenset(self._blocked)

    @property
    def pending(self) -> frozenset[int]:
        """Cells whose block waits for the robot standing there to leave."""
        return frozenset(self._pending)

    def obstacles(self) -> np.ndarray:
        """Sorted flat cells that are obstacles now: blocked cells and off-line robots."""
        offline = self._cells[~self._online].tolist()
        return np.asarray(sorted(self._blocked.union(offline)), dtype=np.int64)

    # -- reachability -------------------------------------------------------------

    def goal_issue(self, cell: int, goal: int) -> GoalIssue | None:
        """Why a robot on ``cell`` cannot reach ``goal`` now, or ``None`` if it can."""
        labels = self._component_labels()
        if labels[goal] == 0:
            return GoalIssue.BLOCKED
        if labels[goal] != labels[cell]:
            return GoalIssue.UNREACHABLE
        return None

    def reachable(self, from_cell: int, to_cell: int) -> bool:
        """Whether a path of free cells joins the two cells now (both free)."""
        labels = self._component_labels()
        return bool(labels[from_cell] != 0 and labels[from_cell] == labels[to_cell])

    # -- planner ------------------------------------------------------------------

    def plan_request(
        self,
        goals: np.ndarray,
        *,
        rotation: bool,
        held: np.ndarray | None = None,
        priorities: np.ndarray | None = None,
    ) -> PlanRequest:
        """The on-line robots as a `PlanRequest`; ``goals`` (and ``held``,
        ``priorities``) are aligned with `ids` and their off-line rows dropped."""
        active = np.flatnonzero(self._online)
        return PlanRequest(
            cells=self._cells[active],
            goals=np.asarray(goals)[active],
            headings=self._headings[active] if rotation else None,
            robot_ids=self._ids[active],
            blocked=self.obstacles(),
            priorities=None if priorities is None else np.asarray(priorities)[active],
            held=None if held is None else np.asarray(held, dtype=bool)[active],
        )

    def describe(self, cell: int) -> str:
        row, col = divmod(int(cell), self.width)
        return f"{int(cell)} (row {row}, col {col})"

    # -- internals ----------------------------------------------------------------

    def _check_on_floor(self, cell: int, what: str) -> None:
        if not 0 <= cell < self._flat.size:
            raise InputError(what, f"cell {cell} is off the floor")

    def _promote(self) -> tuple[int, ...]:
        vacated = self._pending.difference(self._cells[self._online].tolist())
        if vacated:
            self._blocked.update(vacated)
            self._pending.difference_update(vacated)
            self._version += 1
        return tuple(sorted(vacated))

    def _component_labels(self) -> np.ndarray:
        if self._labels_version != self._version:
            free = self._flat.copy()
            obstacles = self.obstacles()
            if obstacles.size:
                free[obstacles] = False
            labels, _ = ndimage.label(free.reshape(self.navigable.shape))
            self._labels = labels.ravel()
            self._labels_version = self._version
        return self._labels


def check_starts(navigable: np.ndarray, cells: np.ndarray) -> None:
    """Start cells must be distinct navigable cells, no more than the floor holds."""
    flat = np.asarray(navigable, dtype=bool).ravel()
    width = navigable.shape[1]
    if len(cells) > int(flat.sum()):
        raise InputError("agents", f"{len(cells)} robots but only {int(flat.sum())} free cells")
    for k, cell in enumerate(np.asarray(cells).tolist()):
        if not 0 <= cell < flat.size or not flat[cell]:
            row, col = divmod(cell, width)
            raise InputError(
                "agents", f"robot {k} starts on blocked cell {cell} (row {row}, col {col})"
            )
    values, counts = np.unique(cells, return_counts=True)
    if (counts > 1).any():
        cell = int(values[counts > 1][0])
        raise InputError("agents", f"two robots start on cell {cell}")
