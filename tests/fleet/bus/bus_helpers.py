"""Live-bus test helpers: loopback endpoints, an event recorder, deadline polling."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import zmq

from fleet.bus.acks import Ack
from fleet.bus.config import BusConfig
from fleet.bus.robot_client import RobotClient
from fleet.bus.server import BusListener
from fleet.protocol import BatteryState, ConnectionState, Message, OrderProgress, State, timestamp
from fleet.protocol.orders import state_message

LOOPBACK = "tcp://127.0.0.1:0"
FAST = BusConfig(
    heartbeat_interval_s=0.1, missed_heartbeats=3, resend_after_s=0.15, max_resends=1000
)
"""Quick liveness and resends, for tests of those; the resend budget (150 s) outlasts any
stall of a loaded machine, so no command is given up on while a test waits for its ack."""
PATIENT = BusConfig(heartbeat_interval_s=60.0, resend_after_s=60.0)
"""No liveness expiry and no resend within a test: for exact first-try and ONLINE checks."""


class Recorder(BusListener):
    """What the server tells the fleet layer; `wait_for` blocks on a condition, not a sleep."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []
        self._cond = threading.Condition()

    def _add(self, kind: str, value: Any) -> None:
        with self._cond:
            self.events.append((kind, value))
            self._cond.notify_all()

    def on_message(self, robot: str, message: Message) -> None:
        self._add("message", (robot, message))

    def on_connection(self, robot: str, state: ConnectionState) -> None:
        self._add("connection", (robot, state))

    def on_ack(self, ack: Ack) -> None:
        self._add("ack", ack)

    def on_reject(self, peer: str, reason: str, detail: str) -> None:
        self._add("reject", (peer, reason, detail))

    def of(self, kind: str) -> list[Any]:
        with self._cond:
            return [v for k, v in self.events if k == kind]

    def wait_for(self, predicate: Callable[[Recorder], Any], timeout_s: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                result = predicate(self)
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out; events: {self.events[-10:]}")
                self._cond.wait(remaining)


def wait_until(predicate: Callable[[], Any], timeout_s: float = 30.0, step_s: float = 0.01) -> Any:
    """Poll a condition with a deadline (for state that has no event to wait on)."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        threading.Event().wait(step_s)


def make_state(client: RobotClient, progress: OrderProgress | None = None) -> State:
    return state_message(
        client.header("state"), progress or OrderProgress(), battery=BatteryState(80.0, False)
    )


def raw_dealer(context: zmq.Context, endpoint: str, routing_id: bytes | None = None) -> zmq.Socket:
    """A bare DEALER as a hostile or hand-written controller would open it."""
    socket = context.socket(zmq.DEALER)
    socket.setsockopt(zmq.LINGER, 0)
    if routing_id is not None:
        socket.setsockopt(zmq.ROUTING_ID, routing_id)
    socket.connect(endpoint)
    return socket


def wire_state(manufacturer: str, serial: str, header_id: int, **fields: Any) -> dict[str, Any]:
    """A valid, fresh state map for ``manufacturer/serial`` with ``fields`` replaced."""
    from fleet.protocol import to_wire
    from fleet.protocol.examples import state

    wire = to_wire(state())
    wire.update(
        manufacturer=manufacturer,
        serialNumber=serial,
        headerId=header_id,
        timestamp=timestamp(time.time()),
    )
    wire.update(fields)
    return wire
