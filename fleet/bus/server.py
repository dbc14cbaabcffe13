"""The fleet side of the bus: a ROUTER for robots, a PUB + snapshot ROUTER for viewers.

One thread owns every socket (ZeroMQ sockets are not thread-safe); other threads
talk to it through `send_order`, `send_instant_actions`, `publish` and `stop`,
which queue a command and wake the loop through a pipe, so a command goes out
within microseconds instead of on the next poll timeout.

Robots: ``DEALER`` with routing id ``manufacturer/serialNumber`` -> our ``ROUTER``
(``ROUTER_MANDATORY`` on, so a send to an absent robot fails loudly and is retried
later instead of vanishing). Every upstream frame is validated; a rejected frame
is counted per reason, logged at most once per robot per interval, answered with
an ``error`` message where the sender can be addressed, and changes nothing.

Viewers: ``SUB`` on our ``PUB`` (frames ``[topic, key, seq, body]``, ``seq`` an
8-byte big-endian counter) and a ``DEALER`` on the snapshot ``ROUTER`` that returns
the last value of every key before the updates it should apply (the ZeroMQ guide's
"Clone" pattern). Neither socket can change the server's state.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import logging
import os
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgpack
import zmq

from fleet.bus.acks import Ack, AckResult, AckTracker
from fleet.bus.config import BusConfig
from fleet.bus.keys import ROBOT_DOMAIN, VIEWER_DOMAIN, KeyringAuthenticator, server_pair
from fleet.bus.liveness import Liveness
from fleet.bus.rejects import RejectLog
from fleet.protocol.codec import decode, encode
from fleet.protocol.errors import ProtocolError
from fleet.protocol.header import HeaderSequence
from fleet.protocol.messages import (
    UPSTREAM_TOPICS,
    Action,
    BusError,
    Connection,
    ConnectionState,
    Edge,
    Factsheet,
    InstantActions,
    Message,
    Node,
    Order,
    State,
)
from wms.errors import InputError

log = logging.getLogger("fleet.bus")

SNAPSHOT_REQUEST = b"snapshot"
SNAPSHOT_END = b"snapshotEnd"
MAX_BATCH = 2000
"""Frames handled per wake-up before timers and commands get a turn."""
TRANSPORT_SLACK = 4
"""ZMQ_MAXMSGSIZE is this multiple of the message limit: frames between the two are
read, counted and answered; frames beyond it make libzmq drop the connection."""

Clock = Callable[[], float]


class BusListener:
    """What the fleet layer hears; called on the server thread, so keep handlers short."""

    def on_message(self, robot: str, message: Message) -> None:
        """An accepted upstream message (state, connection, factsheet, visualization)."""

    def on_connection(self, robot: str, state: ConnectionState) -> None:
        """ONLINE on first contact, OFFLINE on a clean goodbye, CONNECTIONBROKEN on silence."""

    def on_ack(self, ack: Ack) -> None:
        """An order / instant action acknowledged, rejected by the robot, or given up."""

    def on_reject(self, peer: str, reason: str, detail: str) -> None:
        """A frame that was refused (already counted and rate-limit logged)."""


@dataclass(frozen=True)
class RobotRecord:
    """The registry's view of one robot."""

    robot_id: str
    connection: ConnectionState
    last_state: State | None
    factsheet: Factsheet | None
    last_seen: float | None
    messages: int


@dataclass
class _Robot:
    robot_id: str
    connection: ConnectionState = ConnectionState.OFFLINE
    last_state: State | None = None
    factsheet: Factsheet | None = None
    messages: int = 0
    header_ids: dict[str, int] = dataclasses.field(default_factory=dict)
    headers: HeaderSequence | None = None


def _check_tcp_port(endpoint: str) -> None:
    """Refuse a TCP port outside 0..65535: libzmq would wrap ``:99999`` to another port."""
    if not endpoint.startswith("tcp://") or ":" not in endpoint[6:]:
        return
    port = endpoint.rsplit(":", 1)[1]
    if port != "*" and not (port.isdigit() and int(port) <= 65535):
        raise InputError(endpoint, f"port {port!r} is not 0..65535 or *")


def _bind(socket: zmq.Socket, endpoint: str) -> str:
    _check_tcp_port(endpoint)
    try:
        socket.bind(endpoint)
    except zmq.ZMQError as error:
        raise InputError(endpoint, f"cannot bind ({error})") from None
    return socket.getsockopt_string(zmq.LAST_ENDPOINT)


class BusServer:
    """Robot registry over ZeroMQ. `start()` runs it on a thread; `run()` in the caller's."""

    def __init__(
        self,
        bind: str,
        *,
        pub: str | None = None,
        snapshot: str | None = None,
        keys_dir: str | Path | None = None,
        insecure: bool = False,
        config: BusConfig | None = None,
        listener: BusListener | None = None,
        clock: Clock = time.monotonic,
        wall_clock: Clock = time.time,
        context: zmq.Context | None = None,
        max_batch: int = MAX_BATCH,
        status_interval_s: float | None = None,
    ) -> None:
        if keys_dir is None and not insecure:
            raise InputError("bus", "give a keys folder (CURVE) or choose insecure plain TCP")
        if keys_dir is not None and insecure:
            raise InputError("bus", "a keys folder and insecure mode exclude each other")
        if snapshot is not None and pub is None:
            raise InputError("bus", "a snapshot endpoint needs a PUB endpoint")
        self.config = config or BusConfig()
        self.listener = listener or BusListener()
        self.clock = clock
        self.wall_clock = wall_clock
        self.keys_dir = Path(keys_dir) if keys_dir is not None else None
        self._requested = (bind, pub, snapshot)
        self._owns_context = context is None
        self.context = context or zmq.Context()
        self.endpoint = ""
        self.pub_endpoint: str | None = None
        self.snapshot_endpoint: str | None = None
        self.liveness = Liveness(self.config.liveness_timeout_s)
        self.rejects = RejectLog(self.config.reject_log_interval_s)
        self.acks = AckTracker(self.config.resend_after_s, self.config.max_resends)
        self.stats: Counter[str] = Counter()
        self._robots: dict[str, _Robot] = {}
        self._lock = threading.Lock()
        self._commands: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)  # a full pipe already means "wake up"
        self._stopping = False
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._startup_error: BaseException | None = None
        self._seq = 0
        self._kv: dict[tuple[bytes, bytes], tuple[int, bytes]] = {}
        self._auth: KeyringAuthenticator | None = None
        self._curve = self.keys_dir is not None
        self._sockets: list[zmq.Socket] = []
        self.max_batch = max_batch
        self.status_interval_s = status_interval_s
        self._next_status = clock() + status_interval_s if status_interval_s else None

    # --- lifecycle ------------------------------------------------------------------------

    def start(self, timeout_s: float = 10.0) -> BusServer:
        """Run on a daemon thread; returns once the sockets are bound (endpoints are set)."""
        self._thread = threading.Thread(target=self.run, name="bus-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout_s):
            raise RuntimeError("bus server did not start")
        if self._startup_error is not None:
            raise self._startup_error
        return self

    def run(self) -> None:
        """Bind, serve until `stop()`, then close every socket."""
        try:
            self._open()
        except BaseException as error:
            self._startup_error = error
            self._close()
            self._ready.set()
            raise
        self._ready.set()
        try:
            self._loop()
        finally:
            self._close()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stopping = True
        self._wake()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)

    def __enter__(self) -> BusServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _open(self) -> None:
        bind, pub, snapshot = self._requested
        keys = None
        if self.keys_dir is not None:
            keys = server_pair(self.keys_dir)
            self._auth = KeyringAuthenticator(self.context, self.keys_dir)
            self._auth.start()
        self.router = self._socket(zmq.ROUTER, keys, ROBOT_DOMAIN)
        self.router.setsockopt(zmq.ROUTER_MANDATORY, 1)
        # A restarted robot must get its identity back at once, even while the server still
        # holds its dead connection (without handover libzmq parks the new one forever).
        # Under CURVE every frame's key must match the identity, so a peer taking over an
        # identity that is not its own can neither speak for it nor acknowledge its orders.
        self.router.setsockopt(zmq.ROUTER_HANDOVER, 1)
        self.router.setsockopt(zmq.MAXMSGSIZE, self.config.max_message_bytes * TRANSPORT_SLACK)
        self.router.setsockopt(zmq.RCVHWM, 100_000)
        self.router.setsockopt(zmq.SNDHWM, 100_000)
        ivl = int(self.config.heartbeat_interval_s * 1000)
        self.router.setsockopt(zmq.HEARTBEAT_IVL, ivl)
        self.router.setsockopt(zmq.HEARTBEAT_TIMEOUT, ivl * self.config.missed_heartbeats)
        self.endpoint = _bind(self.router, bind)
        self.pub = self.snap = None
        if pub is not None:
            self.pub = self._socket(zmq.PUB, keys, VIEWER_DOMAIN)
            self.pub.setsockopt(zmq.SNDHWM, 100_000)
            self.pub_endpoint = _bind(self.pub, pub)
            self.snap = self._socket(zmq.ROUTER, keys, VIEWER_DOMAIN)
            self.snap.setsockopt(zmq.MAXMSGSIZE, 1024)
            self.snapshot_endpoint = _bind(self.snap, snapshot or _snapshot_default(pub))
        log.info(
            "bus serving robots on %s%s%s",
            self.endpoint,
            f", PUB {self.pub_endpoint}, snapshot {self.snapshot_endpoint}" if pub else "",
            " (CURVE)" if self._curve else " (INSECURE plain TCP)",
        )

    def _socket(self, kind: int, keys: Any, domain: str) -> zmq.Socket:
        socket = self.context.socket(kind)
        self._sockets.append(socket)
        socket.setsockopt(zmq.LINGER, 0)
        if keys is not None:
            socket.setsockopt(zmq.ZAP_DOMAIN, domain.encode())
            socket.curve_secretkey = keys.secret
            socket.curve_publickey = keys.public
            socket.curve_server = True
        return socket

    def _close(self) -> None:
        for socket in self._sockets:
            socket.close(linger=0)
        self._sockets.clear()
        if self._auth is not None:
            self._auth.stop()
            self._auth = None
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        if self._owns_context:
            self.context.term()

    def reload_keys(self) -> None:
        """Re-read the authorised folders (a robot was registered or removed)."""
        self._call(("reload",))

    # --- the loop -------------------------------------------------------------------------

    def _loop(self) -> None:
        poller = zmq.Poller()
        poller.register(self.router, zmq.POLLIN)
        poller.register(self._wake_r, zmq.POLLIN)
        if self.snap is not None:
            poller.register(self.snap, zmq.POLLIN)
        while not self._stopping:
            events = dict(poller.poll(self._poll_timeout_ms()))
            if self.router in events:
                self._drain_router()
            if self.snap is not None and self.snap in events:
                self._serve_snapshots()
            if self._wake_r in events:
                with contextlib.suppress(BlockingIOError, OSError):
                    os.read(self._wake_r, 4096)
            self._run_commands()
            self.tick(self.clock())

    def _poll_timeout_ms(self) -> int:
        now = self.clock()
        deadlines = [
            d for d in (self.liveness.next_deadline(), self.acks.next_due()) if d is not None
        ]
        if not deadlines:
            return 250
        return max(0, min(250, int((min(deadlines) - now) * 1000) + 1))

    def tick(self, now: float) -> None:
        """Timers: resend unacknowledged commands, break silent robots' connections."""
        resend, given_up = self.acks.due(now)
        for pending in resend:
            self.stats["resent"] += 1
            self._send(pending.robot, pending.topic.encode(), pending.body)
        for ack in given_up:
            self.stats["unacknowledged"] += 1
            self.listener.on_ack(ack)
        for robot_id in self.liveness.expired(now):
            self._set_connection(robot_id, ConnectionState.CONNECTIONBROKEN)
        if self._next_status is not None and now >= self._next_status:
            self._next_status = now + (self.status_interval_s or 0.0)
            online = sum(r.connection is ConnectionState.ONLINE for r in self._robots.values())
            log.info(
                "status: %d robots online of %d known; %s",
                online,
                len(self._robots),
                ", ".join(f"{k} {v}" for k, v in sorted(self.stats.items())) or "no traffic",
            )

    def _drain_router(self) -> None:
        copy = not self._curve
        for _ in range(self.max_batch):
            try:
                frames = self.router.recv_multipart(zmq.NOBLOCK, copy=copy)
            except zmq.Again:
                return
            user_id = None
            if not copy:
                user_id = frames[0].get("User-Id") if frames else None
                frames = [f.bytes for f in frames]
            self._ingest(frames, user_id, self.clock())

    # --- upstream -------------------------------------------------------------------------

    def _ingest(self, frames: list[bytes], user_id: str | None, now: float) -> None:
        self.stats["received"] += 1
        identity = frames[0]
        try:
            robot_id = identity.decode("utf-8")
        except UnicodeDecodeError:
            robot_id = repr(identity[:40])
        if len(frames) != 3:
            self._reject(
                identity, robot_id, "framing", f"{len(frames) - 1} frames, expected 2", now
            )
            return
        if self._curve and user_id != robot_id:
            self._reject(
                identity, robot_id, "identity", f"key belongs to {user_id!r}, not {robot_id!r}", now
            )
            return
        _, topic, body = frames
        try:
            message = decode(topic, body, self.config.max_message_bytes)
        except ProtocolError as error:
            self._reject(identity, robot_id, error.reason, str(error), now, topic)
            return
        header = message.header
        name = topic.decode("ascii")
        if name not in UPSTREAM_TOPICS:
            self._reject(
                identity,
                robot_id,
                "unknown_topic",
                f"robots may not send {name!r}",
                now,
                topic,
                header.header_id,
            )
            return
        if header.robot_id != robot_id:
            self._reject(
                identity,
                robot_id,
                "identity",
                f"message claims {header.robot_id!r} on {robot_id!r}'s connection",
                now,
                topic,
                header.header_id,
            )
            return
        if (
            isinstance(message, Connection)
            and message.connection_state is ConnectionState.CONNECTIONBROKEN
        ):
            self._reject(
                identity,
                robot_id,
                "validation",
                "connection.connectionState: CONNECTIONBROKEN is declared by the fleet, not sent",
                now,
                topic,
                header.header_id,
            )
            return
        robot = self._robot(robot_id)
        online = isinstance(message, Connection) and (
            message.connection_state is ConnectionState.ONLINE
        )
        if online:
            robot.header_ids.clear()  # a new session numbers its headers from the start again
        last = robot.header_ids.get(name)
        if last is not None and header.header_id <= last:
            self._reject(
                identity,
                robot_id,
                "stale_header",
                f"{name} headerId {header.header_id} is not above {last}",
                now,
                topic,
                header.header_id,
            )
            return
        self._accept(robot, name, topic, body, message, now)

    def _accept(
        self, robot: _Robot, name: str, topic: bytes, body: bytes, message: Message, now: float
    ) -> None:
        self.stats["accepted"] += 1
        with self._lock:
            robot.header_ids[name] = message.header.header_id
            robot.messages += 1
            if isinstance(message, State):
                robot.last_state = message
            elif isinstance(message, Factsheet):
                robot.factsheet = message
        self._publish(topic, robot.robot_id.encode(), body)
        if (
            isinstance(message, Connection)
            and message.connection_state is not ConnectionState.ONLINE
        ):
            self.liveness.forget(robot.robot_id)
            self._set_connection(robot.robot_id, ConnectionState.OFFLINE)
        else:
            self.liveness.heard(robot.robot_id, now)
            if robot.connection is not ConnectionState.ONLINE:
                self._set_connection(robot.robot_id, ConnectionState.ONLINE)
        self.listener.on_message(robot.robot_id, message)
        if isinstance(message, State):
            for ack in self.acks.on_state(robot.robot_id, message, now):
                self.stats[f"ack_{ack.result.value}"] += 1
                self.listener.on_ack(ack)

    def _robot(self, robot_id: str) -> _Robot:
        """The registry entry, created under the lock (`robots()` iterates from other threads)."""
        robot = self._robots.get(robot_id)
        if robot is None:
            with self._lock:
                robot = self._robots[robot_id] = _Robot(robot_id)
        return robot

    def _set_connection(self, robot_id: str, state: ConnectionState) -> None:
        robot = self._robot(robot_id)
        if robot.connection is state:
            return
        with self._lock:
            robot.connection = state
        log.info("robot %s is %s", robot_id, state.value)
        if state is ConnectionState.CONNECTIONBROKEN:
            # The fleet speaks for the silent robot, as an MQTT broker's last will does.
            message = Connection(self._headers(robot).next("connection"), state)
            _, body = encode(message)
            self._publish(b"connection", robot_id.encode(), body)
        self.listener.on_connection(robot_id, state)

    def _reject(
        self,
        identity: bytes,
        robot_id: str,
        reason: str,
        detail: str,
        now: float,
        topic: bytes | None = None,
        header_id: int | None = None,
    ) -> None:
        self.stats["rejected"] += 1
        self.rejects.reject(robot_id, reason, detail, now)
        self.listener.on_reject(robot_id, reason, detail)
        manufacturer, _, serial = robot_id.partition("/")
        if not manufacturer or not serial or "/" in serial:
            return  # nobody to address an answer to
        robot = self._robots.get(robot_id)
        headers = (
            self._headers(robot)
            if robot is not None
            else HeaderSequence(manufacturer, serial, self.wall_clock)
        )
        answer = BusError(
            headers.next("error"),
            reason,
            detail[:500],
            topic.decode("ascii", "replace")[:40] if topic is not None else None,
            header_id,
        )
        frame_topic, body = encode(answer)
        self._send_to(identity, frame_topic, body)

    # --- downstream -----------------------------------------------------------------------

    def _headers(self, robot: _Robot) -> HeaderSequence:
        if robot.headers is None:
            manufacturer, _, serial = robot.robot_id.partition("/")
            robot.headers = HeaderSequence(manufacturer, serial, self.wall_clock)
        return robot.headers

    def _send(self, robot_id: str, topic: bytes, body: bytes) -> bool:
        return self._send_to(robot_id.encode(), topic, body)

    def _send_to(self, identity: bytes, topic: bytes, body: bytes) -> bool:
        try:
            self.router.send_multipart([identity, topic, body], zmq.NOBLOCK)
        except zmq.Again:
            self.stats["send_queue_full"] += 1
            return False
        except zmq.ZMQError as error:
            if error.errno != errno.EHOSTUNREACH:
                raise
            self.stats["unroutable"] += 1
            return False
        self.stats["sent"] += 1
        return True

    def _command(self, robot_id: str, build: Callable[[Any], Order | InstantActions]) -> None:
        robot = self._robot(robot_id)
        message = build(self._headers(robot).next(_topic_of(build)))
        topic, body = encode(message)
        self.acks.track(robot_id, message, body, self.clock())
        self._send(robot_id, topic, body)

    # --- viewers --------------------------------------------------------------------------

    def _publish(self, topic: bytes, key: bytes, body: bytes) -> None:
        if self.pub is None:
            return
        self._seq += 1
        self._kv[(topic, key)] = (self._seq, body)
        self.pub.send_multipart([topic, key, self._seq.to_bytes(8, "big"), body])

    def _serve_snapshots(self) -> None:
        assert self.snap is not None
        for _ in range(100):
            try:
                frames = self.snap.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            if len(frames) != 2 or frames[1] != SNAPSHOT_REQUEST:
                self.stats["snapshot_bad_request"] += 1
                continue
            identity = frames[0]
            for (topic, key), (seq, body) in sorted(self._kv.items(), key=lambda kv: kv[1][0]):
                self.snap.send_multipart([identity, topic, key, seq.to_bytes(8, "big"), body])
            self.snap.send_multipart(
                [identity, SNAPSHOT_END, b"", self._seq.to_bytes(8, "big"), b""]
            )

    # --- thread-safe API ------------------------------------------------------------------

    def _call(self, command: tuple[Any, ...]) -> None:
        self._commands.put(command)
        self._wake()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"!")

    def _run_commands(self) -> None:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            kind, *args = command
            if kind == "order":
                robot_id, order_id, update_id, nodes, edges = args
                self._command(
                    robot_id,
                    _OrderBuilder(order_id, update_id, tuple(nodes), tuple(edges)),
                )
            elif kind == "instant":
                robot_id, actions = args
                self._command(robot_id, _InstantBuilder(tuple(actions)))
            elif kind == "publish":
                topic, key, body = args
                self._publish(topic, key, body)
            elif kind == "reload" and self._auth is not None:
                self._auth.reload()

    def send_order(
        self,
        robot_id: str,
        order_id: str,
        order_update_id: int,
        nodes: tuple[Node, ...] | list[Node],
        edges: tuple[Edge, ...] | list[Edge],
    ) -> None:
        """Queue an order; resent with the same ids until a state from the robot acknowledges it."""
        _check_robot_id(robot_id)
        self._call(("order", robot_id, order_id, order_update_id, nodes, edges))

    def send_instant_actions(
        self, robot_id: str, actions: tuple[Action, ...] | list[Action]
    ) -> None:
        """Queue instant actions; resent until every actionId shows in the robot's state."""
        _check_robot_id(robot_id)
        self._call(("instant", robot_id, actions))

    def publish(self, topic: str, key: str, message: Message | dict[str, Any]) -> None:
        """Put a fleet-level message (e.g. a ``fleet`` snapshot map) on the PUB stream."""
        if isinstance(message, dict):
            body = msgpack.packb(message, use_bin_type=True)
        else:
            _, body = encode(message)
        self._call(("publish", topic.encode("ascii"), key.encode(), body))

    def robots(self) -> dict[str, RobotRecord]:
        """A consistent copy of the registry."""
        with self._lock:
            return {
                r.robot_id: RobotRecord(
                    r.robot_id,
                    r.connection,
                    r.last_state,
                    r.factsheet,
                    self.liveness.last_seen(r.robot_id),
                    r.messages,
                )
                for r in self._robots.values()
                if r.messages
            }

    def counters(self) -> dict[str, Any]:
        """Message counters; safe from any thread (dict.copy is one step under the GIL)."""
        return {
            **dict.copy(self.stats),
            "rejected_by_reason": dict.copy(self.rejects.counts),
            "pending_commands": self.acks.pending(),
        }


@dataclass(frozen=True)
class _OrderBuilder:
    order_id: str
    update_id: int
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]

    def __call__(self, header: Any) -> Order:
        return Order(header, self.order_id, self.update_id, self.nodes, self.edges)


@dataclass(frozen=True)
class _InstantBuilder:
    actions: tuple[Action, ...]

    def __call__(self, header: Any) -> InstantActions:
        return InstantActions(header, self.actions)


def _check_robot_id(robot_id: str) -> None:
    manufacturer, _, serial = robot_id.partition("/")
    if not manufacturer or not serial or "/" in serial:
        raise ValueError(f"robot ids are manufacturer/serialNumber, got {robot_id!r}")


def _topic_of(build: Any) -> str:
    return "order" if isinstance(build, _OrderBuilder) else "instantActions"


def _snapshot_default(endpoint: str) -> str:
    """The snapshot socket's default: the PUB's host and the next port (any port for 0 / *)."""
    if endpoint.startswith("tcp://"):
        host, _, port = endpoint[len("tcp://") :].rpartition(":")
        if not port.isdigit() or int(port) == 0:
            return f"tcp://{host}:0"
        return f"tcp://{host}:{int(port) + 1}"
    if endpoint.startswith("ipc://"):
        return endpoint + ".snapshot"
    return endpoint + "-snapshot"


__all__ = ["AckResult", "BusListener", "BusServer", "RobotRecord"]
