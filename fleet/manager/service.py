"""The adapter that runs the decision core live: bus events in, commands out, on one thread.

`ManagerService` is the bus's `BusListener`: the bus thread only turns what it
hears into core events and puts them on a queue. The service's own cycle thread
owns the core: it drains the queue into `FleetCore.handle`, runs
`FleetCore.cycle` every ``cycle_s``, and carries out the commands in a fixed
order — the robots' durable state (orders about to be sent, placements, blocks:
`fleet.manager.durable`) and the task events are written first (so nothing is acted
on that is not persisted, and a restart can adopt the robots' orders), then picks
are booked in the ledger, then orders and instant actions go to the bus, and the
fleet snapshot goes to the PUB socket. Operator
requests from other threads run on the cycle thread too (`call`), so the core
is never touched by two threads.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from typing import Any

from core.clock import Clock
from fleet.bus.acks import Ack, AckResult
from fleet.bus.server import BusListener, BusServer
from fleet.manager.booking import LedgerBooker, PickBooker
from fleet.manager.core import FleetCore, ManagerRefused
from fleet.manager.durable import DurableFleet
from fleet.manager.events import (
    Command,
    ConfirmPicks,
    Event,
    LoadLeft,
    OrderRefused,
    Rejected,
    RobotConnection,
    RobotFactsheet,
    RobotStateReport,
    SendInstantActions,
    SendOrder,
    TaskEvent,
)
from fleet.manager.model import TaskStatus
from fleet.manager.store import MemoryTaskStore, TaskStore
from fleet.protocol.messages import ConnectionState, Factsheet, Message, State

log = logging.getLogger("fleet.manager")

KEEP_FINISHED = 10_000
"""Finished tasks a service with a durable task log keeps in memory (`TaskBook.retain`):
about ten hours of a hundred robots' work for `warehouse ctl tasks list`; the rest is in
the database."""

SNAPSHOT_TOPIC = "fleet"
SNAPSHOT_KEY = "snapshot"


class ManagerService(BusListener):
    def __init__(
        self,
        core: FleetCore,
        bus: BusServer,
        *,
        store: TaskStore | None = None,
        booker: PickBooker | None = None,
        durable: DurableFleet | None = None,
        clock: Clock = time.monotonic,
        snapshot_every: int = 1,
        lockstep: bool = False,
        keep_finished: int | None = None,
    ) -> None:
        self.core = core
        self.bus = bus
        self.store = store or MemoryTaskStore()
        self.booker = booker
        self.durable = durable
        """The robots' registry, placements and sent orders (None: a restart requeues)."""
        self.keep_finished = keep_finished
        """Finished tasks the core keeps in memory once the service runs (None: all). Their
        events are in the store before anything is acted on, so the rest are forgotten
        (`TaskBook.retain`): a day of lifelong operation keeps memory flat."""
        self.clock = clock
        self.snapshot_every = max(1, snapshot_every)
        self._events: queue.SimpleQueue[tuple[Event | Callable[[], Any], Future[Any] | None]] = (
            queue.SimpleQueue()
        )
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._t0 = clock()
        self.errors = 0
        self.lockstep = lockstep
        """Cycles run only when `step` is called, on the caller's simulated clock; events
        wait in an inbox and are handled in robot order, so a run does not depend on
        the order frames happened to arrive in."""
        self._inbox: list[tuple[str, int, Event]] = []
        self._inbox_lock = threading.Lock()
        self._arrivals = 0
        self._states_seen: dict[str, int] = {}
        self._awaited: dict[str, int] = {}
        """Lockstep: states still missing for `wait_states`, and the event it waits on."""
        self._awaited_done = threading.Event()
        self._core_lock = threading.RLock()
        """Held while the core runs: by the cycle thread for each item it handles and, in
        lockstep, by the caller of `call` / `step`, which runs the work on its own thread
        (two thread hand-offs fewer per tick; each costs a scheduling delay on a busy
        machine)."""
        bus.listener = self

    # --- BusListener (bus thread): only enqueue ------------------------------------------

    def on_message(self, robot: str, message: Message) -> None:
        if isinstance(message, State):
            self._enqueue(robot, RobotStateReport(robot, message))
            with self._inbox_lock:
                seen = self._states_seen[robot] = self._states_seen.get(robot, 0) + 1
                if self._awaited.get(robot, seen + 1) <= seen:
                    del self._awaited[robot]
                    if not self._awaited:
                        self._awaited_done.set()
        elif isinstance(message, Factsheet):
            self._enqueue(robot, RobotFactsheet(robot, message))

    def on_connection(self, robot: str, state: ConnectionState) -> None:
        self._enqueue(robot, RobotConnection(robot, state))

    def _enqueue(self, robot: str, event: Event) -> None:
        if not self.lockstep:
            self._events.put((event, None))
            return
        with self._inbox_lock:
            self._arrivals += 1
            self._inbox.append((robot, self._arrivals, event))

    def states_seen(self) -> dict[str, int]:
        """State messages the bus has handed over, per robot (the lockstep barrier)."""
        with self._inbox_lock:
            return dict(self._states_seen)

    def wait_states(self, expected: dict[str, int], timeout_s: float) -> bool:
        """Lockstep: block until the bus has handed over ``expected[robot]`` states of each
        robot in all; False at the deadline. The bus thread wakes the caller once, when
        the last one arrives (no polling that would compete with it for the GIL)."""
        with self._inbox_lock:
            missing = {r: n for r, n in expected.items() if self._states_seen.get(r, 0) < n}
            if not missing:
                return True
            self._awaited = missing
            self._awaited_done.clear()
        done = self._awaited_done.wait(timeout_s)
        with self._inbox_lock:
            self._awaited = {}
        return done

    def step(self, now_s: float, timeout_s: float = 30.0) -> dict[str, int]:
        """Lockstep: handle every waiting event in robot order, run one cycle at ``now_s``;
        returns how many commands went to each robot (the world waits for them)."""

        def work(core: FleetCore) -> dict[str, int]:
            with self._inbox_lock:
                inbox, self._inbox = self._inbox, []
            commands: list[Command] = []
            for _, _, event in sorted(inbox, key=lambda item: (item[0], item[1])):
                commands += core.handle(event, now_s)
            commands += core.cycle(now_s)
            self._execute(commands)
            self.publish_snapshot()
            sent: dict[str, int] = {}
            for command in commands:
                if isinstance(command, SendOrder | SendInstantActions):
                    sent[command.robot] = sent.get(command.robot, 0) + 1
            return sent

        return self.call(work, timeout_s)

    def on_ack(self, ack: Ack) -> None:
        if ack.order_key is not None and ack.result is not AckResult.ACCEPTED:
            order_id, update_id = ack.order_key
            self._events.put((OrderRefused(ack.robot, order_id, update_id, ack.result.value), None))

    # --- lifecycle ---------------------------------------------------------------------

    def now(self) -> float:
        return self.clock() - self._t0

    def restore(self) -> int:
        """Rebuild the task book from the store and, with a durable fleet, the robots'
        registry and orders (so their orders are adopted); returns the events read."""
        events = list(self.store.events())
        resume = self.durable.begin() if self.durable is not None else None
        if resume is not None and resume.incarnation and isinstance(self.booker, LedgerBooker):
            self.booker.id_prefix = f"{resume.incarnation}."
        commands = self.core.restore(events, self.now(), resume)
        if isinstance(self.booker, LedgerBooker):  # the open tasks claim their faces again
            self.booker.adopt(task.spec for task in self.core.tasks.open())
        self._execute(self._unbooked(commands))
        self._retain()  # after the restore: it re-confirms the stops of every task it read
        return len(events)

    def _retain(self) -> None:
        if self.keep_finished is not None:
            self.core.tasks.retain(self.keep_finished, self.store.has_task)

    def _unbooked(self, commands: list[Command]) -> list[Command]:
        """Drop the restore's re-confirmations of lines the ledger has booked already (they
        would be ignored; this saves a transaction per line on a long day)."""
        if not isinstance(self.booker, LedgerBooker):
            return commands
        booked = self.booker.confirmed_ids()
        out: list[Command] = []
        for command in commands:
            if isinstance(command, ConfirmPicks):
                lines = tuple(ln for ln in command.lines if ln.pick_id not in booked)
                if not lines:
                    continue
                command = replace(command, lines=lines)
            out.append(command)
        return out

    def start(self) -> ManagerService:
        self._retain()
        self._thread = threading.Thread(target=self.run, name="fleet-manager", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stopping.set()
        self._events.put((lambda: None, None))
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)

    def run(self) -> None:
        period = self.core.config.cycle_s
        next_cycle = self.clock()
        while not self._stopping.is_set():
            # Lockstep: nothing is timed here; wait for the next event or call.
            timeout = None if self.lockstep else max(0.0, next_cycle - self.clock())
            try:
                item = self._events.get(timeout=timeout)
            except queue.Empty:
                item = None
            if item is not None:
                self._handle(item)
                while True:  # drain what else is waiting before the next cycle
                    try:
                        self._handle(self._events.get_nowait())
                    except queue.Empty:
                        break
            if not self.lockstep and self.clock() >= next_cycle:
                next_cycle = max(next_cycle + period, self.clock() - period)
                self._guarded(lambda: self._execute(self.core.cycle(self.now())))
                if self.core.stats.cycles % self.snapshot_every == 0:
                    self._guarded(self.publish_snapshot)

    def _handle(self, item: tuple[Event | Callable[[], Any], Future[Any] | None]) -> None:
        with self._core_lock:
            self._handle_locked(item)

    def _handle_locked(self, item: tuple[Event | Callable[[], Any], Future[Any] | None]) -> None:
        work, future = item
        if callable(work):
            if future is not None and not future.set_running_or_notify_cancel():
                return  # the caller gave up waiting and withdrew it: not carried out
            try:
                result = work()
            except BaseException as error:  # the caller gets it; the loop goes on
                if future is not None:
                    future.set_exception(error)
                elif not isinstance(error, ManagerRefused):
                    self.errors += 1
                    log.exception("manager call failed")
                return
            if future is not None:
                future.set_result(result)
            return
        self._guarded(lambda: self._execute(self.core.handle(work, self.now())))

    def _guarded(self, step: Callable[[], None]) -> None:
        try:
            step()
        except Exception:  # one bad cycle must not stop the floor
            self.errors += 1
            log.exception("manager step failed")

    def call(self, fn: Callable[[FleetCore], Any], timeout_s: float = 5.0) -> Any:
        """Run ``fn(core)`` on the cycle thread and return its result (operator commands).

        Commands the call causes are carried out before the result is returned. In
        lockstep the caller's thread runs it, holding the core while it does. A call the
        core has not started within ``timeout_s`` is withdrawn (never run later) and
        raises `TimeoutError`; one already running is waited for.
        """
        if self.lockstep:
            if not self._core_lock.acquire(timeout=timeout_s):
                raise TimeoutError(f"the fleet core was busy for {timeout_s} s")
            try:
                result = fn(self.core)
                self._execute(self.core._flush())
                return result
            finally:
                self._core_lock.release()
        future: Future[Any] = Future()

        def work() -> Any:
            result = fn(self.core)
            self._execute(self.core._flush())
            return result

        self._events.put((work, future))
        try:
            return future.result(timeout_s)
        except TimeoutError:
            if not future.cancel():  # already running: it finishes, and so does the wait
                return future.result()
            raise TimeoutError(
                f"the fleet core did not take the call within {timeout_s} s; it was withdrawn"
            ) from None

    # --- commands ----------------------------------------------------------------------

    def _execute(self, commands: list[Command]) -> None:
        events = [c for c in commands if isinstance(c, TaskEvent)]
        if self.durable is not None:
            self.durable.record(commands)  # orders too: stored before they are sent
        if events:
            self.store.append(events)  # persisted before anything is acted on
            for event in events:
                if event.status in (TaskStatus.DONE, TaskStatus.FAILED, TaskStatus.CANCELLED):
                    log.info(
                        "task %s %s%s",
                        event.task_id,
                        event.status.value,
                        f" ({event.reason})" if event.reason else "",
                    )
        booker = self.booker
        for command in commands:
            if isinstance(command, ConfirmPicks) and booker is not None:
                booker.confirm(command)
                self._submit_requests()
            elif isinstance(command, TaskEvent) and command.status.final and booker is not None:
                booker.task_ended(command.task_id, command.status)  # its claims, its top-up
                self._submit_requests()
            elif isinstance(command, LoadLeft):
                log.warning(
                    "robot %s failed carrying %s at %s (task %s)",
                    command.robot,
                    command.load_id,
                    command.cell,
                    command.task_id,
                )
            elif isinstance(command, Rejected):
                log.info("refused %s: %s", command.source, command.reason)
        for command in commands:
            if isinstance(command, SendOrder):
                self.bus.send_order(
                    command.robot,
                    command.order_id,
                    command.order_update_id,
                    command.nodes,
                    command.edges,
                )
            elif isinstance(command, SendInstantActions):
                self.bus.send_instant_actions(command.robot, command.actions)

    def _submit_requests(self) -> None:
        """Submit what the booking called for: top-ups, putaways, picks a top-up released."""
        assert self.booker is not None
        for spec in self.booker.take_requests():
            try:
                self.core.submit(spec)
            except ManagerRefused as refused:
                log.warning("task %s the booking asked for refused: %s", spec.task_id, refused)
            self._execute(self.core._flush())

    def publish_snapshot(self) -> None:
        if self.bus.pub_endpoint is None:
            return
        self.bus.publish(SNAPSHOT_TOPIC, SNAPSHOT_KEY, self.core.snapshot())
