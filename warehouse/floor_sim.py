"""The whole system on one simulated clock: fleet manager and simulated floor over ZeroMQ.

`LockstepFloor` runs the real `BusServer` and `ManagerService` (in this process)
and a `SimRunner` whose controllers talk to them over real sockets on loopback.
Each tick is a barrier, so a run is deterministic (same seed, same result) and
as fast as the CPU allows:

1. the world advances one tick and every live robot sends one state;
2. we wait until the bus has handed all of them to the manager;
3. the manager handles them in robot order and runs one decision cycle at the
   tick's time, and says how many commands it sent each robot;
4. we wait until every robot has taken those off its socket and applied them.

The bus's clocks (liveness, resends, message freshness) run on simulated time
too, and resends are off: in lockstep nothing is lost between two barriers.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fleet.bus.config import BusConfig
from fleet.bus.server import BusServer
from fleet.manager.booking import LedgerBooker
from fleet.manager.config import FleetConfig
from fleet.manager.core import FleetCore
from fleet.manager.service import ManagerService
from fleet.manager.store import TaskStore
from sim.controller import SimRobotParams
from sim.process_runner import ProcessRunner
from sim.runner import SimRobotSpec, SimRunner
from wms.errors import WarehouseError
from wms.layout import Floor

EPOCH_S = 1_780_000_000.0
"""Header timestamps start here in every lockstep run (2026-05-28), so runs compare equal."""


class LockstepStalled(WarehouseError):
    """The barrier did not close: a message went missing (a bug, or a machine far too slow)."""


@dataclass(frozen=True, slots=True)
class LockstepSettings:
    tick_s: float = 1.0
    barrier_timeout_s: float = 60.0
    liveness_ticks: int = 6
    """A robot silent for this many ticks is CONNECTIONBROKEN (it sends a heartbeat state
    every ``liveness_ticks - 2`` ticks: one tick for the bus clock's lag behind a state
    sent during a step, one of margin)."""
    pub: bool = False
    """Open a PUB socket (a viewer may attach)."""
    world_process: bool = True
    """Run the simulated robots in a child process (the world and the fleet on two cores)."""


class LockstepFloor:
    def __init__(
        self,
        floor: Floor,
        robots: Sequence[SimRobotSpec],
        *,
        fleet: FleetConfig | None = None,
        settings: LockstepSettings | None = None,
        params: SimRobotParams | None = None,
        booker: LedgerBooker | None = None,
        store: TaskStore | None = None,
        keep_finished: int | None = None,
        seed: int = 0,
    ) -> None:
        self.floor = floor
        self.settings = settings or LockstepSettings()
        tick = self.settings.tick_s
        self.now_s = 0.0
        bus_config = BusConfig(
            heartbeat_interval_s=tick,
            missed_heartbeats=self.settings.liveness_ticks,
            resend_after_s=1e9,
            max_resends=1,
        )
        self.bus = BusServer(
            "tcp://127.0.0.1:0",
            pub="tcp://127.0.0.1:0" if self.settings.pub else None,
            insecure=True,
            config=bus_config,
            clock=lambda: self.now_s,
            wall_clock=lambda: EPOCH_S + self.now_s,
        )
        self.core = FleetCore(floor, fleet or FleetConfig(cycle_s=tick), seed=seed)
        self.core.register(sorted(spec.robot_id for spec in robots))
        self.service = ManagerService(
            self.core,
            self.bus,
            store=store,
            booker=booker,
            lockstep=True,
            keep_finished=keep_finished,
        )
        self.params = params or SimRobotParams(seconds_per_cell=tick)
        self._specs = list(robots)
        self.runner: SimRunner | ProcessRunner | None = None
        self.cycle_ms: list[float] = []
        self.pending_blocks: set[tuple[int, int]] = set()
        """Cells the fleet was told are blocked whose obstacle appears in the world once no
        robot holds them (a robot already granted a cell is not driven into a wall)."""

    def start(self) -> LockstepFloor:
        self.bus.start()
        self.service.start()
        world = dict(
            params=self.params,
            step_s=self.settings.tick_s,
            charger_cells=frozenset(p.cell for p in self.floor.chargers),
            epoch_s=EPOCH_S,
            # A state when something changed, else a heartbeat as seldom as liveness allows
            # (most of a tick's states were heartbeats of robots standing still); never on
            # wall time, so the count is deterministic.
            state_interval_s=max(1, self.settings.liveness_ticks - 2) * self.settings.tick_s,
            heartbeat_s=math.inf,
        )
        if self.settings.world_process:
            self.runner = ProcessRunner(self.bus.endpoint, self.floor, self._specs, **world)
        else:
            self.runner = SimRunner(self.bus.endpoint, self.floor, self._specs, speed=None, **world)
        self.runner.connect()
        self._await_states()
        self._exchange()
        return self

    def stop(self) -> None:
        if self.runner is not None:
            self.runner.stop()
        self.service.stop()
        self.bus.stop()

    def __enter__(self) -> LockstepFloor:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def step(self) -> float:
        """One tick: world, states, decision cycle, commands; returns the new time."""
        assert self.runner is not None, "start() first"
        self.now_s = self.runner.step()
        self._await_states()
        self._exchange()
        return self.now_s

    def run_until(self, done: Callable[[LockstepFloor], bool], max_s: float) -> bool:
        while self.now_s < max_s:
            if done(self):
                return True
            self.step()
        return done(self)

    def _exchange(self) -> None:
        assert self.runner is not None
        before = self.runner.received()
        began = time.perf_counter()
        sent = self.service.step(self.now_s, self.settings.barrier_timeout_s)
        self.cycle_ms.append((time.perf_counter() - began) * 1000.0)
        expected = {rid: before[rid] + n for rid, n in sent.items() if rid in before}
        if not self.runner.await_messages(expected, self.settings.barrier_timeout_s):
            raise LockstepStalled("lockstep", f"robots did not receive {expected} in time")

    def _await_states(self) -> None:
        assert self.runner is not None
        sent = {rid: n for rid, n in self.runner.states_sent().items() if self._alive(rid)}
        if not self.service.wait_states(sent, self.settings.barrier_timeout_s):
            seen = self.service.states_seen()
            raise LockstepStalled("lockstep", f"states sent {sent}, the fleet saw {seen}")

    def _alive(self, robot_id: str) -> bool:
        assert self.runner is not None
        return self.runner.is_alive(robot_id)

    def info(self) -> dict[str, Any]:
        return {"robots": len(self._specs), "tick_s": self.settings.tick_s, "now_s": self.now_s}
