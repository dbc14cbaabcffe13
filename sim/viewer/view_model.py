"""What the viewer shows, as plain frozen data built from a fleet snapshot (no pygame).

The fleet manager publishes its snapshot on the PUB socket (topic ``fleet``,
key ``snapshot``, docs/fleet.md): ``robots`` (robot, kind, status, battery,
cell, task, waiting, base, goal), ``tasks``, ``reservations`` (``"row,col"``
→ robot) and ``blocked`` cells. The simulator can add what only it knows
(`ViewExtras`): each robot's `RobotActivity`, a congestion heatmap and KPIs.

`fleet_view` turns both into a `FleetView`. It never raises on what arrives
off the wire: a snapshot comes from another process, so an entry that is
malformed or off the floor is left out of the picture (and counted in
``FleetView.skipped``) rather than crashing the window a supervisor watches.
The renderer and the controller read only `FleetView`, so both can be tested
without a fleet.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.record import RobotActivity
from wms.layout import Cell

KPI_ROWS: tuple[tuple[str, str, str], ...] = (
    ("orders_per_hour", "orders / h", "{:.1f}"),
    ("lines_per_hour", "lines / h", "{:.1f}"),
    ("cycle_time_s_p50", "cycle time p50", "{:.0f} s"),
    ("cycle_time_s_p90", "cycle time p90", "{:.0f} s"),
    ("utilisation", "utilisation", "{:.0%}"),
    ("waiting_share", "waiting share", "{:.0%}"),
    ("charging_share", "charging share", "{:.0%}"),
    ("energy_kwh", "energy", "{:.2f} kWh"),
)
"""The KPI panel's rows: key in the KPI dict (the demo's JSON names), label, format."""
KPI_KEYS = frozenset(key for key, _, _ in KPI_ROWS)

_ERROR_STATUSES = frozenset({"fault", "offline"})
_STANDING_STATUSES = frozenset({"paused", "estop"})
_IDLE_STATUSES = frozenset({"idle", "drained"})


@dataclass(frozen=True, slots=True)
class ViewExtras:
    """What the simulator knows and the fleet snapshot does not; every part is optional.

    ``activity``: robot id → what it is doing this tick (it overrides the state
    guessed from the fleet's status). ``heatmap``: ``[H, W]`` congestion counts
    (any non-negative numbers; drawn relative to their maximum). ``kpis``: the
    `KPI_ROWS` keys the report computes; unknown keys are ignored.
    """

    activity: Mapping[str, RobotActivity] | None = None
    heatmap: np.ndarray | None = None
    kpis: Mapping[str, float] | None = None


@dataclass(frozen=True, slots=True)
class RobotView:
    """One robot as drawn and inspected; ``cell`` is None while the fleet has no position."""

    robot: str
    kind: str
    status: str
    state: RobotActivity
    battery: float | None
    cell: Cell | None
    task: str | None
    waiting: str | None
    base: tuple[Cell, ...]
    """The released base: cells the robot may drive, in order (drawn solid)."""
    goal: Cell | None
    """Where it is heading beyond its base (drawn faint)."""

    @property
    def label(self) -> str:
        """The short name drawn next to the robot: the serial number."""
        return self.robot.rpartition("/")[2]

    @property
    def heading(self) -> Cell | None:
        """The unit step ``(drow, dcol)`` towards the next base cell, None when standing."""
        if self.cell is None:
            return None
        for cell in self.base:
            if cell != self.cell:
                step = (cell[0] - self.cell[0], cell[1] - self.cell[1])
                return (int(np.sign(step[0])), int(np.sign(step[1])))
        return None


@dataclass(frozen=True, slots=True)
class TaskView:
    task_id: str
    kind: str
    status: str
    robot: str | None
    stops: tuple[Cell, ...]
    stop_index: int
    reason: str | None


@dataclass(frozen=True, slots=True)
class Inspection:
    """The side panel's text for one selected robot: title, then ``(label, value)`` rows."""

    title: str
    rows: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class FleetView:
    """Everything one frame draws; built by `fleet_view`, read by the renderer and controller."""

    shape: tuple[int, int]
    version: int
    time_s: float
    estop: bool
    robots: tuple[RobotView, ...]
    tasks: Mapping[str, TaskView]
    reservations: Mapping[Cell, str]
    blocked: frozenset[Cell]
    heatmap: np.ndarray | None = None
    """``[H, W]`` float in 0..1 (scaled by its maximum), or None."""
    kpis: Mapping[str, float] = field(default_factory=dict)
    skipped: int = 0
    """Malformed or off-floor entries left out of this view."""
    _by_cell: Mapping[Cell, int] = field(default_factory=dict, repr=False)
    _by_id: Mapping[str, int] = field(default_factory=dict, repr=False)

    def robot_at(self, cell: Cell) -> RobotView | None:
        """The robot standing on ``cell`` (the last listed wins if the fleet reports two)."""
        index = self._by_cell.get(cell)
        return None if index is None else self.robots[index]

    def robot(self, robot_id: str) -> RobotView | None:
        index = self._by_id.get(robot_id)
        return None if index is None else self.robots[index]

    def state_counts(self) -> dict[RobotActivity, int]:
        """Robots per state, every state present (zero when none), in enum order."""
        counts = dict.fromkeys(RobotActivity, 0)
        for robot in self.robots:
            counts[robot.state] += 1
        return counts

    def inspect(self, robot_id: str) -> Inspection | None:
        """Task, battery and why it waits (the fleet's ``waiting`` text) of one robot."""
        robot = self.robot(robot_id)
        if robot is None:
            return None
        task = self.tasks.get(robot.task) if robot.task is not None else None
        rows: list[tuple[str, str]] = [
            ("state", robot.state.value),
            ("status", robot.status),
            ("kind", robot.kind),
            ("battery", "-" if robot.battery is None else f"{robot.battery:.0f} %"),
            ("cell", _cell_text(robot.cell)),
            ("goal", _cell_text(robot.goal)),
            ("task", robot.task or "-"),
        ]
        if task is not None:
            rows.append(("task kind", f"{task.kind} ({task.status})"))
            if task.stops:
                stop = min(task.stop_index + 1, len(task.stops))
                rows.append(("stop", f"{stop} of {len(task.stops)}"))
        rows.append(("waiting", robot.waiting or "-"))
        return Inspection(robot.robot, tuple(rows))


def fleet_view(
    snapshot: Mapping[str, Any] | None,
    shape: tuple[int, int],
    extras: ViewExtras | None = None,
) -> FleetView:
    """The view of one fleet snapshot on a floor of ``shape`` (None: an empty fleet)."""
    snapshot = snapshot if isinstance(snapshot, Mapping) else {}
    extras = extras or ViewExtras()
    activity = extras.activity or {}
    skipped = 0
    tasks: dict[str, TaskView] = {}
    for entry in _list(snapshot.get("tasks")):
        task = _task(entry, shape)
        if task is None:
            skipped += 1
        else:
            tasks[task.task_id] = task
    task_status = {task_id: task.status for task_id, task in tasks.items()}
    robots: list[RobotView] = []
    for entry in _list(snapshot.get("robots")):
        robot = _robot(entry, shape, activity, task_status)
        if robot is None:
            skipped += 1
        else:
            robots.append(robot)
    reservations: dict[Cell, str] = {}
    raw_reservations = snapshot.get("reservations")
    for key, robot_id in (
        raw_reservations if isinstance(raw_reservations, Mapping) else {}
    ).items():
        cell = _cell(_split_key(key), shape)
        if cell is None or not isinstance(robot_id, str):
            skipped += 1
        else:
            reservations[cell] = robot_id
    blocked = set()
    for value in _list(snapshot.get("blocked")):
        cell = _cell(value, shape)
        if cell is None:
            skipped += 1
        else:
            blocked.add(cell)
    return FleetView(
        shape=shape,
        version=_int(snapshot.get("version"), 0),
        time_s=_float(snapshot.get("time_s")) or 0.0,
        estop=bool(snapshot.get("estop", False)),
        robots=tuple(robots),
        tasks=tasks,
        reservations=reservations,
        blocked=frozenset(blocked),
        heatmap=_heatmap(extras.heatmap, shape),
        kpis=_kpis(extras.kpis),
        skipped=skipped,
        _by_cell={r.cell: i for i, r in enumerate(robots) if r.cell is not None},
        _by_id={r.robot: i for i, r in enumerate(robots)},
    )


def robot_state(status: str, waiting: str | None, task_status: str | None) -> RobotActivity:
    """The colour state guessed from the fleet's view when the simulator gives no activity.

    The fleet knows no load, so a robot on an ``active`` task (it reached its
    first stop) counts as carrying and one on an ``assigned`` task as moving.
    """
    if status in _ERROR_STATUSES:
        return RobotActivity.ERROR
    if status == "charging":
        return RobotActivity.CHARGING
    if status in _IDLE_STATUSES:
        return RobotActivity.IDLE
    if status in _STANDING_STATUSES or waiting:
        return RobotActivity.WAITING
    if task_status == "active":
        return RobotActivity.CARRYING
    if status == "busy":
        return RobotActivity.MOVING
    return RobotActivity.IDLE


def _robot(
    entry: Any,
    shape: tuple[int, int],
    activity: Mapping[str, RobotActivity],
    task_status: Mapping[str, str],
) -> RobotView | None:
    if not isinstance(entry, Mapping):
        return None
    get = entry.get
    robot_id = get("robot")
    if not isinstance(robot_id, str):
        return None
    status = str(get("status", ""))
    waiting = get("waiting")
    waiting = waiting if isinstance(waiting, str) else None
    task = get("task")
    task = task if isinstance(task, str) else None
    state = activity.get(robot_id)
    if not isinstance(state, RobotActivity):
        state = robot_state(status, waiting, task_status.get(task) if task else None)
    base = []
    for value in _list(get("base")):
        cell = _cell(value, shape)
        if cell is not None:
            base.append(cell)
    return RobotView(
        robot=robot_id,
        kind=str(get("kind", "")),
        status=status,
        state=state,
        battery=_float(get("battery")),
        cell=_cell(get("cell"), shape),
        task=task,
        waiting=waiting,
        base=tuple(base),
        goal=_cell(get("goal"), shape),
    )


def _task(entry: Any, shape: tuple[int, int]) -> TaskView | None:
    if not isinstance(entry, Mapping) or not isinstance(entry.get("task_id"), str):
        return None
    stops = tuple(c for c in (_cell(v, shape) for v in _list(entry.get("stops"))) if c is not None)
    robot = entry.get("robot")
    reason = entry.get("reason")
    return TaskView(
        task_id=entry["task_id"],
        kind=str(entry.get("kind", "")),
        status=str(entry.get("status", "")),
        robot=robot if isinstance(robot, str) else None,
        stops=stops,
        stop_index=max(0, _int(entry.get("stop_index"), 0)),
        reason=reason if isinstance(reason, str) else None,
    )


def _list(value: Any) -> Sequence[Any]:
    return value if isinstance(value, list | tuple) else ()


def _cell(value: Any, shape: tuple[int, int]) -> Cell | None:
    """A ``[row, col]`` pair of whole numbers on the floor, else None (bools are not numbers).

    The hot loop of a frame (a few thousand calls for 500 robots), hence the
    fast path for plain ints, which is what msgpack and the manager produce.
    """
    if (type(value) is not list and type(value) is not tuple) or len(value) != 2:
        return None
    row, col = value
    if type(row) is not int or type(col) is not int:
        if not all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in value):
            return None
        row, col = int(row), int(col)
    if 0 <= row < shape[0] and 0 <= col < shape[1]:
        return (row, col)
    return None


def _split_key(key: Any) -> list[int] | None:
    """``"12,5"`` → ``[12, 5]`` (the snapshot's reservation keys)."""
    if not isinstance(key, str):
        return None
    row, comma, col = key.partition(",")
    if not (comma and row.isdigit() and col.isdigit()):
        return None
    return [int(row), int(col)]


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _heatmap(values: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray | None:
    """Counts scaled into 0..1 by their maximum; None when absent, of the wrong shape or all 0."""
    if values is None:
        return None
    array = np.asarray(values, dtype=np.float64)
    if array.shape != shape:
        return None
    array = np.where(np.isfinite(array), np.clip(array, 0.0, None), 0.0)
    peak = float(array.max(initial=0.0))
    return array / peak if peak > 0 else None


def _kpis(values: Mapping[str, Any] | None) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in (values or {}).items():
        number = _float(value)
        if key in KPI_KEYS and number is not None:
            out[key] = number
    return out


def _cell_text(cell: Cell | None) -> str:
    return "-" if cell is None else f"({cell[0]}, {cell[1]})"
