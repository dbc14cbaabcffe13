"""A simulated robot controller as a pure model: orders in, states out, time passed in.

`SimRobot` is what a vehicle's controller does, minus the wheels. It keeps an
`OrderProgress` (the standard's order rules live in `fleet.protocol.orders`, not
here), drives its released nodes one cell at a time, runs node and instant
actions, drains and charges its battery, and can be broken on purpose. It holds
no socket and reads no clock: `advance(now_s)` brings it to a time the caller
chooses, so the same inputs always give the same states (lockstep runs, unit
tests); `sim.runner` puts many of them on the real bus.

The model, i.e. what a fleet talking to it may rely on:

* **Cells.** The robot's cell is the last node it reached. It sets off towards
  the next node only when that node is released, and is in the next cell when it
  arrives there, ``seconds_per_cell / speed_factor`` per cell of Manhattan
  distance later (slower where the edge's ``maxSpeed`` says so). It never drives
  past the last released node: at the end of the base it stands and waits for an
  update (and says so with ``newBaseRequest``). A node's cell comes from its
  ``nodePosition``; a node without one is taken to be where the robot stands.
* **Actions** run in the order they arrive (a node's actions when the robot
  reaches the node - the first node of a new order counts as reached - an edge's
  before it drives the edge, instant actions at once). A ``HARD`` or ``SOFT``
  action starts only while the robot stands and keeps it standing until it ends;
  a ``NONE`` action runs while driving; nothing starts beside a running ``HARD``
  one. An action with a ``durationSeconds`` parameter takes that long, others
  end at once. ``pick`` with a ``loadId`` loads it, ``drop`` unloads it (or every
  load without a ``loadId``; an unknown ``loadId`` fails), ``startCharging``
  starts charging and is FINISHED at once (VDA 5050), ``stopCharging`` stops it;
  any other type is FINISHED after its duration.
* **Battery.** ``drain_pct_per_cell`` per cell moved and ``drain_pct_per_s``
  per second standing without charging; charging adds ``charge_pct_per_s`` until
  full, ``stopCharging`` or the next drive. At 0 % the robot cannot drive and
  reports a FATAL ``batteryEmpty`` error until it has charge again.
* **Pause and faults.** A paused (``startPause``) or broken-down robot neither
  drives nor advances its actions: running ones are PAUSED and RUNNING again
  afterwards. `break_down` raises a FATAL ``breakdown`` error, `repair` clears it.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from fleet.protocol.actions import TERMINAL
from fleet.protocol.messages import (
    Action,
    ActionStatus,
    AgvActionSpec,
    AgvPosition,
    BatteryState,
    BlockingType,
    Error,
    ErrorLevel,
    Factsheet,
    Header,
    InstantActions,
    Load,
    Node,
    Order,
    PhysicalParameters,
    ProtocolFeatures,
    State,
    TypeSpecification,
)
from fleet.protocol.orders import (
    OrderProgress,
    Verdict,
    apply_instant_actions,
    apply_order,
    arrive,
    set_action_status,
    state_message,
)
from fleet.protocol.positions import cell_node_id, cell_of
from wms.layout import Cell, Floor

DURATION_KEY = "durationSeconds"
LOAD_KEY = "loadId"
LOAD_TYPE_KEY = "loadType"
BREAKDOWN = "breakdown"
BATTERY_EMPTY = "batteryEmpty"
FULL_PCT = 100.0
_EPS = 1e-9
_MAX_EVENTS_PER_ADVANCE = 1_000_000
"""A guard against a modelling bug turning `advance` into an endless loop."""

ACTION_SCOPES: dict[str, tuple[str, ...]] = {
    "pick": ("NODE", "INSTANT"),
    "drop": ("NODE", "INSTANT"),
    "startCharging": ("NODE", "INSTANT"),
    "stopCharging": ("NODE", "INSTANT"),
    "startPause": ("INSTANT",),
    "stopPause": ("INSTANT",),
    "cancelOrder": ("INSTANT",),
    "stateRequest": ("INSTANT",),
    "factsheetRequest": ("INSTANT",),
}
"""What a sim robot announces in its factsheet (any other node action just takes its time)."""


@dataclass(frozen=True)
class SimRobotParams:
    """How fast a simulated robot drives and how its battery behaves; percent and seconds."""

    seconds_per_cell: float = 1.0
    speed_factor: float = 1.0
    """Multiplies the speed: 2.0 drives a cell in half the time (robots of one fleet differ)."""
    drain_pct_per_cell: float = 0.05
    drain_pct_per_s: float = 0.002
    """Drain per second while standing without charging (driving is paid per cell)."""
    charge_pct_per_s: float = 0.5
    start_battery_pct: float = FULL_PCT

    def __post_init__(self) -> None:
        if not (self.seconds_per_cell > 0 and self.speed_factor > 0):
            raise ValueError("seconds_per_cell and speed_factor must be positive")
        rates = (self.drain_pct_per_cell, self.drain_pct_per_s, self.charge_pct_per_s)
        if min(rates) < 0:
            raise ValueError("battery rates must not be negative")
        if not 0 <= self.start_battery_pct <= FULL_PCT:
            raise ValueError(f"start_battery_pct must be in 0..100, got {self.start_battery_pct}")

    @property
    def seconds_per_move(self) -> float:
        """Seconds to drive one cell."""
        return self.seconds_per_cell / self.speed_factor


@dataclass(frozen=True)
class _Leg:
    """The drive to the next node: ``remaining_s`` of driving left."""

    sequence_id: int
    cell: Cell
    cells: int
    remaining_s: float


@dataclass(frozen=True)
class _Running:
    action: Action
    remaining_s: float


def _duration(action: Action) -> float:
    value = action.parameter(DURATION_KEY, 0.0)
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return 0.0
    return seconds if math.isfinite(seconds) and seconds > 0 else 0.0


def _blocks_driving(action: Action) -> bool:
    return action.blocking_type is not BlockingType.NONE


class SimRobot:
    """One simulated controller: feed it orders and instant actions, advance it, read its state.

    Not thread-safe; one owner calls it. Every change a fleet should hear about at
    once (order accepted or rejected, node reached, action status, error, battery
    set) increments `revision`, so a runner knows when to send a state early.
    """

    def __init__(
        self,
        floor: Floor,
        cell: Cell,
        params: SimRobotParams | None = None,
        *,
        theta: float = 0.0,
        start_s: float = 0.0,
        charger_cells: frozenset[Cell] | None = None,
    ) -> None:
        if not floor.is_navigable(cell):
            raise ValueError(f"start cell {cell} is not navigable on floor {floor.name!r}")
        self.floor = floor
        self.params = params or SimRobotParams()
        self.cell: Cell = cell
        self.theta = theta
        """Heading in radians, counter-clockwise from east (the VDA 5050 ``theta``)."""
        self.battery_pct = self.params.start_battery_pct
        self.charging = False
        self.loads: tuple[Load, ...] = ()
        self.hardware_errors: tuple[Error, ...] = ()
        self.charger_cells = charger_cells
        """Where ``startCharging`` works; None means anywhere."""
        # Standing on a node named after its cell lets a first order be checked against
        # where the robot really is (the state machine trusts a robot with no last node).
        self.progress = OrderProgress(last_node_id=cell_node_id(cell))
        self.now_s = start_s
        self.revision = 0
        self.cells_moved = 0
        self.factsheet_requested = False
        """Set when a ``factsheetRequest`` arrives; the runner answers and clears it."""
        self._leg: _Leg | None = None
        self._edge_actions_queued: int | None = None
        self._pending: list[Action] = []
        self._running: dict[str, _Running] = {}

    # --- what the fleet sees ----------------------------------------------------------------

    @property
    def paused(self) -> bool:
        return self.progress.paused

    @property
    def broken(self) -> bool:
        errors = self.hardware_errors  # asked several times per robot per step; mostly ()
        return bool(errors) and any(e.error_type == BREAKDOWN for e in errors)

    @property
    def suspended(self) -> bool:
        """Paused or broken down: nothing drives and no action advances."""
        return self.paused or self.broken

    @property
    def can_drive(self) -> bool:
        return not self.suspended and self.battery_pct > 0

    @property
    def driving(self) -> bool:
        return self._leg is not None and self.can_drive

    @property
    def xy(self) -> tuple[float, float]:
        """The cell centre in metres: where the robot reports itself."""
        return self.floor.cell_xy(self.cell)

    @property
    def waiting_for_base(self) -> bool:
        """Standing at the end of its base with unreleased nodes still ahead."""
        nodes = self.progress.nodes
        return self._leg is None and bool(nodes) and not nodes[0].released

    def state(self, header: Header) -> State:
        """The VDA 5050 state to send now, under the given header."""
        x, y = self.xy
        state = state_message(
            header,
            self.progress,
            battery=BatteryState(round(self.battery_pct, 4), self.charging),
            driving=self.driving,
            agv_position=AgvPosition(x, y, self.theta, self.floor.name, True),
            loads=self.loads,
            errors=self.hardware_errors,
        )
        if self.waiting_for_base:
            state = dataclasses.replace(state, new_base_request=True)
        return state

    # --- downstream messages ----------------------------------------------------------------

    def on_order(self, order: Order) -> Verdict:
        """Apply an order by the standard's rules; takes effect at the next `advance`."""
        outcome = apply_order(self.progress, order, self.xy)
        self.progress = outcome.progress
        self.revision += 1
        first = order.nodes[0]
        if outcome.verdict is Verdict.ACCEPTED:
            self._leg = None
            self._edge_actions_queued = None
            self._queue(first.actions)
        elif (
            outcome.verdict is Verdict.UPDATED
            and self._leg is None
            and self.progress.last_node_sequence_id == first.sequence_id
        ):
            self._queue(first.actions)  # new actions on the node the robot already stands on
        return outcome.verdict

    def on_instant_actions(self, message: InstantActions) -> None:
        """Register instant actions; pause, resume and cancel are the state machine's."""
        known = {a.action_id for a in self.progress.action_states}
        self.progress = apply_instant_actions(self.progress, message)
        fresh = [a for a in message.actions if a.action_id not in known]
        self.factsheet_requested |= any(a.action_type == "factsheetRequest" for a in fresh)
        self._queue(tuple(fresh))
        self.revision += 1

    # --- faults -----------------------------------------------------------------------------

    def break_down(self, description: str = "simulated breakdown") -> None:
        """Raise a FATAL error: the robot stops where it is until `repair`."""
        if not self.broken:
            error = Error(BREAKDOWN, ErrorLevel.FATAL, (), description)
            self._set_errors((*self.hardware_errors, error))

    def repair(self) -> None:
        self._clear_error(BREAKDOWN)

    def set_battery(self, pct: float) -> None:
        if not 0 <= pct <= FULL_PCT:
            raise ValueError(f"battery must be in 0..100, got {pct}")
        self.battery_pct = float(pct)
        self.revision += 1

    def _clear_error(self, error_type: str) -> None:
        self._set_errors(tuple(e for e in self.hardware_errors if e.error_type != error_type))

    def _set_errors(self, errors: tuple[Error, ...]) -> None:
        if errors != self.hardware_errors:
            self.hardware_errors = errors
            self.revision += 1

    # --- time -------------------------------------------------------------------------------

    def advance(self, now_s: float) -> None:
        """Run the robot up to ``now_s``: every arrival and action end in between happens."""
        if now_s < self.now_s - _EPS:
            raise ValueError(f"time runs forward: {now_s} < {self.now_s}")
        remaining = max(0.0, now_s - self.now_s)
        for _ in range(_MAX_EVENTS_PER_ADVANCE):
            self._settle()
            step = min(remaining, self._next_event_in())
            if step > 0:
                self._flow(step)
                remaining -= step
            if not self._fire_due() and remaining <= _EPS:
                break
        else:
            raise RuntimeError("SimRobot.advance did not settle")
        self.now_s = now_s

    def _next_event_in(self) -> float:
        times = [math.inf]
        if not self.suspended:
            times += [r.remaining_s for r in self._running.values()]
        if self._leg is not None and self.can_drive:
            times.append(self._leg.remaining_s)
        p = self.params
        if self.charging and p.charge_pct_per_s > 0:
            times.append((FULL_PCT - self.battery_pct) / p.charge_pct_per_s)
        elif self._idle_draining and p.drain_pct_per_s > 0 and self.battery_pct > 0:
            times.append(self.battery_pct / p.drain_pct_per_s)
        return max(0.0, min(times))

    def _flow(self, dt: float) -> None:
        """Continuous change over ``dt`` seconds in which no event falls."""
        p = self.params
        if self.charging:
            self.battery_pct = min(FULL_PCT, self.battery_pct + p.charge_pct_per_s * dt)
        elif self._idle_draining:
            self.battery_pct = max(0.0, self.battery_pct - p.drain_pct_per_s * dt)
        if self._leg is not None and self.can_drive:
            self._leg = dataclasses.replace(self._leg, remaining_s=self._leg.remaining_s - dt)
        if not self.suspended:
            for action_id, running in self._running.items():
                self._running[action_id] = _Running(running.action, running.remaining_s - dt)

    def _fire_due(self) -> bool:
        """Handle events whose time has come; True if any did."""
        fired = False
        if self._leg is not None and self.can_drive and self._leg.remaining_s <= _EPS:
            self._arrive(self._leg)
            fired = True
        if not self.suspended:
            for action_id, running in list(self._running.items()):
                if running.remaining_s <= _EPS:
                    self._finish(action_id)
                    fired = True
        if self.charging and self.battery_pct >= FULL_PCT - _EPS:
            self.battery_pct = FULL_PCT
            self.charging = False
            self.revision += 1
            fired = True
        if not self.charging and self.battery_pct <= _EPS and self._battery_error() is None:
            self.battery_pct = 0.0
            error = Error(BATTERY_EMPTY, ErrorLevel.FATAL, (), "battery empty: cannot drive")
            self._set_errors((*self.hardware_errors, error))
            fired = True
        return fired

    @property
    def _idle_draining(self) -> bool:
        """Standing and not charging: the per-second drain applies (driving pays per cell)."""
        return not self.charging and not self.driving

    def _battery_error(self) -> Error | None:
        return next((e for e in self.hardware_errors if e.error_type == BATTERY_EMPTY), None)

    # --- zero-time transitions ----------------------------------------------------------------

    def _settle(self) -> None:
        """Everything that happens without time passing: purge, pause, start actions and legs."""
        changed = True
        while changed:
            self._purge_terminal()
            if self._battery_error() is not None and self.battery_pct > 0:
                self._clear_error(BATTERY_EMPTY)
            if self._leg is not None and not any(
                n.sequence_id == self._leg.sequence_id and n.released for n in self.progress.nodes
            ):
                self._leg = None  # the order was cancelled under the robot
            self._sync_pause()
            if self.suspended:
                return
            changed = self._start_actions() or self._start_leg()

    def _purge_terminal(self) -> None:
        """Forget actions ended from outside (``cancelOrder`` fails the order's actions)."""

        def live(action_id: str) -> bool:
            state = self.progress.action(action_id)
            return state is not None and state.action_status not in TERMINAL

        self._pending = [a for a in self._pending if live(a.action_id)]
        self._running = {k: v for k, v in self._running.items() if live(k)}

    def _sync_pause(self) -> None:
        want, other = (
            (ActionStatus.PAUSED, ActionStatus.RUNNING)
            if self.suspended
            else (ActionStatus.RUNNING, ActionStatus.PAUSED)
        )
        for action_id in self._running:
            state = self.progress.action(action_id)
            if state is not None and state.action_status is other:
                self._status(action_id, want)

    def _queue(self, actions: tuple[Action, ...]) -> None:
        """Line up the actions still WAITING (known ids and ended ones are skipped)."""
        queued = {a.action_id for a in self._pending} | set(self._running)
        for action in actions:
            state = self.progress.action(action.action_id)
            waiting = state is not None and state.action_status is ActionStatus.WAITING
            if waiting and action.action_id not in queued:
                self._pending.append(action)
                queued.add(action.action_id)

    def _start_actions(self) -> bool:
        """Start pending actions in order while the blocking rules allow; True if any started."""
        started = False
        while self._pending:
            action = self._pending[0]
            hard_running = any(
                r.action.blocking_type is BlockingType.HARD for r in self._running.values()
            )
            if hard_running:
                break
            if action.blocking_type is BlockingType.HARD and self._running:
                break
            if _blocks_driving(action) and self._leg is not None:
                break
            self._pending.pop(0)
            self._start(action)
            started = True
        return started

    def _start(self, action: Action) -> None:
        self._status(action.action_id, ActionStatus.RUNNING)
        kind = action.action_type
        if kind == "startCharging":
            if self.charger_cells is not None and self.cell not in self.charger_cells:
                self._status(action.action_id, ActionStatus.FAILED, f"no charger at {self.cell}")
                return
            self.charging = self.battery_pct < FULL_PCT
            self._status(action.action_id, ActionStatus.FINISHED, "charging started")
            return
        self._running[action.action_id] = _Running(action, _duration(action))

    def _finish(self, action_id: str) -> None:
        action = self._running.pop(action_id).action
        kind, load_id = action.action_type, action.parameter(LOAD_KEY)
        if kind == "pick" and load_id is not None:
            load = Load(load_id=str(load_id), load_type=action.parameter(LOAD_TYPE_KEY))
            self.loads = (*self.loads, load)
        elif kind == "drop":
            if load_id is not None and all(x.load_id != load_id for x in self.loads):
                self._status(action_id, ActionStatus.FAILED, f"load {load_id!r} is not on board")
                return
            self.loads = tuple(
                x for x in self.loads if load_id is not None and x.load_id != load_id
            )
        elif kind == "stopCharging":
            self.charging = False
        self._status(action_id, ActionStatus.FINISHED)

    def _status(self, action_id: str, status: ActionStatus, result: str | None = None) -> None:
        self.progress = set_action_status(self.progress, action_id, status, result)
        self.revision += 1

    def _start_leg(self) -> bool:
        """Set off towards the next node if it is released and nothing holds the robot."""
        nodes = self.progress.nodes
        if self._leg is not None or not self.can_drive or not nodes or not nodes[0].released:
            return False
        if self._pending or any(_blocks_driving(r.action) for r in self._running.values()):
            return False
        target = nodes[0]
        edge = next(
            (e for e in self.progress.edges if e.sequence_id == target.sequence_id - 1), None
        )
        if edge is not None and self._edge_actions_queued != edge.sequence_id:
            self._edge_actions_queued = edge.sequence_id
            self._queue(edge.actions)
            if self._pending:
                return True  # the edge's actions first; they may hold the robot
        cell = self._node_cell(target)
        cells = abs(cell[0] - self.cell[0]) + abs(cell[1] - self.cell[1])
        seconds = cells * self.params.seconds_per_move
        if edge is not None and edge.max_speed:
            metres = edge.length if edge.length is not None else cells * self.floor.cell_size_m
            seconds = max(seconds, metres / edge.max_speed)
        if cells:
            (x0, y0), (x1, y1) = self.xy, self.floor.cell_xy(cell)
            self.theta = math.atan2(y1 - y0, x1 - x0)
        self.charging = False
        self._leg = _Leg(target.sequence_id, cell, cells, seconds)
        return True

    def _node_cell(self, node: Node) -> Cell:
        position = node.node_position
        if position is None:
            return self.cell
        return cell_of(self.floor, position.x, position.y)

    def _arrive(self, leg: _Leg) -> None:
        node = next(n for n in self.progress.nodes if n.sequence_id == leg.sequence_id)
        self.progress = arrive(self.progress, leg.sequence_id)
        self.cell = leg.cell
        self.cells_moved += leg.cells
        self.battery_pct = max(0.0, self.battery_pct - self.params.drain_pct_per_cell * leg.cells)
        self._leg = None
        self.revision += 1
        self._queue(node.actions)


def sim_factsheet(
    header: Header,
    params: SimRobotParams | None = None,
    cell_size_m: float = 1.0,
    *,
    max_load_mass_kg: float = 600.0,
    series_name: str = "sim-carrier",
) -> Factsheet:
    """The factsheet a sim robot sends on connect: a pod-carrying drive unit of our grid."""
    params = params or SimRobotParams()
    return Factsheet(
        header,
        TypeSpecification(
            series_name=series_name,
            agv_kinematic="DIFF",
            agv_class="CARRIER",
            max_load_mass=max_load_mass_kg,
            localization_types=("GRID",),
            navigation_types=("VIRTUAL_LINE_GUIDED",),
            series_description="simulated controller (sim.controller.SimRobot)",
        ),
        PhysicalParameters(
            speed_min=0.0,
            speed_max=cell_size_m / params.seconds_per_move,
            acceleration_max=1.0,
            deceleration_max=1.0,
            height_max=0.4,
            width=0.8,
            length=0.8,
        ),
        ProtocolFeatures(
            agv_actions=tuple(
                AgvActionSpec(kind, scopes) for kind, scopes in ACTION_SCOPES.items()
            ),
        ),
    )
