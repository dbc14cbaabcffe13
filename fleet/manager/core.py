"""The fleet manager's decision core: events and time in, commands out.

`FleetCore` keeps the robot registry, the task book and the cell reservations,
and runs one decision cycle in named phases, in this fixed order (openTCS's
dispatcher phases):

1. **withdraw** — tasks whose robot went offline, faulted or was drained go
   back to the queue (a load the robot carries is recorded where it is);
2. **assign** — free and about-to-be-free robots get queued tasks (the
   `Assigner` strategy: OR-Tools by default, greedy as the baseline);
3. **recharge** — robots below the go-charge threshold, or idle and below the
   back-to-work threshold with a free charger, get a charge task (one robot
   per charger);
4. **park** — idle robots leave the aisles for park cells;
5. **traffic** — one planning step on the robots' frontiers (the end of their
   released base); robots that must stay (paused, running an action, lagging
   behind their base) are held;
6. **release** — granted cells become VDA 5050 order updates (base plus a
   short horizon), stitched onto each robot's current order.

No sockets, threads, databases or wall clock in here: the adapter feeds
events and the time and carries the commands out. Every input that does not
fit (a position off the map, a node not in the robot's order, a command for an
unknown robot) is refused with a `Rejected` command and changes nothing.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from fleet.dispatch.assign import (
    Assigner,
    AssignRequest,
    EnergyModel,
    RefusalReason,
    RobotOffer,
    TaskOffer,
    make_assigner,
)
from fleet.dispatch.distances import FloorDistances
from fleet.manager.actions import stop_action
from fleet.manager.config import FleetConfig
from fleet.manager.events import (
    CellsBlocked,
    Command,
    ConfirmPicks,
    Event,
    LoadLeft,
    OrderRefused,
    Rejected,
    RobotConnection,
    RobotFactsheet,
    RobotPlaced,
    RobotStateReport,
    SendInstantActions,
    SendOrder,
    TaskCancelled,
    TaskEvent,
    TaskReprioritised,
    TaskSubmitted,
)
from fleet.manager.model import (
    RobotStatus,
    Stop,
    StopAction,
    TaskKind,
    TaskSpec,
    TaskStatus,
)
from fleet.manager.release import Drive, ReservationError, Reservations
from fleet.manager.resume import FleetResume, drive_from
from fleet.manager.robots import RobotTrack, park_cells, parse_node_cell
from fleet.manager.sequence import SequenceParams, SequenceStop, resequence
from fleet.manager.tasks import Task, TaskBook, TaskError
from fleet.protocol.messages import (
    Action,
    ActionStatus,
    BlockingType,
    ConnectionState,
    ErrorLevel,
    State,
)
from fleet.protocol.positions import cell_of, path_nodes_edges
from fleet.traffic.planner import Planner, PlanRequest
from fleet.traffic.registry import make_planner
from wms.layout import Cell, Floor
from wms.layout.distances import UNREACHABLE

log = logging.getLogger("fleet.manager")

WORK_CACHE_SIZE = 4096
"""Stop sequences whose driving work is cached; the cache starts over when full (in
lifelong operation nearly every task visits its own cells, so it would grow for ever)."""

FULL_PCT = 99.0
"""A charge task also ends when the robot stopped charging this full."""
SERVICE_KINDS = frozenset({TaskKind.CHARGE, TaskKind.PARK})
YIELD_CYCLES = 3
"""How long a robot gives way to break a cycle of robots waiting for each other."""
"""Tasks the manager makes for itself; a park task gives way to real work."""


class ManagerRefused(ValueError):
    """An operator or WMS request the core refuses; nothing changed."""


@dataclass
class CoreStats:
    cycles: int = 0
    refused_grants: int = 0
    orders_sent: int = 0
    rejected: dict[str, int] = field(default_factory=dict)


class FleetCore:
    def __init__(
        self,
        floor: Floor,
        config: FleetConfig | None = None,
        *,
        planner: Planner | None = None,
        assigner: Assigner | None = None,
        seed: int = 0,
    ) -> None:
        self.floor = floor
        self.config = config or FleetConfig()
        self.width = floor.width
        self.distances = FloorDistances(floor.navigable)
        self.tables = self.distances.tables
        self.planner = planner or make_planner(self.config.planner, floor.navigable, seed=seed)
        self.assigner: Assigner = assigner or make_assigner(self.config.assigner)
        self.refusals: dict[str, str] = {}
        """Why a queued task has no robot this cycle (shown to operators)."""
        self.tasks = TaskBook()
        self.reservations = Reservations()
        self.robots: dict[str, RobotTrack] = {}
        self.blocked: set[Cell] = set()
        self.estop = False
        self.chargers: tuple[Cell, ...] = tuple(p.cell for p in floor.chargers)
        self.park_cells: tuple[Cell, ...] = park_cells(floor)
        self.version = 0
        self.now = 0.0
        self.stats = CoreStats()
        self._out: list[Command] = []
        self._service_ids = itertools.count(1)
        self.incarnation = 0
        self._restored = False
        self._yield: dict[str, int] = {}
        """Robots held until this cycle to break a cycle of refused grants."""
        """Starts on this database before this one; generated ids carry it, so an id made
        after a restart never repeats one a robot or the task log already has."""
        self._work_cache: dict[tuple[Cell, ...], int] = {}
        self._left_cache: dict[str, tuple[int, tuple[Cell, Cell, int]]] = {}
        """Per open task: the ``seq`` it was computed at and its `_left` (first and last cell
        of the stops left, cells driven along them); every queued task is offered each
        cycle, and a task's stops left change only with a new event (a new ``seq``)."""
        self._charger_distance = (
            self.tables.from_cells(list(self.chargers)).min(axis=0)
            if self.chargers
            else np.full(floor.shape, UNREACHABLE, dtype=np.int32)
        )

    # --- entry points -------------------------------------------------------------------

    def handle(self, event: Event, now: float) -> list[Command]:
        """Apply one event; returns the commands it caused (often none)."""
        self.now = max(self.now, now)
        try:
            if isinstance(event, RobotStateReport):
                self._on_state(event.robot, event.state)
            elif isinstance(event, RobotConnection):
                self._on_connection(event.robot, event.state)
            elif isinstance(event, RobotFactsheet):
                self._robot(event.robot)
            elif isinstance(event, OrderRefused):
                self._on_order_refused(event)
            elif isinstance(event, TaskSubmitted):
                self.submit(event.spec)
            elif isinstance(event, TaskCancelled):
                self.cancel(event.task_id)
            elif isinstance(event, TaskReprioritised):
                self.reprioritise(event.task_id, event.priority)
            elif isinstance(event, CellsBlocked):
                self.block(event.cells, event.blocked)
        except ManagerRefused as refused:
            self._reject(type(event).__name__, str(refused))
        return self._flush()

    def restore(
        self, events: Iterable[TaskEvent], now: float, resume: FleetResume | None = None
    ) -> list[Command]:
        """Rebuild the task book from a stored log (idempotent: duplicates are skipped),
        and with ``resume`` the robots' registry and their last orders.

        Each robot with a stored order gets its drive back, reserved from the last node it
        was known to have passed, before it reports; its ACTIVE task stays its own (with
        the stop action attached to the order, if one is), so the robot's order is
        *adopted* when it reports it. Tasks only ASSIGNED go back to the queue (nothing of
        them has happened yet), park tasks are cancelled. Without ``resume`` (no durable
        robot state) every task a robot held goes back to the queue. Every stop the log
        says is done is confirmed again (`ConfirmPicks`; the ledger books a line once), so
        a crash between a robot finishing a pick and its booking loses nothing.
        """
        self.now = max(self.now, now)
        for event in events:
            self.tasks.apply(event)
        resume = resume or FleetResume()
        self.incarnation = resume.incarnation
        self._restored = True
        self.register(resume.robots)
        self.blocked |= set(resume.blocked)
        newest_first = sorted(resume.latest, key=lambda r: -resume.entry.get(r, 0))
        for robot_id in newest_first:
            self._restore_drive(self._robot(robot_id), resume.latest[robot_id], resume)
        for task in self.tasks:
            for index, stop in enumerate(task.stops[: task.stop_index]):
                if stop.lines:
                    self._out.append(
                        ConfirmPicks(task.task_id, task.robot or "", index, stop.lines)
                    )
        for task in self.tasks.open():
            track = self.robots.get(task.robot) if task.robot else None
            if self._resume_task(task, track):
                continue
            if task.spec.kind in SERVICE_KINDS:
                self._emit_transition(task, TaskStatus.CANCELLED, reason="manager restarted")
            elif task.status is not TaskStatus.QUEUED:
                self._emit_transition(task, TaskStatus.QUEUED, reason="manager restarted")
        return self._flush()

    def _restore_drive(self, track: RobotTrack, latest: str | Cell, resume: FleetResume) -> None:
        """Reserve what the robot may still stand on or drive to, before it reports."""
        track.orders_started = resume.orders_started.get(track.robot_id, 0)
        orders = resume.orders.get(track.robot_id, {})
        if isinstance(latest, str):
            drive = drive_from(orders.get(latest, ()))
        else:
            drive = Drive(path=[latest])
        if drive is not None:
            # Cells a later order of another robot holds were passed by this one before they
            # were granted there: the robot stands beyond the last of them.
            taken = [
                i
                for i in range(drive.reached, drive.base_end + 1)
                if self.reservations.holder(drive.path[i]) not in (None, track.robot_id)
            ]
            if taken:
                drive.reached = taken[-1] + 1
        if (
            drive is None
            or drive.reached > drive.base_end
            or not self.reservations.adopt(track.robot_id, drive)
        ):
            log.warning("%s: its stored order cannot be reserved again", track.robot_id)
            return
        track.cell = drive.position
        track.adopting = orders
        track.restored_s = self.now

    def _resume_task(self, task: Task, track: RobotTrack | None) -> bool:
        """Keep an ACTIVE task (or a started charge) on the robot whose drive came back."""
        if track is None or track.restored_s is None or task.status is not TaskStatus.ACTIVE:
            return False
        if task.spec.kind is TaskKind.PARK or track.task_id is not None:
            return False
        track.task_id = task.task_id
        drive = self.reservations.drives[track.robot_id]
        prefix = f"{task.task_id}/{task.stop_index}/"
        track.action_id = next((a for a in drive.actions_at.values() if a.startswith(prefix)), None)
        return True

    def _adopt(self, track: RobotTrack, state: State) -> None:
        """First state after a restart: rebuild the drive from the updates the robot has."""
        orders, track.adopting = track.adopting, None
        track.restored_s = None
        updates = orders.get(state.order_id) if orders else None
        if not updates:
            return  # not an order we stored: the usual resync (cancel, or keep its cell)
        drive = drive_from(updates, state.order_update_id)
        current = self.reservations.drives.get(track.robot_id)
        if drive is None or current is None:
            return
        self.reservations.clear(track.robot_id)
        if not self.reservations.adopt(track.robot_id, drive):
            self.reservations.adopt(track.robot_id, current)  # keep the safe superset
            return
        if track.action_id is not None and track.action_id not in drive.actions_at.values():
            track.action_id = None  # attached in an update the robot never received
        log.info(
            "%s: adopted order %s/%d after the restart",
            track.robot_id,
            drive.order_id,
            drive.update_id,
        )

    def _uid(self) -> str:
        n = next(self._service_ids)
        return f"{self.incarnation}.{n}" if self.incarnation else str(n)

    def cycle(self, now: float) -> list[Command]:
        """One decision cycle; see the module docstring for the phases."""
        self.now = max(self.now, now)
        self.stats.cycles += 1
        if self._restored:  # the reconnect grace counts from the first cycle after a restart
            self._restored = False
            for track in self.robots.values():
                if track.restored_s is not None:
                    track.restored_s = self.now
        self._phase_withdraw()
        self._phase_assign()
        self._phase_recharge()
        self._phase_park()
        self._phase_traffic()
        self._phase_release()
        self.version += 1
        return self._flush()

    def _flush(self) -> list[Command]:
        out, self._out = self._out, []
        return out

    def _reject(self, source: str, reason: str) -> None:
        self.stats.rejected[source] = self.stats.rejected.get(source, 0) + 1
        log.warning("refused %s: %s", source, reason)
        self._out.append(Rejected(source, reason))

    # --- robots -------------------------------------------------------------------------

    def register(self, robot_ids: Iterable[str]) -> None:
        """Know these robots before they connect, in this order (a lockstep run numbers its
        robots the same way every time, whatever order their first frames arrive in)."""
        for robot_id in robot_ids:
            self._robot(robot_id)

    def _robot(self, robot_id: str) -> RobotTrack:
        track = self.robots.get(robot_id)
        if track is None:
            track = RobotTrack(robot_id, self.config.robot_info(robot_id), len(self.robots))
            self.robots[robot_id] = track
        return track

    def _known(self, robot_id: str) -> RobotTrack:
        track = self.robots.get(robot_id)
        if track is None:
            raise ManagerRefused(f"unknown robot {robot_id!r}")
        return track

    def status(self, track: RobotTrack) -> RobotStatus:
        if not track.online:
            return RobotStatus.OFFLINE
        if track.fault:
            return RobotStatus.FAULT
        if self.estop:
            return RobotStatus.ESTOP
        if track.paused:
            return RobotStatus.PAUSED
        task = self.tasks.get(track.task_id) if track.task_id else None
        if task is not None and task.spec.kind is TaskKind.CHARGE and track.charging:
            return RobotStatus.CHARGING
        if task is not None and task.spec.kind not in SERVICE_KINDS:
            return RobotStatus.BUSY
        if track.drained:
            return RobotStatus.DRAINED
        if task is not None and task.spec.kind is TaskKind.CHARGE:
            return RobotStatus.BUSY
        return RobotStatus.IDLE

    def _on_connection(self, robot_id: str, state: ConnectionState) -> None:
        track = self._robot(robot_id)
        if state is ConnectionState.ONLINE:
            self._back_online(track)
            return
        if track.online:
            track.online = False
            self._robot_lost(track, f"robot {state.value.lower()}")

    def _back_online(self, track: RobotTrack) -> None:
        """An update sent as the link dropped was lost (the robot never acknowledges it):
        cancel the robot's order, so it restarts from where it stands (`_resync`)."""
        if not track.online and track.awaiting_update is not None and not track.resetting:
            track.awaiting_update = None
            self._reset_order(track)
        track.online = True

    def _on_state(self, robot_id: str, state: State) -> None:
        cell = self._reported_cell(robot_id, state)
        track = self._robot(robot_id)
        if track.adopting is not None:
            self._adopt(track, state)
        drive = self.reservations.drives.get(robot_id)
        if drive is not None and drive.order_id and state.order_id == drive.order_id:
            try:
                self.reservations.report(robot_id, state.last_node_sequence_id)
            except ReservationError as error:
                raise ManagerRefused(f"{robot_id}: {error}") from None
            if track.awaiting_update is not None and state.order_update_id >= drive.update_id:
                track.awaiting_update = None
        self._back_online(track)
        track.last_seen_s = self.now
        track.battery = float(state.battery_state.battery_charge)
        track.charging = bool(state.battery_state.charging)
        track.loads = tuple(load.load_id for load in state.loads if load.load_id)
        track.reported_order = state.order_id
        if drive is None:
            self._first_contact(track, cell, state)
        elif drive.order_id != state.order_id or track.resetting:
            self._resync(track, drive, cell, state)
        track.cell = (
            self.reservations.drives[robot_id].position
            if (robot_id in self.reservations.drives)
            else cell
        )
        self._check_action(track, state)
        fatal = next((e for e in state.errors if e.error_level is ErrorLevel.FATAL), None)
        if fatal is not None and track.fault is None:
            track.fault = fatal.error_type
            self._robot_lost(track, f"fatal error {fatal.error_type}")
        elif fatal is None and track.fault is not None:
            track.fault = None  # reintegrated from its reported state
            track.new_order = True

    def _reported_cell(self, robot_id: str, state: State) -> Cell | None:
        position = state.agv_position
        if position is not None and position.position_initialized:
            height, width = self.floor.shape
            size = self.floor.cell_size_m
            if not (0 <= position.x < width * size and 0 <= position.y < height * size):
                raise ManagerRefused(
                    f"{robot_id}: position ({position.x:.2f}, {position.y:.2f}) m is off the map"
                )
            cell = cell_of(self.floor, position.x, position.y)
            if not self.floor.navigable[cell]:
                raise ManagerRefused(f"{robot_id}: position {cell} is not a navigable cell")
            return cell
        if state.last_node_id:
            cell = parse_node_cell(state.last_node_id)
            if cell is None or not self._on_floor(cell) or not self.floor.navigable[cell]:
                raise ManagerRefused(f"{robot_id}: lastNodeId {state.last_node_id!r} is not a node")
            return cell
        return None

    def _first_contact(self, track: RobotTrack, cell: Cell | None, state: State) -> None:
        if cell is None:
            track.waiting = "no position reported"
            return
        if not self.reservations.place(track.robot_id, cell):
            holder = self.reservations.holder(cell)
            track.waiting = f"reports cell {cell}, which {holder} holds"
            self._reject("state", f"{track.robot_id}: {track.waiting}")
            return
        track.waiting = ""
        self._out.append(RobotPlaced(track.robot_id, track.number, cell))
        if state.node_states or state.order_id:
            self._reset_order(track)

    def _resync(self, track: RobotTrack, drive: Drive, cell: Cell | None, state: State) -> None:
        """The robot reports an order other than ours (restarted, or after cancelOrder)."""
        if state.node_states and state.order_id:
            if not track.resetting:
                self._reset_order(track)
            return
        # The robot stands still with no order: keep only the cell it stands on.
        here = cell if cell is not None else drive.position
        if here not in drive.trail:
            if not self.reservations.place(track.robot_id, here):
                track.waiting = f"reports cell {here}, which {self.reservations.holder(here)} holds"
                return
            self._out.append(RobotPlaced(track.robot_id, track.number, here))
        else:
            drive.reached = drive.path.index(here, drive.reached)
            self.reservations.restart(track.robot_id, "")
        fresh = self.reservations.drives[track.robot_id]
        fresh.order_id = None
        track.resetting = False
        track.awaiting_update = None
        track.new_order = True
        if track.action_id is not None:
            self._detach_action(track)

    def _reset_order(self, track: RobotTrack) -> None:
        track.resetting = True
        self._out.append(
            SendInstantActions(
                track.robot_id,
                (
                    Action(
                        "cancelOrder",
                        f"cancel-{track.serial}-{self.stats.cycles}-{self._uid()}",
                        BlockingType.HARD,
                    ),
                ),
            )
        )

    def _on_order_refused(self, event: OrderRefused) -> None:
        track = self._known(event.robot)
        log.warning(
            "robot %s refused order %s/%d: %s",
            event.robot,
            event.order_id,
            event.order_update_id,
            event.reason,
        )
        track.awaiting_update = None
        if not track.resetting:
            self._reset_order(track)

    def _robot_lost(self, track: RobotTrack, reason: str) -> None:
        """Offline or faulted: its cells stay held (blocked for all), its task is requeued."""
        if track.next_task_id is not None:
            waiting = self.tasks.get(track.next_task_id)
            track.next_task_id = None
            if not waiting.status.final:
                self._emit_transition(waiting, TaskStatus.QUEUED, reason=f"requeued: {reason}")
        if track.task_id is None:
            return
        task = self.tasks.get(track.task_id)
        track.task_id = None
        track.action_id = None
        if task.status.final:
            return
        if task.spec.kind in SERVICE_KINDS:
            self._emit_transition(task, TaskStatus.CANCELLED, reason=reason)
            return
        for load in track.loads:
            if track.cell is not None:
                self._out.append(
                    LoadLeft(track.robot_id, load, track.cell, task.task_id, task.spec.kind)
                )
        self._emit_transition(task, TaskStatus.QUEUED, reason=f"requeued: {reason}")

    # --- tasks --------------------------------------------------------------------------

    def submit(self, spec: TaskSpec) -> Task:
        """Validate and queue a task; `ManagerRefused` (nothing changed) on bad input."""
        if not spec.task_id or len(spec.task_id) > 200:
            raise ManagerRefused("a task id is 1..200 characters")
        if spec.task_id in self.tasks:
            raise ManagerRefused(f"task {spec.task_id!r} exists already")
        if not spec.stops:
            raise ManagerRefused(f"task {spec.task_id!r} has no stops")
        for i, stop in enumerate(spec.stops):
            if not self._on_floor(stop.cell):
                raise ManagerRefused(
                    f"task {spec.task_id!r} stop {i}: {stop.cell} is off the floor"
                )
            if not self.floor.navigable[stop.cell]:
                raise ManagerRefused(
                    f"task {spec.task_id!r} stop {i}: {stop.cell} is not a navigable cell"
                )
        if spec.robot is not None:
            self._known(spec.robot)
        if not math.isfinite(spec.payload_kg) or spec.payload_kg < 0:
            raise ManagerRefused(f"task {spec.task_id!r}: payload must be a finite number >= 0")
        self._out.append(self.tasks.submit(spec, self.now))
        task = self.tasks.get(spec.task_id)
        if self._work(spec) >= UNREACHABLE:
            self._emit_transition(task, TaskStatus.FAILED, reason="its stops are not connected")
        return self.tasks.get(spec.task_id)

    def cancel(self, task_id: str) -> None:
        try:
            task = self.tasks.get(task_id)
        except TaskError as error:
            raise ManagerRefused(str(error)) from None
        if task.status.final:
            raise ManagerRefused(f"task {task_id!r} is {task.status.value} already")
        self._drop_task(task, TaskStatus.CANCELLED, "cancelled by operator")

    def reprioritise(self, task_id: str, priority: int) -> None:
        try:
            self._out.append(self.tasks.reprioritise(task_id, priority, self.now))
        except TaskError as error:
            raise ManagerRefused(str(error)) from None

    def _drop_task(self, task: Task, status: TaskStatus, reason: str) -> None:
        track = self.robots.get(task.robot) if task.robot else None
        if track is not None and track.task_id == task.task_id:
            track.task_id = None
            if track.action_id is not None:
                self._detach_action(track)
                self._reset_order(track)
        self._emit_transition(task, status, reason=reason)

    def _detach_action(self, track: RobotTrack) -> None:
        drive = self.reservations.drives.get(track.robot_id)
        if drive is not None:
            for index in [i for i, a in drive.actions_at.items() if a == track.action_id]:
                del drive.actions_at[index]
        track.action_id = None

    def _emit_transition(self, task: Task, status: TaskStatus, **kwargs: object) -> None:
        self._out.append(self.tasks.transition(task.task_id, status, self.now, **kwargs))

    def _work(self, spec: TaskSpec) -> int:
        """Cells driven along the task's stops (UNREACHABLE when two are not connected)."""
        return self._cells_work(tuple(s.cell for s in spec.stops))

    def _cells_work(self, cells: tuple[Cell, ...]) -> int:
        """Cells driven visiting ``cells`` in order (UNREACHABLE when two are not connected)."""
        cached = self._work_cache.get(cells)
        if cached is None:
            cached = 0
            for a, b in itertools.pairwise(cells):
                cached += int(self.tables.from_cell(a)[b])
            cached = min(cached, int(UNREACHABLE))
            if len(self._work_cache) >= WORK_CACHE_SIZE:  # random stops: one key per task
                self._work_cache.clear()
            self._work_cache[cells] = cached
        return cached

    # --- operator -----------------------------------------------------------------------

    def pause(self, robot: str | None = None, paused: bool = True) -> None:
        targets = [self._known(robot)] if robot is not None else list(self.robots.values())
        for track in targets:
            if track.paused == paused:
                continue
            track.paused = paused
            self._instant(track, "startPause" if paused else "stopPause")

    def set_estop(self, on: bool) -> None:
        if self.estop == on:
            return
        self.estop = on
        for track in self.robots.values():
            if not track.paused:
                self._instant(track, "startPause" if on else "stopPause")

    def drain(self, robot: str, drained: bool = True) -> None:
        track = self._known(robot)
        track.drained = drained
        if drained and track.task_id is not None:
            task = self.tasks.get(track.task_id)
            if task.status is TaskStatus.ASSIGNED:
                self._drop_task(task, TaskStatus.QUEUED, f"robot {robot} drained")

    def block(self, cells: Iterable[Cell], blocked: bool = True) -> None:
        cells = [tuple(c) for c in cells]
        for cell in cells:
            if not self._on_floor(cell):  # type: ignore[arg-type]
                raise ManagerRefused(f"cell {cell} is off the floor")
        if blocked:
            self.blocked.update(cells)  # type: ignore[arg-type]
        else:
            self.blocked.difference_update(cells)
        self._out.append(CellsBlocked(tuple(cells), blocked))  # type: ignore[arg-type]

    def _instant(self, track: RobotTrack, kind: str) -> None:
        action_id = f"{kind}-{track.serial}-{self._uid()}"
        self._out.append(
            SendInstantActions(track.robot_id, (Action(kind, action_id, BlockingType.HARD),))
        )

    # --- phases -------------------------------------------------------------------------

    def _available(self, track: RobotTrack) -> bool:
        return (
            track.online
            and track.fault is None
            and not track.paused
            and not self.estop
            and not track.resetting
            and track.adopting is None
            and track.robot_id in self.reservations.drives
        )

    def _phase_withdraw(self) -> None:
        for track in self.robots.values():
            since = track.restored_s  # not reported since the restart
            if since is not None and self.now - since >= self.config.reconnect_grace_s:
                track.restored_s = track.adopting = None
                self._robot_lost(track, "silent since the manager restarted")
        for task in self.tasks.open():
            if task.robot is None or task.status is TaskStatus.QUEUED:
                continue
            track = self.robots.get(task.robot)
            if track is None or task.task_id not in (track.task_id, track.next_task_id):
                self._emit_transition(task, TaskStatus.QUEUED, reason="robot no longer holds it")

    def _phase_assign(self) -> None:
        """Free robots, robots whose task has not started, and robots about to finish
        (offered at their last stop, with the cells left) get queued tasks; a task not
        yet started may move to a better robot."""
        robots: list[RobotOffer] = []
        for track in self.robots.values():
            offer = self._robot_offer(track)
            if offer is not None:
                robots.append(offer)
        offered = {r.robot_id for r in robots}
        held = {r.held_task for r in robots if r.held_task}
        pinned: list[Task] = []
        offers: list[TaskOffer] = []
        open_tasks = self.tasks.open()
        if len(self._left_cache) > 2 * len(open_tasks) + 64:  # forget finished tasks
            keep = {t.task_id for t in open_tasks}
            self._left_cache = {k: v for k, v in self._left_cache.items() if k in keep}
        for task in open_tasks:
            if task.spec.robot is not None:
                if task.status is TaskStatus.QUEUED:
                    pinned.append(task)
                continue
            if task.spec.kind in SERVICE_KINDS:
                continue
            if task.status is TaskStatus.QUEUED or task.task_id in held:
                offers.append(self._offer(task, offered))
        for task in pinned:
            track = self.robots[task.spec.robot]  # type: ignore[index]
            if self._available(track) and (track.task_id is None or self._is_park(track)):
                self._give(track, task)
        if not offers or not robots:
            return
        request = AssignRequest(
            tuple(robots),
            tuple(offers),
            now_s=self.now,
            seconds_per_cell=self.config.seconds_per_cell,
            energy=EnergyModel(self.config.pct_per_cell, self.config.reserve_pct),
            charger_distance=self._charger_distance if self.chargers else None,
        )
        decided = self.assigner.assign(request, self.distances)
        self.refusals = {r.task_id: r.detail for r in decided.refused}
        for refusal in decided.refused:
            task = self.tasks.get(refusal.task_id)
            if refusal.reason is RefusalReason.UNREACHABLE and task.status is TaskStatus.QUEUED:
                self._emit_transition(task, TaskStatus.FAILED, reason=refusal.detail)
        for task_id, robot_id in decided.robot_of.items():
            task = self.tasks.get(task_id)
            if task.robot == robot_id and task.status is not TaskStatus.QUEUED:
                continue
            if task.robot is not None:  # handed to a better robot before it started
                self._unhold(task)
            self._give(self.robots[robot_id], self.tasks.get(task_id))

    def _robot_offer(self, track: RobotTrack) -> RobotOffer | None:
        if not self._available(track) or track.drained:
            return None
        if track.battery < self.config.go_charge_pct:
            return None
        drive = self.reservations.drives[track.robot_id]
        task = self.tasks.get(track.task_id) if track.task_id else None
        held = None
        cell, free_in = drive.frontier, 0
        if task is not None and task.spec.kind is TaskKind.CHARGE:
            return None
        if task is not None and task.spec.robot is not None and task.spec.kind is not TaskKind.PARK:
            return None
        if task is not None and task.spec.kind is TaskKind.PARK:
            held = None
        elif task is not None and task.status is TaskStatus.ASSIGNED:
            held = task.task_id
        elif task is not None and task.status is TaskStatus.ACTIVE:
            start, end, left = self._left(task)
            first = int(self.tables.from_cell(start)[cell])
            if first + left > self.config.about_free_cells:
                return None
            cell, free_in = end, first + left
            held = track.next_task_id
        return RobotOffer(
            track.robot_id,
            cell,
            track.info.kind,
            track.info.max_payload_kg,
            track.battery,
            free_in_cells=free_in,
            held_task=held,
        )

    def _unhold(self, task: Task) -> None:
        old = self.robots.get(task.robot) if task.robot else None
        if old is None:
            return
        if old.task_id == task.task_id:
            old.task_id = None
        if old.next_task_id == task.task_id:
            old.next_task_id = None

    def _is_park(self, track: RobotTrack) -> bool:
        return (
            track.task_id is not None and self.tasks.get(track.task_id).spec.kind is TaskKind.PARK
        )

    def _give(self, track: RobotTrack, task: Task) -> None:
        current = self.tasks.get(track.task_id) if track.task_id else None
        if (
            current is not None
            and current.status is TaskStatus.ACTIVE
            and (current.spec.kind not in SERVICE_KINDS)
        ):
            if track.next_task_id is not None and track.next_task_id != task.task_id:
                queued = self.tasks.get(track.next_task_id)
                self._emit_transition(queued, TaskStatus.QUEUED, reason="robot took better task")
            track.next_task_id = task.task_id
            self._emit_transition(task, TaskStatus.ASSIGNED, robot=track.robot_id)
            return
        if track.task_id is not None and track.task_id != task.task_id:
            current = self.tasks.get(track.task_id)
            if current.spec.kind is TaskKind.PARK:
                track.task_id = None
                self._emit_transition(current, TaskStatus.CANCELLED, reason="preempted by work")
            elif current.status is TaskStatus.ASSIGNED:
                track.task_id = None
                self._emit_transition(current, TaskStatus.QUEUED, reason="robot took better task")
        track.task_id = task.task_id
        track.park = None
        task = self.tasks.get(task.task_id)
        self._emit_transition(
            task,
            TaskStatus.ASSIGNED,
            robot=track.robot_id,
            sequence=self._resequence(task, self.reservations.drives[track.robot_id].frontier),
        )

    def _resequence(self, task: Task, start: Cell) -> tuple[int, ...] | None:
        """Re-order a route's remaining stops from where its robot is (the last stop, the
        station, stays last); OR-Tools routing with the cut-off as a time window."""
        if not task.spec.resequence:
            return None
        order = task.sequence or tuple(range(len(task.spec.stops)))
        done, rest, last = order[: task.stop_index], order[task.stop_index : -1], order[-1]
        if len(rest) < 2:
            return None
        stops = [
            SequenceStop(task.spec.stops[i].cell, task.spec.stops[i].duration_s, task.spec.due_s)
            for i in rest
        ]
        params = SequenceParams(
            now_s=self.now,
            seconds_per_cell=self.config.seconds_per_cell,
            solution_limit=self.config.resequence_solutions,
            guard_ms=self.config.resequence_guard_ms,
        )
        found = resequence(start, stops, task.spec.stops[last].cell, self.distances, params)
        if not found.solved:
            return None
        return (*done, *(rest[i] for i in found.order), last)

    def _left(self, task: Task) -> tuple[Cell, Cell, int]:
        """The first and last cell of the task's stops left, and the cells driven along
        them; cached per task until its next event."""
        cached = self._left_cache.get(task.task_id)
        if cached is not None and cached[0] == task.seq:
            return cached[1]
        stops = task.stops[task.stop_index :]
        cells = tuple(s.cell for s in stops)
        left = (cells[0], cells[-1], self._cells_work(cells))
        self._left_cache[task.task_id] = (task.seq, left)
        return left

    def _offer(self, task: Task, offered: set[str]) -> TaskOffer:
        spec = task.spec
        holder = task.robot if task.status is TaskStatus.ASSIGNED else None
        first, last, work = self._left(task)
        return TaskOffer(
            task.task_id,
            first,
            last,
            work,
            spec.needs,
            spec.payload_kg,
            task.priority,
            spec.due_s,
            self.now - task.created_s,
            holder if holder in offered else None,
        )

    def _phase_recharge(self) -> None:
        taken = {t.robot for t in self.tasks.open() if t.spec.kind is TaskKind.CHARGE}
        busy_chargers = {
            t.stops[0].cell for t in self.tasks.open() if t.spec.kind is TaskKind.CHARGE
        }
        queued_work = any(
            t.status is TaskStatus.QUEUED and t.spec.kind not in SERVICE_KINDS
            for t in self.tasks.open()
        )
        for track in sorted(self.robots.values(), key=lambda r: r.battery):
            if track.robot_id in taken or not self._available(track):
                continue
            idle = track.task_id is None or self._is_park(track)
            low = track.battery < self.config.go_charge_pct
            opportunity = idle and not queued_work and track.battery < self.config.back_to_work_pct
            if not (idle and (low or opportunity)):
                continue
            free = [c for c in self.chargers if c not in busy_chargers]
            if not free:
                track.waiting = "waiting for a free charger"
                continue
            here = self.reservations.drives[track.robot_id].frontier
            distances = self.tables.from_cell(here)
            charger = min(free, key=lambda c: (int(distances[c]), c))
            if int(distances[charger]) >= UNREACHABLE:
                continue
            busy_chargers.add(charger)
            spec = TaskSpec(
                f"charge-{track.serial}-{self._uid()}",
                TaskKind.CHARGE,
                (Stop(charger, StopAction.CHARGE),),
                robot=track.robot_id,
            )
            self._out.append(self.tasks.submit(spec, self.now))
            self._give(track, self.tasks.get(spec.task_id))

    def _phase_park(self) -> None:
        used = {r.park for r in self.robots.values() if r.park is not None}
        for track in self.robots.values():
            if track.task_id is not None or not self._available(track):
                continue
            here = self.reservations.drives[track.robot_id].frontier
            if here in self.park_cells and here not in used:
                track.park = here
                used.add(here)
                continue
            if track.park is not None:
                continue
            free = [c for c in self.park_cells if c not in used]
            if not free:
                continue
            distances = self.tables.from_cell(here)
            cell = min(free, key=lambda c: (int(distances[c]), c))
            if int(distances[cell]) >= UNREACHABLE:
                continue
            used.add(cell)
            track.park = cell
            spec = TaskSpec(
                f"park-{track.serial}-{self._uid()}",
                TaskKind.PARK,
                (Stop(cell),),
                robot=track.robot_id,
            )
            self._out.append(self.tasks.submit(spec, self.now))
            self._give(track, self.tasks.get(spec.task_id))

    def goal(self, track: RobotTrack) -> Cell | None:
        if track.task_id is None:
            return None
        task = self.tasks.get(track.task_id)
        stops = task.stops  # built anew per call for a re-sequenced task: once here
        return stops[min(task.stop_index, len(stops) - 1)].cell

    def _held_reason(self, track: RobotTrack, drive: Drive) -> str:
        if self.estop:
            return "emergency stop"
        if track.paused:
            return "paused by operator"
        if track.resetting:
            return "waiting for its order to be cancelled"
        if track.adopting is not None:
            return "waiting for its first report since the restart"
        if self._yield.get(track.robot_id, 0) > self.stats.cycles:
            return "giving way (a cycle of robots waiting for each other)"
        if track.awaiting_update is not None:
            return "waiting for its last update to be acknowledged"
        if track.action_id is not None:
            return "running its stop action"
        if drive.lag >= self.config.lookahead_cells:
            return "driving its released base"
        if track.charging and track.task_id and self._charging_task(track):
            return "charging"
        return ""

    def _charging_task(self, track: RobotTrack) -> bool:
        return self.tasks.get(track.task_id).spec.kind is TaskKind.CHARGE  # type: ignore[arg-type]

    def _phase_traffic(self) -> None:
        self._arrivals()
        robots: list[RobotTrack] = []
        held: list[bool] = []
        for track in self.robots.values():
            drive = self.reservations.drives.get(track.robot_id)
            if drive is None or not track.online or track.fault is not None:
                continue
            reason = self._held_reason(track, drive)
            if reason:
                track.waiting = reason
            robots.append(track)
            held.append(bool(reason))
        if not robots or all(held):
            return
        # Every robot stands on its frontier for the planner; held robots are immovable
        # obstacles that keep their goal tables; every other reserved cell is blocked.
        frontiers = {self.reservations.drives[t.robot_id].frontier for t in robots}
        blocked = {c for c in self.reservations.all_held() if c not in frontiers}
        blocked |= self.blocked
        width = self.width
        cells = np.array(
            [_flat(self.reservations.drives[t.robot_id].frontier, width) for t in robots]
        )
        goals = np.array(
            [_flat(g, width) if (g := self.goal(t)) is not None else -1 for t in robots],
            dtype=np.int64,
        )
        request = PlanRequest(
            cells=cells,
            goals=goals,
            robot_ids=np.array([t.number for t in robots], dtype=np.int64),
            blocked=np.array(sorted(_flat(c, width) for c in blocked), dtype=np.int64),
            held=np.array(held, dtype=bool),
        )
        movers = [t for t, h in zip(robots, held, strict=True) if not h]
        wants: dict[str, str] = {}
        result = self.planner.plan(request)
        planned = [c for c, h in zip(np.asarray(result.cells).tolist(), held, strict=True) if not h]
        for track, nxt in zip(movers, planned, strict=True):
            drive = self.reservations.drives[track.robot_id]
            cell = divmod(int(nxt), width)
            if cell == drive.frontier:
                track.waiting = (
                    "waiting for traffic" if self.goal(track) not in (None, cell) else ""
                )
                continue
            if cell in self.blocked or not self.reservations.grant(track.robot_id, cell):
                self.stats.refused_grants += 1
                holder = self.reservations.holder(cell)
                if holder is not None:
                    wants[track.robot_id] = holder
                track.waiting = (
                    f"cell {cell} held by {holder}" if holder else f"cell {cell} blocked"
                )
                continue
            track.waiting = ""
            task = self.tasks.get(track.task_id) if track.task_id else None
            if task is not None and task.spec.kind not in SERVICE_KINDS:
                if task.status is TaskStatus.ACTIVE:
                    track.loaded_cells += 1
                else:
                    track.empty_cells += 1
            if cell == self.goal(track):
                self._attach_stop_action(track, drive, drive.base_end)
        self._break_cycles(wants)

    def _break_cycles(self, wants: dict[str, str]) -> None:
        """Robots each planned into a cell the next one holds, round a cycle (the planner may
        plan a rotation; release never grants one): the one with the least urgent work gives
        way for a few cycles, so the planner routes the others differently."""
        for start in wants:
            chain = [start]
            while (nxt := wants.get(chain[-1])) is not None and nxt not in chain:
                chain.append(nxt)
            if nxt != start or len(chain) < 2:
                continue
            loser = min(chain, key=self._urgency)
            self._yield[loser] = self.stats.cycles + YIELD_CYCLES
            return

    def _urgency(self, robot_id: str) -> tuple[int, int]:
        track = self.robots[robot_id]
        task = self.tasks.get(track.task_id) if track.task_id else None
        return (int(task is not None and task.spec.kind not in SERVICE_KINDS), -track.number)

    def _arrivals(self) -> None:
        """Robots at rest on their goal: finish an action-less stop, or start the action."""
        for track in self.robots.values():
            if track.task_id is None or track.action_id is not None or not self._available(track):
                continue
            drive = self.reservations.drives[track.robot_id]
            goal = self.goal(track)
            if drive.frontier != goal:
                continue
            task = self.tasks.get(track.task_id)
            if task.stop_index >= len(task.stops):
                continue  # every stop done: a charge task waiting for its threshold
            stop = task.stops[task.stop_index]
            if stop.action is StopAction.NONE:
                if drive.lag == 0:
                    self._stop_done(track, task)
                continue
            if drive.lag == 0 and track.awaiting_update is None:
                # Already standing on the stop: the action needs a node of its own.
                track.new_order = True
                self._attach_stop_action(track, drive, drive.base_end)

    def _attach_stop_action(self, track: RobotTrack, drive: Drive, index: int) -> None:
        task = self.tasks.get(track.task_id)  # type: ignore[arg-type]
        stop = task.stops[task.stop_index]
        if stop.action is StopAction.NONE:
            return
        action_id = f"{task.task_id}/{task.stop_index}/{self._uid()}"
        drive.actions_at[index] = action_id
        track.action_id = action_id
        if task.status is TaskStatus.ASSIGNED:
            self._emit_transition(task, TaskStatus.ACTIVE, robot=track.robot_id)

    def _check_action(self, track: RobotTrack, state: State) -> None:
        if track.action_id is None or track.task_id is None:
            return
        status = state.action_status(track.action_id)
        if status is None:
            return
        task = self.tasks.get(track.task_id)
        if status is ActionStatus.FINISHED:
            track.action_id = None
            if task.spec.kind is TaskKind.CHARGE:
                # Charging has started; the task ends at the back-to-work threshold.
                self._emit_transition(task, TaskStatus.ACTIVE, robot=track.robot_id, stop_index=1)
                return
            self._stop_done(track, task)
        elif status is ActionStatus.FAILED:
            track.action_id = None
            self._drop_task(task, TaskStatus.FAILED, "stop action failed on the robot")

    def _stop_done(self, track: RobotTrack, task: Task) -> None:
        stop = task.stops[task.stop_index]
        if task.status is TaskStatus.ASSIGNED:
            self._emit_transition(task, TaskStatus.ACTIVE, robot=track.robot_id)
            task = self.tasks.get(task.task_id)
        if stop.lines:
            self._out.append(
                ConfirmPicks(task.task_id, track.robot_id, task.stop_index, stop.lines)
            )
        index = task.stop_index + 1
        if index >= len(task.stops):
            track.task_id, track.next_task_id = track.next_task_id, None
            self._emit_transition(task, TaskStatus.DONE, stop_index=index)
            if task.spec.kind is TaskKind.PARK:
                track.park = stop.cell
        else:
            self._emit_transition(task, TaskStatus.ACTIVE, robot=track.robot_id, stop_index=index)

    def _finish_charging(self) -> None:
        for track in self.robots.values():
            if track.task_id is None or not self._charging_task(track):
                continue
            task = self.tasks.get(track.task_id)
            charged = track.battery >= self.config.back_to_work_pct or (
                not track.charging and track.battery >= FULL_PCT
            )
            if task.status is TaskStatus.ACTIVE and task.stop_index >= 1 and charged:
                track.task_id = None
                self._instant(track, "stopCharging")
                self._emit_transition(task, TaskStatus.DONE, stop_index=1)

    def _phase_release(self) -> None:
        self._finish_charging()
        for track in self.robots.values():
            drive = self.reservations.drives.get(track.robot_id)
            if drive is None or not track.online or track.resetting:
                continue
            if track.awaiting_update is not None or track.adopting is not None:
                continue
            if track.new_order or drive.order_id is None:
                at_rest = drive.sent_end <= drive.reached
                if at_rest and (drive.base_end > drive.reached or drive.actions_at):
                    if drive.order_id is not None and drive.horizon_sent:
                        self._send_update(track, drive, horizon=False)
                    else:
                        self._send_new_order(track, drive)
            elif drive.base_end > drive.sent_end:
                self._send_update(track, drive)

    def _send_new_order(self, track: RobotTrack, drive: Drive) -> None:
        track.orders_started += 1
        order_id = order_id_for(track.serial, track.orders_started, track.task_id)
        path = drive.path[drive.reached :]
        actions = {i - drive.reached: a for i, a in drive.actions_at.items() if i >= drive.reached}
        fresh = Drive(path=list(path), order_id=order_id, base_end=len(path) - 1)
        fresh.actions_at = actions
        self.reservations.drives[track.robot_id] = fresh
        track.new_order = False
        self._send(track, fresh, 0)

    def _send_update(self, track: RobotTrack, drive: Drive, horizon: bool = True) -> None:
        drive.update_id += 1
        self._send(track, drive, drive.sent_end, horizon)

    def _send(self, track: RobotTrack, drive: Drive, start: int, with_horizon: bool = True) -> None:
        end = drive.base_end if with_horizon else drive.sent_end
        base = drive.path[start : end + 1]
        horizon = self._horizon(drive.frontier, self.goal(track)) if with_horizon else []
        drive.horizon_sent = bool(horizon)
        node_actions = {}
        task = self.tasks.get(track.task_id) if track.task_id else None
        for index, action_id in drive.actions_at.items():
            inside = start < index <= end or (start == 0 and index == 0)
            if inside and task is not None and track.action_id == action_id:
                stop = task.stops[task.stop_index]
                node_actions[index - start] = (
                    stop_action(self.config, task.task_id, stop, action_id),
                )
        nodes, edges = path_nodes_edges(
            self.floor, base + horizon, len(base), 2 * (start + drive.offset), node_actions
        )
        drive.sent_end = end
        track.awaiting_update = drive.update_id
        self.stats.orders_sent += 1
        self._out.append(
            SendOrder(
                track.robot_id,
                drive.order_id or "",
                drive.update_id,
                nodes,
                edges,
                reached_sequence_id=2 * (drive.reached + drive.offset),
                task_id=track.task_id,
            )
        )

    def _horizon(self, start: Cell, goal: Cell | None) -> list[Cell]:
        """The next cells of a shortest path towards the goal (unreleased: a preview)."""
        if goal is None or goal == start:
            return []
        table = self.tables.from_cell(goal)
        cell, path = start, []
        height, width = self.floor.shape
        for _ in range(self.config.horizon_cells):
            here = int(table[cell])
            if here <= 0 or here >= UNREACHABLE:
                break
            best = None
            for dr, dc in ((-1, 0), (0, 1), (1, 0), (0, -1)):
                nxt = (cell[0] + dr, cell[1] + dc)
                if 0 <= nxt[0] < height and 0 <= nxt[1] < width and table[nxt] == here - 1:
                    best = nxt
                    break
            if best is None:
                break
            path.append(best)
            cell = best
        return path

    # --- views --------------------------------------------------------------------------

    def robot_views(self) -> list[dict[str, object]]:
        views = []
        for track in self.robots.values():
            drive = self.reservations.drives.get(track.robot_id)
            views.append(
                {
                    "robot": track.robot_id,
                    "kind": track.info.kind.value,
                    "status": self.status(track).value,
                    "battery": round(track.battery, 1),
                    "cell": list(track.cell) if track.cell is not None else None,
                    "task": track.task_id,
                    "waiting": track.waiting,
                    "base": [list(c) for c in drive.trail] if drive else [],
                    "goal": list(g) if (g := self.goal(track)) is not None else None,
                    "empty_cells": track.empty_cells,
                    "loaded_cells": track.loaded_cells,
                }
            )
        return views

    def snapshot(self) -> dict[str, object]:
        """The versioned fleet snapshot viewers start from."""
        return {
            "version": self.version,
            "time_s": round(self.now, 3),
            "estop": self.estop,
            "robots": self.robot_views(),
            "tasks": [t.as_dict() for t in self.tasks.open()],
            "reservations": {f"{c[0]},{c[1]}": r for c, r in self.reservations.all_held().items()},
            "blocked": [list(c) for c in sorted(self.blocked)],
        }

    def _on_floor(self, cell: tuple[int, ...]) -> bool:
        height, width = self.floor.shape
        return len(cell) == 2 and 0 <= cell[0] < height and 0 <= cell[1] < width


def order_id_for(serial: str, n: int, task_id: str | None) -> str:
    """A robot's n-th orderId, naming the task it was started for, so an orderId a robot
    reports (after a restart too) says which robot's order and which task it is."""
    return f"{serial}-{n}" if task_id is None else f"{serial}-{n}~{task_id}"


def task_of_order(order_id: str) -> str | None:
    """The task an orderId was started for (`order_id_for`), None for an idle robot's."""
    _, sep, task_id = order_id.partition("~")
    return task_id if sep else None


def _flat(cell: Cell, width: int) -> int:
    return cell[0] * width + cell[1]
