"""The robot side of the bus: what any Python controller uses to talk to the fleet.

    keys = ClientKeys.from_folder(D, "acme/r1")
    client = RobotClient("tcp://fleet:5555", "acme", "r1", keys=keys)
    client.connect()                       # sends connection ONLINE
    client.send(State(client.header("state"), ...))
    message = client.receive(timeout_s=0.1)  # Order | InstantActions | BusError | None
    client.close()                         # sends connection OFFLINE

The socket is a DEALER with no routing id of its own: the server tells robots
apart by their messages' ``manufacturer/serialNumber`` (and under CURVE by their
key), and every connection - including this robot's next one after a restart -
gets a fresh routing id, so a dead connection the server still holds can never
park a new one. Lost connections are re-established by libzmq with exponential
back-off (``reconnect_ivl_ms`` doubling up to ``reconnect_ivl_max_ms``); a socket
monitor notices each new connection and the client announces itself ONLINE again,
so a restarted server re-registers the robot at once.

``ZMQ_IMMEDIATE`` is on: while there is no connection a message is dropped (and
counted in ``dropped``) instead of queued, so a server that comes back never
receives a pile of old states. ``ONLINE`` is the exception: it stays pending and
goes out first on the next send once connected.

A CURVE handshake the server refuses (key not registered yet) makes libzmq stop
retrying for good; the client then re-creates its socket every ``reauth_after_s``,
so registering the key and reloading the server lets the robot in without a
restart of the controller. Not thread-safe: one controller thread owns a client.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import zmq
from zmq.utils.monitor import parse_monitor_message

from core.clock import WallClock
from fleet.bus.keys import load_public, robot_pair
from fleet.bus.logsafe import printable
from fleet.protocol.codec import MAX_MESSAGE_BYTES, decode, encode
from fleet.protocol.errors import ProtocolError
from fleet.protocol.header import HeaderSequence
from fleet.protocol.messages import (
    DOWNSTREAM_TOPICS,
    TOPIC_OF,
    UPSTREAM_TOPICS,
    BusError,
    Connection,
    ConnectionState,
    Header,
    InstantActions,
    Message,
    Order,
    robot_id,
)

log = logging.getLogger("fleet.bus.robot")

Downstream = Order | InstantActions | BusError


@dataclass(frozen=True)
class ClientKeys:
    """The robot's CURVE keypair and the server's public key."""

    public: bytes
    secret: bytes
    server_public: bytes

    @classmethod
    def from_folder(cls, directory: str | Path, identity: str) -> ClientKeys:
        pair = robot_pair(directory, identity)
        return cls(pair.public, pair.secret, load_public(Path(directory) / "server.key"))


class RobotClient:
    def __init__(
        self,
        endpoint: str,
        manufacturer: str,
        serial_number: str,
        *,
        keys: ClientKeys | None = None,
        context: zmq.Context | None = None,
        wall_clock: WallClock = time.time,
        reconnect_ivl_ms: int = 100,
        reconnect_ivl_max_ms: int = 5000,
        monitor: bool = True,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        connect_timeout_s: float = 2.0,
        reauth_after_s: float = 2.0,
    ) -> None:
        self.endpoint = endpoint
        self.manufacturer = manufacturer
        self.serial_number = serial_number
        self.keys = keys
        self._owns_context = context is None
        self.context = context or zmq.Context()
        self.headers = HeaderSequence(manufacturer, serial_number, wall_clock)
        self.reconnect_ivl_ms = reconnect_ivl_ms
        self.reconnect_ivl_max_ms = reconnect_ivl_max_ms
        self.max_message_bytes = max_message_bytes
        self.connect_timeout_s = connect_timeout_s
        self.reauth_after_s = reauth_after_s
        self._use_monitor = monitor
        self._online_pending = False
        self._reopen_at: float | None = None
        self.socket: zmq.Socket | None = None
        self._monitor: zmq.Socket | None = None
        self.connections = 0
        """Transport connections made so far (a reconnect makes it > 1)."""
        self.handshakes = 0
        """Completed ZMTP handshakes (CURVE or plain) so far."""
        self.sockets_opened = 0
        """Sockets created: 1, plus one per re-creation after a refused handshake."""
        self.auth_failures = 0
        self.dropped = 0
        """Messages dropped because there was no connection to queue them on."""
        self.rejected: Counter[str] = Counter()

    @property
    def robot_id(self) -> str:
        return robot_id(self.manufacturer, self.serial_number)

    def header(self, topic: str) -> Header:
        return self.headers.next(topic)

    def connect(self) -> RobotClient:
        """Open the socket and announce ONLINE; waits up to ``connect_timeout_s`` for the
        handshake (with the monitor on) so the first messages are not dropped."""
        self._open()
        if self._use_monitor:
            self.wait_event(
                lambda c: c.handshakes > 0 or c.auth_failures > 0, self.connect_timeout_s
            )
        else:  # with ZMQ_IMMEDIATE the socket is writable once a connection is complete
            assert self.socket is not None
            self.socket.poll(int(self.connect_timeout_s * 1000), zmq.POLLOUT)
        self._flush_online()
        return self

    def _open(self) -> None:
        socket = self.context.socket(zmq.DEALER)
        socket.setsockopt(zmq.LINGER, 0)
        socket.setsockopt(zmq.IMMEDIATE, 1)
        socket.setsockopt(zmq.RECONNECT_IVL, self.reconnect_ivl_ms)
        socket.setsockopt(zmq.RECONNECT_IVL_MAX, self.reconnect_ivl_max_ms)
        socket.setsockopt(zmq.MAXMSGSIZE, self.max_message_bytes * 4)
        socket.setsockopt(zmq.SNDHWM, 10_000)
        if self.keys is not None:
            socket.curve_secretkey = self.keys.secret
            socket.curve_publickey = self.keys.public
            socket.curve_serverkey = self.keys.server_public
        if self._use_monitor:
            self._monitor = socket.get_monitor_socket(
                zmq.EVENT_CONNECTED
                | zmq.EVENT_DISCONNECTED
                | zmq.EVENT_HANDSHAKE_FAILED_AUTH
                | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
                | zmq.EVENT_HANDSHAKE_SUCCEEDED
            )
        socket.connect(self.endpoint)
        self.socket = socket
        self.sockets_opened += 1
        self._online_pending = True

    def _flush_online(self) -> bool:
        """Send the pending ONLINE announcement if there is a connection for it now."""
        if not self._online_pending:
            return True
        online = Connection(self.header("connection"), ConnectionState.ONLINE)
        if self._send_now(list(encode(online)), count_drop=False):
            self._online_pending = False
        return not self._online_pending

    def _close_socket(self, linger: int = 0) -> None:
        assert self.socket is not None
        if self._monitor is not None:
            self.socket.disable_monitor()
            self._monitor.close(linger=0)
            self._monitor = None
        self.socket.close(linger=linger)
        self.socket = None

    def _reopen(self) -> None:
        """A fresh socket after a refused handshake (libzmq does not retry those)."""
        self._reopen_at = None
        self._close_socket()
        log.info("%s retries the CURVE handshake with a new socket", self.robot_id)
        self._open()

    def send(self, message: Message) -> bool:
        """Send an upstream message (state, connection, factsheet, visualization)."""
        topic = TOPIC_OF[type(message)]
        if topic not in UPSTREAM_TOPICS:
            raise ValueError(f"a robot does not send {topic!r}")
        return self.send_frames(*encode(message))

    def send_frames(self, topic: bytes, body: bytes) -> bool:
        """Raw frames (tests use this to send what a faulty controller might).

        Never blocks: while there is no connection to queue on, the message is dropped
        and counted in ``dropped`` (a robot's next periodic state supersedes it anyway).
        """
        assert self.socket is not None, "connect() first"
        self._check_monitor()
        if not self._flush_online():
            self.dropped += 1
            return False
        return self._send_now([topic, body])

    def _send_now(self, frames: list[bytes], count_drop: bool = True) -> bool:
        assert self.socket is not None
        try:
            self.socket.send_multipart(frames, zmq.NOBLOCK)
        except zmq.Again:
            self.dropped += count_drop
            return False
        return True

    def receive(self, timeout_s: float = 0.0) -> Downstream | None:
        """The next valid downstream message within the timeout; invalid frames are dropped."""
        assert self.socket is not None, "connect() first"
        deadline = time.monotonic() + timeout_s
        while True:
            self._check_monitor()
            remaining = max(0.0, deadline - time.monotonic())
            if not self.socket.poll(int(remaining * 1000) if remaining else 0):
                if time.monotonic() >= deadline:
                    return None
                continue
            frames = self.socket.recv_multipart()
            message = self._decode(frames)
            if message is not None:
                return message

    def _decode(self, frames: list[bytes]) -> Downstream | None:
        if len(frames) != 2:
            self.rejected["framing"] += 1
            return None
        try:
            message = decode(frames[0], frames[1], self.max_message_bytes)
        except ProtocolError as error:
            self.rejected[error.reason] += 1
            log.warning("%s dropped a downstream frame: %s", self.robot_id, printable(str(error)))
            return None
        if TOPIC_OF[type(message)] not in DOWNSTREAM_TOPICS:
            self.rejected["unknown_topic"] += 1
            return None
        return message  # type: ignore[return-value]

    def _check_monitor(self) -> None:
        if self._reopen_at is not None and time.monotonic() >= self._reopen_at:
            self._reopen()
        if self._monitor is None:
            return
        while self._monitor.poll(0):
            event = parse_monitor_message(self._monitor.recv_multipart())["event"]
            if event == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
                self.auth_failures += 1
                self._reopen_at = time.monotonic() + self.reauth_after_s
            elif event == zmq.EVENT_CONNECTED:
                self.connections += 1
                if self.connections > 1:
                    log.info("%s reconnected to %s", self.robot_id, self.endpoint)
                    self._online_pending = True
            elif event == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                self.handshakes += 1
                self._flush_online()

    def wait_event(self, predicate: Callable[[RobotClient], bool], timeout_s: float) -> bool:
        """Poll the monitor until ``predicate(self)`` holds (e.g. a refused handshake)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._monitor is not None:
                self._monitor.poll(50)
            else:
                threading.Event().wait(0.01)
            self._check_monitor()
            if predicate(self):
                return True
        return False

    def close(self, clean: bool = True) -> None:
        """Say OFFLINE (when ``clean``) and close; a crash is ``clean=False``."""
        if self.socket is None:
            return
        if clean:
            self.send(Connection(self.header("connection"), ConnectionState.OFFLINE))
        self._close_socket(linger=500 if clean else 0)  # let the goodbye leave
        if self._owns_context:
            self.context.term()

    def __enter__(self) -> RobotClient:
        return self.connect()

    def __exit__(self, *exc: object) -> None:
        self.close()
