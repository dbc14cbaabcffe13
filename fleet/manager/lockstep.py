"""The decision core and in-process controllers stepped on one simulated clock.

No bus and no threads: every ``dt`` of simulated time the controllers advance,
each reports its state, the core runs a cycle, and its orders and instant
actions are handed to the controllers as the VDA 5050 messages the bus would
carry. Deterministic, so tests of the core's decisions and the fleet
benchmark can run thousands of cycles quickly; the live path
(`ManagerService` over ZeroMQ) is tested separately. Controllers are anything
with the `Controller` shape (`sim.controller.SimRobot` is one); `fleet` does
not import `sim`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from core.clock import Clock
from fleet.manager.core import FleetCore
from fleet.manager.events import (
    Command,
    ConfirmPicks,
    Rejected,
    RobotConnection,
    RobotStateReport,
    SendInstantActions,
    SendOrder,
    TaskEvent,
)
from fleet.protocol.header import HeaderSequence
from fleet.protocol.messages import (
    ConnectionState,
    Header,
    InstantActions,
    Order,
    State,
)
from wms.layout import Cell


class Controller(Protocol):
    cell: Cell

    def on_order(self, order: Order) -> Any: ...

    def on_instant_actions(self, message: InstantActions) -> None: ...

    def advance(self, now_s: float) -> None: ...

    def state(self, header: Header) -> State: ...


@dataclass
class LockstepLog:
    task_events: list[TaskEvent] = field(default_factory=list)
    confirmations: list[ConfirmPicks] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    cycle_ms: list[float] = field(default_factory=list)
    orders: int = 0


class Lockstep:
    def __init__(
        self,
        core: FleetCore,
        controllers: dict[str, Controller],
        *,
        dt: float = 0.25,
        timer: Clock = time.perf_counter,
        on_step: Callable[[float, dict[str, Cell]], None] | None = None,
    ) -> None:
        self.core = core
        self.controllers = controllers
        self.dt = dt
        self.now = 0.0
        self.timer = timer
        self.on_step = on_step
        self.log = LockstepLog()
        self.silent: set[str] = set()
        """Robots whose states and commands are dropped (communication lost)."""
        self._headers = {
            rid: HeaderSequence(*rid.split("/", 1), lambda: 0.0) for rid in controllers
        }
        for rid in controllers:
            self.deliver(self.core.handle(RobotConnection(rid, ConnectionState.ONLINE), 0.0))
            self.report(rid)

    def report(self, robot: str) -> list[Command]:
        if robot in self.silent:
            return []
        state = self.controllers[robot].state(self._headers[robot].next("state"))
        commands = self.core.handle(RobotStateReport(robot, state), self.now)
        self.deliver(commands)
        return commands

    def deliver(self, commands: list[Command]) -> None:
        for command in commands:
            if isinstance(command, SendOrder):
                self.log.orders += 1
                if command.robot in self.silent:
                    continue
                header = self._headers[command.robot].next("order")
                order = Order(
                    header,
                    command.order_id,
                    command.order_update_id,
                    command.nodes,
                    command.edges,
                )
                self.controllers[command.robot].on_order(order)
            elif isinstance(command, SendInstantActions):
                if command.robot in self.silent:
                    continue
                header = self._headers[command.robot].next("instantActions")
                self.controllers[command.robot].on_instant_actions(
                    InstantActions(header, command.actions)
                )
            elif isinstance(command, TaskEvent):
                self.log.task_events.append(command)
            elif isinstance(command, ConfirmPicks):
                self.log.confirmations.append(command)
            elif isinstance(command, Rejected):
                self.log.rejected.append(command)

    def step(self) -> None:
        self.now += self.dt
        for controller in self.controllers.values():
            controller.advance(self.now)
        if self.on_step is not None:
            self.on_step(self.now, {rid: c.cell for rid, c in self.controllers.items()})
        for rid in self.controllers:
            self.report(rid)
        started = self.timer()
        commands = self.core.cycle(self.now)
        self.log.cycle_ms.append((self.timer() - started) * 1000.0)
        self.deliver(commands)

    def run_until(self, done: Callable[[Lockstep], bool], max_s: float) -> bool:
        while self.now < max_s:
            if done(self):
                return True
            self.step()
        return done(self)
