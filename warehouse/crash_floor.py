"""A lockstep floor whose server (bus + fleet manager) runs in its own process, so it can
be killed with SIGKILL and restarted from its database in the middle of a run.

`ServerProcess` is the killable half: a child process with the real `BusServer` bound
to one endpoint for all its lives (the child binds it and reports the address it got;
a restart binds that same address again) and a lockstep `ManagerService` with its task log,
durable fleet state (`fleet.manager.durable`) and ledger booker, all in one site
database (an SQLite file or a PostgreSQL URL, through the one storage layer). The parent
drives it over a pipe — the tick's time, submissions, blocked cells — never with protocol
messages, which travel over ZeroMQ between the child and the
simulated robots (in their own process, `sim.process_runner`).

`CrashFloor` is the barrier. While the server is up it is the usual lockstep tick
(world, states, one decision cycle, commands delivered). When the server is killed the
robots drive on (a VDA 5050 vehicle keeps driving its released base) and their states
are lost (``ZMQ_IMMEDIATE``); the restarted server restores, the robots reconnect on
their own, and until every robot has reported again the barrier only waits briefly for
states instead of exactly (it cannot know which were lost). Then it counts again from
where the new server stands. A run after a kill is no longer bit-for-bit
deterministic; it is still safe and complete, which is what the fault campaign checks.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from fleet.bus.server import EndpointInUse
from fleet.manager.config import FleetConfig
from fleet.manager.model import TaskSpec
from sim.controller import SimRobotParams
from sim.process_runner import ProcessRunner
from sim.runner import SimRobotSpec
from warehouse.floor_sim import EPOCH_S, LockstepStalled
from wms.errors import WarehouseError
from wms.layout import Cell, Floor


class ServerProcessError(WarehouseError):
    """The server child process died while it was expected to answer, or could not bind."""

    def __init__(self, source: object, problem: str) -> None:
        super().__init__(f"{source}: {problem}")


IPC_PATH_MAX = 100
"""A unix socket path must fit in ``sun_path`` (107 bytes on Linux)."""


@dataclass(frozen=True, slots=True)
class ServerArgs:
    endpoint: str
    """Where the bus binds: ``ipc://PATH``, or ``tcp://HOST:PORT`` where port 0 or ``*``
    lets the child take any free port and report it (`ServerProcess.endpoint`)."""
    floor: Floor
    db: str
    """The site database: an SQLite path or URL, or a ``postgresql://`` URL."""
    fleet: FleetConfig
    robots: tuple[str, ...]
    tick_s: float
    liveness_ticks: int = 5
    seed: int = 0
    rebind_timeout_s: float = 30.0
    """How long a child waits for its address while another socket holds it (the killed
    server's listener is gone at once, so only a stranger can hold it) before it gives up."""


def private_endpoint(folder: Path, name: str = "bus") -> str:
    """``ipc://`` in ``folder``: an address no other process can take between a server's
    death and its restart, unlike a TCP port (the robots and the server share one host)."""
    path = folder / name
    if len(str(path)) > IPC_PATH_MAX:
        raise ServerProcessError(path, f"is too long for a unix socket ({IPC_PATH_MAX} max)")
    return f"ipc://{path}"


def _open_bus(args: ServerArgs, now: list[float]) -> Any:
    """The started `BusServer` on ``args.endpoint``, retried while the address is in use.

    Raises `EndpointInUse` once ``args.rebind_timeout_s`` has passed: the robots reconnect
    to this address only, so binding another one would strand them (and whoever holds it
    would get their traffic); the parent reports it as one line.
    """
    from fleet.bus.config import BusConfig
    from fleet.bus.server import BusServer

    deadline = time.monotonic() + args.rebind_timeout_s
    while True:
        bus = BusServer(
            args.endpoint,
            insecure=True,
            config=BusConfig(
                heartbeat_interval_s=args.tick_s,
                missed_heartbeats=args.liveness_ticks,
                # Resends on simulated time: a robot that was deaf when its update came gets
                # it again (a robot acknowledges with its next state, one tick later).
                resend_after_s=3 * args.tick_s,
                max_resends=50,
            ),
            clock=lambda: now[0],
            wall_clock=lambda: EPOCH_S + now[0],
        )
        try:
            return bus.start()
        except EndpointInUse:
            if time.monotonic() > deadline:
                raise EndpointInUse(
                    args.endpoint,
                    f"is still taken by another process after {args.rebind_timeout_s:g} s; "
                    "the robots reconnect only there, so the server cannot move",
                ) from None
            time.sleep(0.1)


def _serve(conn: Connection, args: ServerArgs) -> None:
    """The child: bus, manager, task log, durable fleet and ledger booker on ``args.db``.

    Its first answer is ``("ready", endpoint bound)`` or ``("refused", one line)``.
    """
    from fleet.manager.booking import LedgerBooker
    from fleet.manager.core import FleetCore
    from fleet.manager.durable import DurableFleet
    from fleet.manager.model import TaskKind
    from fleet.manager.service import ManagerService
    from fleet.manager.store import SqlTaskStore
    from wms.ledger import Ledger

    now = [0.0]
    try:
        # Bound first: the robots' reconnect attempts succeed while it restores.
        bus = _open_bus(args, now)
    except EndpointInUse as error:
        conn.send(("refused", str(error)))
        return
    ledger = Ledger.open(args.db)
    core = FleetCore(args.floor, args.fleet, seed=args.seed)
    core.register(args.robots)
    booker = LedgerBooker(ledger)
    service = ManagerService(
        core,
        bus,
        store=SqlTaskStore(args.db),
        booker=booker,
        durable=DurableFleet(args.db),
        lockstep=True,
    )
    service.restore()
    service.start()
    conn.send(("ready", bus.endpoint))
    service_kinds = (TaskKind.CHARGE, TaskKind.PARK)
    while True:
        kind, *rest = conn.recv()
        if kind == "step":
            now[0], timeout_s = rest
            sent = service.step(now[0], timeout_s)
            conn.send(sent)
        elif kind == "seen":
            conn.send(service.states_seen())
        elif kind == "submit":
            (specs,) = rest

            def submit(core: FleetCore, specs: list[TaskSpec] = specs) -> int:
                # The WMS releases the day (again after a restart: what the task log holds
                # is skipped): through the demand-replenishment gate, as `warehouse demo`.
                held = set(booker.held_ids())
                fresh = [s for s in specs if s.task_id not in core.tasks and s.task_id not in held]
                booker.release(fresh)
                for spec in booker.take_requests():
                    core.submit(spec)
                return len(fresh)

            conn.send(service.call(submit, 60.0))
        elif kind == "block":
            conn.send(service.call(lambda core, rest=rest: core.block(*rest)))
        elif kind == "free":
            conn.send(service.call(lambda core, cells=rest[0]: _free(core, cells)))
        elif kind == "status":

            def status(core: FleetCore) -> dict[str, Any]:
                open_work = [
                    t.task_id for t in core.tasks.open() if t.spec.kind not in service_kinds
                ]
                ready = {
                    r.robot_id: r.online and r.restored_s is None and not r.resetting
                    for r in core.robots.values()
                }
                stuck = {
                    t.task_id: f"{t.status.value} {t.robot} stop {t.stop_index}"
                    for t in core.tasks.open()
                    if t.spec.kind not in service_kinds
                }
                robots = {
                    r.robot_id: f"{core.status(r).value} task={r.task_id} {r.waiting!r} "
                    f"cell={r.cell} restored={r.restored_s} resetting={r.resetting} "
                    f"awaiting={r.awaiting_update} action={r.action_id}"
                    for r in core.robots.values()
                }
                return {
                    "open": open_work + booker.held_ids(),
                    "ready": ready,
                    "errors": service.errors,
                    "stuck": stuck,
                    "robots": robots,
                }

            conn.send(service.call(status))


def _free(core: Any, cells: set[Cell]) -> set[Cell]:
    return {c for c in cells if core.reservations.holder(c) is None}


class ServerProcess:
    """The killable server: start, SIGKILL, start again on the same database and endpoint.

    The child binds and reports the address (`endpoint`); every restart binds exactly that
    address again, so ``tcp://127.0.0.1:0`` is chosen once, by the kernel, for all lives,
    and no port is ever found free, released and hoped to still be free.
    """

    def __init__(self, args: ServerArgs) -> None:
        self.args = args
        self.endpoint = args.endpoint
        """The address bound: ``args.endpoint`` until the first start reports the real one."""
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(["warehouse.crash_floor", "fleet.manager.service"])
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None
        self.starts = 0

    def start(self, timeout_s: float = 120.0) -> ServerProcess:
        parent, child = self._context.Pipe()
        args = dataclasses.replace(self.args, endpoint=self.endpoint)
        self._process = self._context.Process(
            target=_serve, args=(child, args), name="fleet-server", daemon=True
        )
        self._process.start()
        child.close()
        self._conn = parent
        answer, detail = self._reply(timeout_s)
        if answer != "ready":
            self._process.join(30.0)
            self._conn.close()
            self._conn = None
            raise ServerProcessError("server", detail)
        self.endpoint = detail
        self.starts += 1
        return self

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as a crash or an OOM kill would do."""
        assert self._process is not None and self._process.pid is not None
        os.kill(self._process.pid, signal.SIGKILL)
        self._process.join(30.0)
        if self._conn is not None:
            self._conn.close()
        self._conn = None

    def stop(self) -> None:
        if self._process is not None and self._process.is_alive():
            self.kill()

    def ask(self, *message: Any, timeout_s: float = 120.0) -> Any:
        assert self._conn is not None, "start() first"
        self._conn.send(message)
        return self._reply(timeout_s)

    def _reply(self, timeout_s: float) -> Any:
        assert self._conn is not None and self._process is not None
        deadline = time.monotonic() + timeout_s
        while not self._conn.poll(0.05):
            if not self._process.is_alive() or time.monotonic() > deadline:
                raise ServerProcessError(
                    "server", f"the server process is gone (exit code {self._process.exitcode})"
                )
        return self._conn.recv()


class CrashFloor:
    """Lockstep ticks over a `ServerProcess` that may be killed and restarted between ticks."""

    def __init__(
        self,
        floor: Floor,
        robots: Sequence[SimRobotSpec],
        db: str,
        fleet: FleetConfig,
        *,
        tick_s: float = 1.0,
        params: SimRobotParams | None = None,
        seed: int = 0,
        barrier_timeout_s: float = 60.0,
    ) -> None:
        self.tick_s = tick_s
        self.barrier_timeout_s = barrier_timeout_s
        self._sockets_dir = Path(tempfile.mkdtemp(prefix="crash-floor-"))
        """Private to this run: its ipc address cannot be taken while the server is down."""
        self.server = ServerProcess(
            ServerArgs(
                private_endpoint(self._sockets_dir),
                floor,
                db,
                fleet,
                tuple(sorted(s.robot_id for s in robots)),
                tick_s,
                seed=seed,
            )
        )
        self.runner = ProcessRunner(
            self.server.args.endpoint,
            floor,
            list(robots),
            params=params or SimRobotParams(seconds_per_cell=tick_s),
            step_s=tick_s,
            charger_cells=frozenset(p.cell for p in floor.chargers),
            epoch_s=EPOCH_S,
            state_interval_s=2 * tick_s,
            heartbeat_s=float("inf"),
        )
        self.now_s = 0.0
        self.recovering = False
        self._offset: dict[str, int] = {}
        """States each robot sent that the current server never saw (lost while it was down)."""

    def start(self) -> CrashFloor:
        self.server.start()
        self.runner.connect()
        self._await_states(exact=True)
        self._exchange(exact=True)
        return self

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.runner.stop()
        self.server.stop()
        shutil.rmtree(self._sockets_dir, ignore_errors=True)

    def kill_server(self) -> None:
        self.runner.flush()  # the robots take what the live server sent before it dies
        self.server.kill()
        self.recovering = True

    def restart_server(self) -> None:
        self.server.start()

    def step(self, down: bool = False) -> float:
        """One tick; with ``down`` the world moves on while no server answers."""
        self.now_s = self.runner.step()
        if down:
            return self.now_s
        exact = not self.recovering
        self._await_states(exact)
        self._exchange(exact)
        return self.now_s

    def status(self) -> dict[str, Any]:
        return self.server.ask("status")

    def recovered(self, expected: Iterable[str]) -> bool:
        """Every robot in ``expected`` has reported to the new server and drives again;
        from here the barrier counts exactly again."""
        ready = self.status()["ready"]
        if not all(ready.get(r, False) for r in expected):
            return False
        self._settle()
        self.recovering = False
        return True

    def _settle(self) -> None:
        """Count from where the new server stands: wait until no state is in flight."""
        seen = self.server.ask("seen")
        while True:
            time.sleep(0.05)
            again = self.server.ask("seen")
            if again == seen:
                break
            seen = again
        sent = self.runner.states_sent()
        self._offset = {rid: n - seen.get(rid, 0) for rid, n in sent.items()}

    def _await_states(self, exact: bool) -> None:
        sent = self.runner.states_sent()
        want = {
            rid: n - self._offset.get(rid, 0)
            for rid, n in sent.items()
            if self.runner.is_alive(rid)
        }
        deadline = time.monotonic() + (self.barrier_timeout_s if exact else 0.25)
        while True:
            seen = self.server.ask("seen")
            if all(seen.get(rid, 0) >= n for rid, n in want.items()):
                return
            if time.monotonic() > deadline:
                if exact:
                    raise LockstepStalled("lockstep", f"states sent {want}, the fleet saw {seen}")
                return
            time.sleep(0.0005)

    def _exchange(self, exact: bool) -> None:
        before = self.runner.received()
        sent: Mapping[str, int] = self.server.ask(
            "step", self.now_s, self.barrier_timeout_s, timeout_s=self.barrier_timeout_s + 30
        )
        expected = {rid: before[rid] + n for rid, n in sent.items() if rid in before}
        timeout = self.barrier_timeout_s if exact else 1.0
        if not self.runner.await_messages(expected, timeout, strict=exact) and exact:
            raise LockstepStalled("lockstep", f"robots did not receive {expected} in time")

    def submit(self, specs: list[TaskSpec]) -> int:
        return self.server.ask("submit", specs)

    def block(self, cells: list[Cell], blocked: bool = True) -> None:
        self.server.ask("block", cells, blocked)

    def free(self, cells: set[Cell]) -> set[Cell]:
        return self.server.ask("free", cells)
