"""N simulated controllers on the real bus, stepped together, with faults on demand.

`SimRunner` gives every `SimRobot` its own `RobotClient` (DEALER, routing id
``manufacturer/serialNumber``, CURVE when a keys folder is given) against a fleet
server endpoint, and steps them all on one thread:

    with SimRunner(server.endpoint, floor, [SimRobotSpec("r1", (2, 3))]) as sim:
        ...                      # the fleet sends orders; sim.positions() shows the truth
        sim.break_down("sim/r1")

Each step of ``step_s`` sim seconds: apply queued fault commands; per robot,
read every downstream message and apply it; advance every robot to the new
time; record the true cells and check them (`sim.safety`); send a state where
something changed (order accepted or rejected, node reached, action status,
error) and otherwise every ``state_interval_s`` of sim time, or ``heartbeat_s``
of wall time, whichever comes first, so the server never sees a live robot silent.

Clocks: ``speed`` sim seconds per wall second (real time with a speed factor),
or ``speed=None`` for lockstep: as fast as the CPU allows. Without `start()` the
caller drives lockstep itself with `connect()` and `step()`. Header timestamps
follow sim time (``epoch_s`` + sim seconds). The fault controls and `positions()`
are safe from any thread: faults are queued and take effect at the next step.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import zmq

from core.clock import Clock
from fleet.bus.robot_client import ClientKeys, RobotClient
from fleet.protocol.messages import BusError, InstantActions, Order, robot_id
from sim.controller import SimRobot, SimRobotParams, sim_factsheet
from sim.safety import SafetyMonitor, Violation
from wms.layout import Cell, Floor

log = logging.getLogger("sim.runner")

DEFAULT_MANUFACTURER = "sim"
TRACE_STEPS = 3_600
"""Steps of true positions `SimRunner.trace` keeps (an hour of 1 s ticks): a lifelong run
must not grow without bound (100 robots kept ~19 MiB of trace per simulated hour)."""

Observation = tuple[int, int, Cell, float, bool, bool, bool]
"""One robot after a step: states sent, downstream messages received, true cell,
battery %, charging, broken, alive (`SimRunner.is_alive`)."""


@dataclass(frozen=True)
class SimRobotSpec:
    """One robot to simulate: who it is, where it starts, how it drives (None: the runner's)."""

    serial_number: str
    cell: Cell
    params: SimRobotParams | None = None
    manufacturer: str = DEFAULT_MANUFACTURER

    @property
    def robot_id(self) -> str:
        return robot_id(self.manufacturer, self.serial_number)


class _Seat:
    """A robot, its bus client and what the runner remembers about sending for it."""

    def __init__(self, robot: SimRobot, client: RobotClient) -> None:
        self.robot = robot
        self.client = client
        self.alive = True
        self.deaf_until_s = -1.0
        self.sent_revision = -1
        self.sent_at_s = -float("inf")
        self.sent_at_wall = -float("inf")
        self.connections_seen = 0
        self.received = 0
        """Downstream messages taken off the socket (applied, or lost while deaf)."""
        self.states = 0
        """State messages sent."""


class SimRunner:
    """Steps N simulated controllers over the bus; see the module docstring for one step."""

    def __init__(
        self,
        endpoint: str,
        floor: Floor,
        robots: Sequence[SimRobotSpec],
        *,
        keys_dir: str | Path | None = None,
        params: SimRobotParams | None = None,
        step_s: float = 0.05,
        speed: float | None = 1.0,
        state_interval_s: float = 0.2,
        heartbeat_s: float = 0.25,
        charger_cells: frozenset[Cell] | None = None,
        epoch_s: float | None = None,
        context: zmq.Context | None = None,
        report_every_step: bool = False,
        clock: Clock = time.monotonic,
    ) -> None:
        ids = [spec.robot_id for spec in robots]
        if len(set(ids)) != len(ids):
            raise ValueError(f"robot ids must be unique: {ids}")
        if step_s <= 0 or (speed is not None and speed <= 0):
            raise ValueError("step_s and speed must be positive")
        default = params or SimRobotParams()
        fastest = min(((s.params or default).seconds_per_move for s in robots), default=math.inf)
        if step_s > fastest + 1e-9:
            raise ValueError(
                f"step_s {step_s} is longer than the fastest robot's {fastest} s per cell: "
                "a robot could cross two cells in one step and the safety check could not judge it"
            )
        self.endpoint = endpoint
        self.floor = floor
        self.specs = tuple(robots)
        self.keys_dir = keys_dir
        self.params = default
        self.step_s = step_s
        self.speed = speed
        self.state_interval_s = state_interval_s
        self.heartbeat_s = heartbeat_s
        self.charger_cells = charger_cells
        self.report_every_step = report_every_step
        """Lockstep: every live robot sends exactly one state per step, so the fleet side
        knows how many to wait for (`states_sent`)."""
        self.clock = clock
        """Paces real-time mode and times heartbeats (socket waits are wall time regardless)."""
        self.epoch_s = time.time() if epoch_s is None else epoch_s
        self._owns_context = context is None
        self.context = context or zmq.Context()
        self.now_s = 0.0
        self.behind_s = 0.0
        """Real-time mode: the most the simulation has lagged behind its schedule."""
        self.bus_errors: Counter[str] = Counter()
        """``error`` replies the server sent, per robot (our messages it rejected)."""
        self.safety = SafetyMonitor(floor.navigable)
        self._seats: dict[str, _Seat] = {}
        self._commands: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._positions: dict[str, Cell] = {}
        self._trace: deque[tuple[float, dict[str, Cell]]] = deque(maxlen=TRACE_STEPS)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    @property
    def robot_ids(self) -> tuple[str, ...]:
        return tuple(spec.robot_id for spec in self.specs)

    # --- lifecycle ------------------------------------------------------------------------

    def connect(self) -> SimRunner:
        """Connect every robot: ONLINE, factsheet and a first state go out at once (once only)."""
        if self._seats:
            return self
        for spec in self.specs:
            params = spec.params or self.params
            robot = SimRobot(self.floor, spec.cell, params, charger_cells=self.charger_cells)
            keys = (
                ClientKeys.from_folder(self.keys_dir, spec.robot_id)
                if self.keys_dir is not None
                else None
            )
            client = RobotClient(
                self.endpoint,
                spec.manufacturer,
                spec.serial_number,
                keys=keys,
                context=self.context,
                wall_clock=lambda: self.epoch_s + self.now_s,
            )
            seat = self._seats[spec.robot_id] = _Seat(robot, client.connect())
            self._send_factsheet(seat)
            self._send_state(seat, self.clock())
        self._record()
        return self

    def start(self) -> SimRunner:
        """Connect (if not yet) and step on a daemon thread until `stop()`."""
        self.connect()
        self._thread = threading.Thread(target=self._run, name="sim-runner", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop stepping, say OFFLINE for every robot still alive, close the sockets.

        Raises what made the stepping thread fail, if it did.
        """
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10.0)
            self._thread = None
        for seat in self._seats.values():
            if seat.alive:
                seat.client.close(clean=True)
                seat.alive = False
        if self._owns_context:
            self.context.term()
        if self._failure is not None:
            raise self._failure

    def __enter__(self) -> SimRunner:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        wall0, sim0 = self.clock(), self.now_s
        try:
            while not self._stop.is_set():
                self.step()
                if self.speed is None:
                    continue
                delay = wall0 + (self.now_s - sim0) / self.speed - self.clock()
                if delay > 0:
                    self._stop.wait(delay)
                else:
                    self.behind_s = max(self.behind_s, -delay)
        except BaseException as error:  # surfaced by stop(); a dead sim must not look idle
            log.exception("sim runner failed")
            self._failure = error

    # --- one step -----------------------------------------------------------------------------

    def step(self) -> float:
        """Advance the world by ``step_s``; returns the new sim time (not while `start`ed)."""
        while True:
            try:
                self._commands.get_nowait()()
            except queue.Empty:
                break
        live = [seat for seat in self._seats.values() if seat.alive]
        for seat in live:
            self._receive(seat)
        self.now_s += self.step_s
        for seat in live:
            seat.robot.advance(self.now_s)
        self._record()
        wall = self.clock()
        for seat in live:
            if self.now_s >= seat.deaf_until_s:
                self._report(seat, wall)
        return self.now_s

    def _receive(self, seat: _Seat) -> None:
        while (message := seat.client.receive(0.0)) is not None:
            self._apply(seat, message)

    def _apply(self, seat: _Seat, message: object) -> None:
        seat.received += 1
        if self.now_s < seat.deaf_until_s:
            return  # lost on the air
        if isinstance(message, Order):
            seat.robot.on_order(message)
        elif isinstance(message, InstantActions):
            seat.robot.on_instant_actions(message)
        elif isinstance(message, BusError):
            self.bus_errors[seat.client.robot_id] += 1
            log.warning("%s: the server rejected %s", seat.client.robot_id, message)

    def _report(self, seat: _Seat, wall: float) -> None:
        robot, client = seat.robot, seat.client
        if robot.factsheet_requested or client.connections > max(1, seat.connections_seen):
            self._send_factsheet(seat)  # asked for, or the server may be a new one
        seat.connections_seen = max(seat.connections_seen, client.connections)
        due = (
            self.report_every_step
            or robot.revision != seat.sent_revision
            or self.now_s - seat.sent_at_s >= self.state_interval_s - 1e-9
            or wall - seat.sent_at_wall >= self.heartbeat_s
        )
        if due:
            self._send_state(seat, wall)

    def _send_state(self, seat: _Seat, wall: float) -> None:
        seat.client.send(seat.robot.state(seat.client.header("state")))
        seat.states += 1
        seat.sent_revision = seat.robot.revision
        seat.sent_at_s, seat.sent_at_wall = self.now_s, wall

    def _send_factsheet(self, seat: _Seat) -> None:
        header = seat.client.header("factsheet")
        seat.client.send(sim_factsheet(header, seat.robot.params, self.floor.cell_size_m))
        seat.robot.factsheet_requested = False

    def _record(self) -> None:
        cells = {robot_id: seat.robot.cell for robot_id, seat in self._seats.items()}
        with self._lock:
            if cells == self._positions:
                return
            self._positions = cells
            self._trace.append((self.now_s, cells))
            for violation in self.safety.observe(self.now_s, cells):
                log.warning("safety violation: %s", violation)

    # --- lockstep barrier (caller-driven runs) ------------------------------------------------

    def block(self, cells: Iterable[Cell], blocked: bool = True) -> None:
        """An obstacle appears on (or leaves) these cells: a robot entering one while it is
        blocked is a safety violation. Takes effect at the next step."""
        chosen = set(cells)

        def apply() -> None:
            with self._lock:
                if blocked:
                    self.safety.blocked |= chosen
                else:
                    self.safety.blocked -= chosen

        self._commands.put(apply)

    def robot(self, robot_id: str) -> SimRobot:
        """The simulated controller itself (read it; change it only through the fault calls)."""
        return self._seat(robot_id).robot

    def is_alive(self, robot_id: str) -> bool:
        """Connected and not deaf: its states reach the fleet."""
        seat = self._seat(robot_id)
        return seat.alive and self.now_s >= seat.deaf_until_s

    def states_sent(self) -> dict[str, int]:
        """State messages each robot has sent so far (lockstep: the fleet waits for these)."""
        return {robot_id: seat.states for robot_id, seat in self._seats.items()}

    def received(self) -> dict[str, int]:
        return {robot_id: seat.received for robot_id, seat in self._seats.items()}

    def observations(self) -> dict[str, Observation]:
        """Every robot's counters and visible condition in one pass (what a process
        boundary carries after each step; see `Observation`)."""
        now = self.now_s
        out = {}
        for rid, seat in self._seats.items():
            robot = seat.robot
            out[rid] = (
                seat.states,
                seat.received,
                robot.cell,
                robot.battery_pct,
                robot.charging,
                robot.broken,
                seat.alive and now >= seat.deaf_until_s,
            )
        return out

    def await_messages(self, expected: Mapping[str, int], timeout_s: float = 10.0) -> bool:
        """Take downstream messages off the sockets until each robot has received at least
        ``expected[robot]`` in all (dead robots are skipped); False at the deadline.

        Lockstep: the fleet says how many commands it sent each robot this step, and the
        world applies them all before it advances, so a run does not depend on timing.
        """
        deadline = time.monotonic() + timeout_s
        for rid, count in expected.items():
            seat = self._seats.get(rid)
            while seat is not None and seat.alive and seat.received < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                message = seat.client.receive(min(remaining, 0.05))
                if message is not None:
                    self._apply(seat, message)
        return True

    # --- observation (any thread) ------------------------------------------------------------

    def positions(self) -> dict[str, Cell]:
        """Every robot's true cell now (killed robots stay where they stopped)."""
        with self._lock:
            return dict(self._positions)

    def trace(self) -> list[tuple[float, dict[str, Cell]]]:
        """The true cells at every step where any changed: the last `TRACE_STEPS` of them."""
        with self._lock:
            return list(self._trace)

    def violations(self) -> list[Violation]:
        """Every physical safety violation seen so far, judged on the true cells."""
        with self._lock:
            return list(self.safety.violations)

    # --- faults (any thread; take effect at the next step) -------------------------------------

    def kill(self, robot_id: str) -> None:
        """The controller dies: socket closed without goodbye, the robot stands where it is."""
        seat = self._seat(robot_id)

        def kill() -> None:
            if seat.alive:
                seat.alive = False
                seat.client.close(clean=False)

        self._commands.put(kill)

    def comm_loss(self, robot_id: str, seconds: float) -> None:
        """For ``seconds`` of sim time the robot neither hears nor is heard; it keeps driving."""
        seat = self._seat(robot_id)

        def deafen() -> None:
            seat.deaf_until_s = self.now_s + seconds

        self._commands.put(deafen)

    def break_down(self, robot_id: str) -> None:
        """A FATAL ``breakdown`` error: the robot stops until `repair`."""
        self._commands.put(self._seat(robot_id).robot.break_down)

    def repair(self, robot_id: str) -> None:
        self._commands.put(self._seat(robot_id).robot.repair)

    def set_battery(self, robot_id: str, pct: float) -> None:
        if not 0 <= pct <= 100:
            raise ValueError(f"battery must be in 0..100, got {pct}")
        robot = self._seat(robot_id).robot
        self._commands.put(lambda: robot.set_battery(pct))

    def _seat(self, robot_id: str) -> _Seat:
        seat = self._seats.get(robot_id)
        if seat is None:
            raise KeyError(f"unknown robot {robot_id!r} (connect first; known: {self.robot_ids})")
        return seat
