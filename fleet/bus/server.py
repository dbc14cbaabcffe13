"""The fleet side of the bus: a ROUTER for robots, a PUB + snapshot ROUTER for viewers.

One thread owns every socket (ZeroMQ sockets are not thread-safe); other threads
talk to it through `send_order`, `send_instant_actions`, `publish`, `reload_keys`
and `stop`, which queue a typed command (`fleet.bus.commands`) and wake the loop
through a pipe, so a command goes out within microseconds instead of on the next
poll timeout.

Robots: a ``DEALER`` per robot -> our ``ROUTER`` (``ROUTER_MANDATORY`` on, so a
send to an absent robot fails loudly and is retried later instead of vanishing).
A robot is known by its messages' ``manufacturer/serialNumber`` (and under CURVE by
its key), not by the routing id: each connection gets its own routing id, and
the registry remembers which connection holds which robot. Whether a frame is
accepted is decided by the pure rules of `fleet.bus.admission`; a rejected frame
is counted per reason, logged at most once per peer per interval, answered with
an ``error`` message within a per-connection budget, and changes nothing. No
exception raised while handling one frame ends the loop: it is counted as
``internal`` and logged (rate-limited).

Viewers: ``SUB`` on our ``PUB`` (frames ``[topic, key, seq, body]``, ``seq`` an
8-byte big-endian counter) and a ``DEALER`` on the snapshot ``ROUTER`` that returns
the last value of every key before the updates it should apply (the ZeroMQ guide's
"Clone" pattern, `fleet.bus.clone`). Neither socket can change the server's state.
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

from core.clock import Clock, WallClock
from fleet.bus import admission
from fleet.bus.acks import Ack, AckResult, AckTracker
from fleet.bus.admission import Accept, Limits, Oversized, Peer, Reject
from fleet.bus.clone import CloneStore
from fleet.bus.commands import (
    Barrier,
    Command,
    Publish,
    ReloadKeys,
    SendInstantActions,
    SendOrder,
    check_robot_id,
)
from fleet.bus.config import BusConfig
from fleet.bus.keys import ROBOT_DOMAIN, VIEWER_DOMAIN, KeyringAuthenticator, server_pair
from fleet.bus.liveness import Liveness
from fleet.bus.logsafe import printable
from fleet.bus.rejects import AnswerBudget, RejectLog
from fleet.protocol.codec import encode
from fleet.protocol.header import HeaderSequence
from fleet.protocol.messages import (
    Action,
    BusError,
    Connection,
    ConnectionState,
    Edge,
    Factsheet,
    Header,
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
MAX_FRAMES = 3
"""Frames of a valid robot message on the ROUTER (routing id, topic, body). Frames
beyond ``MAX_FRAMES + 1`` of a message are read and dropped at once, never kept."""
RECEIVE_HWM = 20
"""Messages libzmq queues per robot connection before it stops reading that socket.
A robot sends a few per second and the loop drains thousands, so this only bites a
flooding peer, and bounds what one connection can park in memory (see docs)."""
SEND_HWM = 1000
"""Messages queued towards one robot (orders, resends, answers) before sends fail."""
PROBES_PER_S = 2
"""Session probes (see `BusServer._holder_gone`) a connected robot may receive per second."""
SNAPSHOTS_PER_S = 1.0
SNAPSHOT_BURST = 5
TCP_KEEPALIVE_IDLE_S = 10
"""A connection idle this long is probed by TCP keepalive; a dead peer (a robot that
lost power) is closed after three unanswered probes 2 s apart."""


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
    """One robot's session; `admission.RobotView` is the part admission reads."""

    robot_id: str
    connection: ConnectionState = ConnectionState.OFFLINE
    last_state: State | None = None
    factsheet: Factsheet | None = None
    messages: int = 0
    header_ids: dict[str, int] = dataclasses.field(default_factory=dict)
    headers: HeaderSequence | None = None
    peer: bytes | None = None
    """Routing id of the connection that holds the robot's session."""
    user_id: str | None = None
    """CURVE: the public key (Z85) that session authenticated with."""
    last_stamp: float | None = None
    """Header timestamp of the last state accepted in this session."""


def _check_tcp_port(endpoint: str) -> None:
    """Refuse a TCP port outside 0..65535: libzmq would wrap ``:99999`` to another port."""
    if not endpoint.startswith("tcp://") or ":" not in endpoint[6:]:
        return
    port = endpoint.rsplit(":", 1)[1]
    if port != "*" and not (port.isdigit() and int(port) <= 65535):
        raise InputError(endpoint, f"port {port!r} is not 0..65535 or *")


class EndpointInUse(InputError):
    """The address is bound by another socket (``EADDRINUSE``): the one bind failure that
    can go away by itself, so a caller that must keep its address may wait and retry."""


def bind_endpoint(socket: zmq.Socket, endpoint: str) -> str:
    """Bind ``endpoint`` and return the address bound (``LAST_ENDPOINT``: port 0 or ``*``
    resolved to the port the kernel chose, so the binder reports it, nobody guesses it)."""
    _check_tcp_port(endpoint)
    try:
        socket.bind(endpoint)
    except zmq.ZMQError as error:
        kind = EndpointInUse if error.errno == errno.EADDRINUSE else InputError
        raise kind(endpoint, f"cannot bind ({error})") from None
    return socket.getsockopt_string(zmq.LAST_ENDPOINT)


def _peer_name(identity: bytes) -> str:
    """A routing id as text for logs and counters (libzmq's own ids are 5 binary bytes)."""
    if identity[:1] == b"\x00":
        return "#" + identity.hex()
    return identity.decode("utf-8", "backslashreplace")


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
        wall_clock: WallClock = time.time,
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
        self.answers = AnswerBudget(self.config.error_answers_per_s, self.config.error_answer_burst)
        self.snapshot_budget = AnswerBudget(SNAPSHOTS_PER_S, SNAPSHOT_BURST)
        self.probes = AnswerBudget(PROBES_PER_S, PROBES_PER_S)
        self.acks = AckTracker(self.config.resend_after_s, self.config.max_resends)
        self.limits = Limits(self.config.max_message_bytes, self.config.max_state_age_s)
        self.stats: Counter[str] = Counter()
        self.store: CloneStore[tuple[bytes, bytes], bytes] = CloneStore()
        self._robots: dict[str, _Robot] = {}
        self._peers: dict[bytes, str] = {}
        """Connection routing id -> the robot it holds (the inverse of `_Robot.peer`)."""
        self._lock = threading.Lock()
        self._commands: queue.SimpleQueue[Command] = queue.SimpleQueue()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)  # a full pipe already means "wake up"
        self._stopping = False
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._runner: threading.Thread | None = None  # the thread inside `run`
        self._startup_error: BaseException | None = None
        self._auth: KeyringAuthenticator | None = None
        self._curve = self.keys_dir is not None
        self._sockets: list[zmq.Socket] = []
        self._pub: zmq.Socket | None = None
        self.snap: zmq.Socket | None = None
        self.max_batch = max_batch
        self.status_interval_s = status_interval_s
        self._next_status = clock() + status_interval_s if status_interval_s else None

    # --- lifecycle ------------------------------------------------------------------------

    def start(self, timeout_s: float = 10.0) -> BusServer:
        """Run on a daemon thread; returns once the sockets are bound (endpoints are set)."""
        self._thread = threading.Thread(target=self._run_thread, name="bus-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout_s):
            raise RuntimeError("bus server did not start")
        if self._startup_error is not None:
            raise self._startup_error
        return self

    def _run_thread(self) -> None:
        """`run` on `start`'s thread: a bind failure is raised to `start`'s caller (once,
        as one error), not printed again as the thread's traceback."""
        try:
            self.run()
        except BaseException:
            if self._startup_error is None:
                raise  # a failure while serving: the thread's traceback is its only report

    def run(self) -> None:
        """Bind, serve until `stop()`, then close every socket."""
        self._runner = threading.current_thread()
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

    @property
    def pub(self) -> zmq.Socket | None:
        return self._pub

    def _open(self) -> None:
        bind, pub, snapshot = self._requested
        keys = None
        if self.keys_dir is not None:
            keys = server_pair(self.keys_dir)
            self._auth = KeyringAuthenticator(self.context, self.keys_dir)
            self._auth.start()
        self.router = self._socket(zmq.ROUTER, keys, ROBOT_DOMAIN)
        self.router.setsockopt(zmq.ROUTER_MANDATORY, 1)
        # No ROUTER_HANDOVER: a peer presenting a routing id already in use is parked by
        # libzmq and can neither receive the holder's commands nor push it off (handover
        # let any peer do both, and reached libzmq#4364's abort). Robots are matched to
        # connections by their messages instead (`admission`); no ZMTP heartbeats either
        # (a heartbeat timeout on a back-pressured connection is another path to libzmq
        # asserts): liveness is the application's, and TCP keepalive reaps dead sockets.
        self.router.setsockopt(zmq.MAXMSGSIZE, self.config.max_frame_bytes)
        self.router.setsockopt(zmq.RCVHWM, RECEIVE_HWM)
        self.router.setsockopt(zmq.SNDHWM, SEND_HWM)
        self.router.setsockopt(zmq.TCP_KEEPALIVE, 1)
        self.router.setsockopt(zmq.TCP_KEEPALIVE_IDLE, TCP_KEEPALIVE_IDLE_S)
        self.router.setsockopt(zmq.TCP_KEEPALIVE_INTVL, 2)
        self.router.setsockopt(zmq.TCP_KEEPALIVE_CNT, 3)
        self.endpoint = bind_endpoint(self.router, bind)
        if pub is not None:
            self._pub = self._socket(zmq.PUB, keys, VIEWER_DOMAIN)
            self._pub.setsockopt(zmq.SNDHWM, 100_000)
            self.pub_endpoint = bind_endpoint(self._pub, pub)
            self.snap = self._socket(zmq.ROUTER, keys, VIEWER_DOMAIN)
            self.snap.setsockopt(zmq.MAXMSGSIZE, 1024)
            self.snap.setsockopt(zmq.RCVHWM, RECEIVE_HWM)
            self.snapshot_endpoint = bind_endpoint(self.snap, snapshot or snapshot_default(pub))
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

    def settle(self, timeout_s: float = 10.0) -> bool:
        """Wait until every command queued before this call has been handled (sent), so
        `counters` read next count them all; False when not serving or at the deadline."""
        command = Barrier()
        self._call(command)
        if self._runner is None or threading.current_thread() is self._runner:
            return False
        return command.done.wait(timeout_s)

    def reload_keys(self, timeout_s: float = 10.0) -> bool:
        """Re-read the authorised folders; a robot whose key was removed loses its session.

        Returns once the new keys are in effect (True), or False when the server
        thread did not get to it within ``timeout_s`` (it still will).
        """
        command = ReloadKeys()
        self._call(command)
        if self._runner is None or threading.current_thread() is self._runner:
            return False  # not serving yet, or called on the server thread (a signal handler)
        return command.done.wait(timeout_s)

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
                self._guarded("snapshot", self._serve_snapshots)
            if self._wake_r in events:
                with contextlib.suppress(BlockingIOError, OSError):
                    os.read(self._wake_r, 4096)
            self._guarded("commands", self._run_commands)
            self._guarded("timers", lambda: self.tick(self.clock()))

    def _guarded(self, peer: str, step: Callable[[], None]) -> None:
        """Run one step of the loop; an exception is counted and logged, never fatal."""
        try:
            step()
        except Exception as error:  # one bad frame or handler must not stop the bus
            self._internal(peer, error)

    def _internal(self, peer: str, error: Exception) -> None:
        self.stats["rejected"] += 1
        detail = f"{type(error).__name__}: {error}"
        if self.rejects.reject(peer, admission.INTERNAL, detail, self.clock()):
            log.error("internal error handling %s", printable(peer), exc_info=error)

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
            self._send_robot(pending.robot, pending.topic.encode(), pending.body)
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
        for _ in range(self.max_batch):
            try:
                frames = self._receive()
            except zmq.Again:
                return
            identity, kept, count, user_id = frames
            try:
                self._ingest(identity, kept, count, user_id, self.clock())
            except Exception as error:  # one frame must never end the loop
                self._internal(_peer_name(identity), error)

    def _receive(self) -> tuple[bytes, list[Any], int, str | None]:
        """One message from the ROUTER: routing id, its first frames, the frame count, User-Id.

        Frames are received without copying; only the first ``MAX_FRAMES`` are turned
        into bytes, and a body above the message limit is measured, never copied.
        """
        first = self.router.recv(zmq.NOBLOCK, copy=False)
        user_id = first.get("User-Id") if self._curve else None
        identity = first.bytes
        kept: list[bytes] = []
        count = 0
        more = first.more
        while more:
            frame = self.router.recv(copy=False)
            more = frame.more
            count += 1
            if count < MAX_FRAMES:
                size = len(frame)
                kept.append(
                    frame.bytes if size <= self.config.max_message_bytes else Oversized(size)
                )
        return identity, kept, count, user_id

    # --- upstream -------------------------------------------------------------------------

    def _ingest(
        self, identity: bytes, frames: list[Any], count: int, user_id: str | None, now: float
    ) -> None:
        self.stats["received"] += 1
        peer = Peer(
            identity,
            self._curve,
            self._auth.identity_of(user_id) if self._auth is not None else None,
            self._peers.get(identity),
        )
        if count != len(frames):
            verdict: Accept | Reject = Reject(
                admission.FRAMING, f"{count} frames, expected {MAX_FRAMES - 1}"
            )
        else:
            verdict = admission.admit(frames, peer, self._robots, self.limits, self.wall_clock())
        if (
            isinstance(verdict, Reject)
            and verdict.reason == admission.SESSION
            and verdict.claimed is not None
            and self._holder_gone(verdict.claimed, now)
        ):
            verdict = admission.admit(frames, peer, self._robots, self.limits, self.wall_clock())
        if isinstance(verdict, Reject):
            self._reject(identity, peer, verdict, now)
            return
        self._accept(identity, user_id, verdict, frames[1], now)

    def _holder_gone(self, robot_id: str, now: float) -> bool:
        """Whether the connection holding ``robot_id`` is closed; if so its session ends.

        libzmq does not report a peer's disconnect on a ROUTER, but with
        ROUTER_MANDATORY a send to a closed connection fails at once. The probe is an
        ``error`` telling the holder that another connection claims its identity (at
        most ``PROBES_PER_S`` per robot); a holder that is still connected keeps the
        robot, one whose TCP connection died silently keeps it until liveness expires.
        """
        robot = self._robots[robot_id]
        assert robot.peer is not None
        if not self.probes.allow(robot.peer, now):
            return False
        notice = BusError(
            self._headers(robot).next("error"),
            admission.SESSION,
            "another connection claims this robot's identity; this connection keeps it",
        )
        try:
            self.router.send_multipart([robot.peer, *encode(notice)], zmq.NOBLOCK)
        except zmq.Again:
            return False
        except zmq.ZMQError as error:
            if error.errno != errno.EHOSTUNREACH:
                raise
            with self._lock:
                self._peers.pop(robot.peer, None)
                robot.peer = None
            self.stats["sessions_closed"] += 1
            return True
        self.stats["session_probes"] += 1
        return False

    def _accept(
        self, identity: bytes, user_id: str | None, verdict: Accept, body: bytes, now: float
    ) -> None:
        self.stats["accepted"] += 1
        robot = self._robot(verdict.robot_id)
        message = verdict.message
        with self._lock:
            if verdict.new_session:
                self._take_session(robot, identity, user_id)
            if isinstance(message, Connection) and (
                message.connection_state is ConnectionState.ONLINE
            ):
                robot.header_ids.clear()  # a new session numbers its headers from the start
            robot.header_ids[verdict.topic] = message.header.header_id
            robot.messages += 1
            if isinstance(message, State):
                robot.last_state = message
                robot.last_stamp = verdict.stamp
            elif isinstance(message, Factsheet):
                robot.factsheet = message
        self._publish(verdict.topic.encode(), robot.robot_id.encode(), body)
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

    def _take_session(self, robot: _Robot, identity: bytes, user_id: str | None) -> None:
        """``identity`` now holds the robot (caller holds the lock); the old session ends."""
        if robot.peer is not None:
            self._peers.pop(robot.peer, None)
            self.stats["sessions_taken_over"] += 1
            log.info("robot %s continues on a new connection", printable(robot.robot_id))
        robot.peer = identity
        robot.user_id = user_id
        robot.header_ids.clear()
        robot.last_stamp = None
        self._peers[identity] = robot.robot_id

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
        log.info("robot %s is %s", printable(robot_id), state.value)
        if state is ConnectionState.CONNECTIONBROKEN:
            # The fleet speaks for the silent robot, as an MQTT broker's last will does.
            message = Connection(self._headers(robot).next("connection"), state)
            _, body = encode(message)
            self._publish(b"connection", robot_id.encode(), body)
        self.listener.on_connection(robot_id, state)

    def _reject(self, identity: bytes, peer: Peer, verdict: Reject, now: float) -> None:
        self.stats["rejected"] += 1
        name = peer.bound_robot or peer.key_identity or _peer_name(identity)
        self.rejects.reject(name, verdict.reason, verdict.detail, now)
        self.listener.on_reject(name, verdict.reason, verdict.detail)
        addressee = peer.bound_robot or peer.key_identity or verdict.claimed
        if addressee is None:
            addressee = _peer_name(identity)
        manufacturer, _, serial = addressee.partition("/")
        if not manufacturer or not serial or "/" in serial:
            self.stats["unanswered"] += 1
            return  # nobody a header could name
        if not self.answers.allow(identity, now):
            self.stats["unanswered"] += 1
            return
        robot = self._robots.get(addressee)
        headers = (
            self._headers(robot)
            if robot is not None and robot.peer == identity
            else HeaderSequence(manufacturer, serial, self.wall_clock)
        )
        answer = BusError(
            headers.next("error"),
            verdict.reason,
            verdict.detail[:500],
            verdict.topic.decode("ascii", "replace")[:40] if verdict.topic is not None else None,
            verdict.header_id,
        )
        frame_topic, body = encode(answer)
        if not self._send_to(identity, frame_topic, body):
            self.answers.mute(identity, now)  # its queue is backing up: it is not reading

    def _revoke_sessions(self) -> None:
        """After a key reload: a robot whose session key is no longer its own loses it."""
        assert self._auth is not None
        for robot in list(self._robots.values()):
            if robot.peer is None or self._auth.identity_of(robot.user_id) == robot.robot_id:
                continue
            with self._lock:
                # The connection stays named after the robot (its frames are refused as
                # ``revoked`` and answered), but it no longer holds the robot's session.
                robot.peer = None
                robot.user_id = None
            self.stats["sessions_revoked"] += 1
            log.warning("robot %s: key revoked, session closed", printable(robot.robot_id))
            self.liveness.forget(robot.robot_id)
            self._set_connection(robot.robot_id, ConnectionState.CONNECTIONBROKEN)

    # --- downstream -----------------------------------------------------------------------

    def _headers(self, robot: _Robot) -> HeaderSequence:
        if robot.headers is None:
            manufacturer, _, serial = robot.robot_id.partition("/")
            robot.headers = HeaderSequence(manufacturer, serial, self.wall_clock)
        return robot.headers

    def _send_robot(self, robot_id: str, topic: bytes, body: bytes) -> bool:
        """Send to the connection holding the robot; False (counted) when there is none."""
        robot = self._robots.get(robot_id)
        if robot is None or robot.peer is None:
            self.stats["unroutable"] += 1
            return False
        return self._send_to(robot.peer, topic, body)

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

    def _command(self, robot_id: str, message: Order | InstantActions) -> None:
        topic, body = encode(message)
        self.acks.track(robot_id, message, body, self.clock())
        self._send_robot(robot_id, topic, body)

    def _next_header(self, robot_id: str, topic: str) -> Header:
        return self._headers(self._robot(robot_id)).next(topic)

    # --- viewers --------------------------------------------------------------------------

    def _publish(self, topic: bytes, key: bytes, body: bytes) -> None:
        if self._pub is None:
            return
        seq = self.store.put((topic, key), body)
        self._pub.send_multipart([topic, key, seq.to_bytes(8, "big"), body])

    def _serve_snapshots(self) -> None:
        assert self.snap is not None
        now = self.clock()
        for _ in range(100):
            try:
                frames = self.snap.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                return
            if len(frames) != 2 or frames[1] != SNAPSHOT_REQUEST:
                self.stats["snapshot_bad_request"] += 1
                continue
            identity = frames[0]
            if not self.snapshot_budget.allow(identity, now):
                self.stats["snapshot_refused"] += 1
                continue
            for (topic, key), seq, body in self.store.in_order():
                self.snap.send_multipart([identity, topic, key, seq.to_bytes(8, "big"), body])
            self.snap.send_multipart(
                [identity, SNAPSHOT_END, b"", self.store.seq.to_bytes(8, "big"), b""]
            )

    # --- thread-safe API ------------------------------------------------------------------

    def _call(self, command: Command) -> None:
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
            match command:
                case SendOrder():
                    header = self._next_header(command.robot_id, "order")
                    self._command(
                        command.robot_id,
                        Order(
                            header,
                            command.order_id,
                            command.order_update_id,
                            command.nodes,
                            command.edges,
                        ),
                    )
                case SendInstantActions():
                    header = self._next_header(command.robot_id, "instantActions")
                    self._command(command.robot_id, InstantActions(header, command.actions))
                case Publish():
                    self._publish(command.topic, command.key, command.body)
                case Barrier():
                    command.done.set()
                case ReloadKeys():
                    try:
                        if self._auth is not None:
                            self._auth.reload()
                            self._revoke_sessions()
                    finally:
                        command.done.set()

    def send_order(
        self,
        robot_id: str,
        order_id: str,
        order_update_id: int,
        nodes: tuple[Node, ...] | list[Node],
        edges: tuple[Edge, ...] | list[Edge],
    ) -> None:
        """Queue an order; resent with the same ids until a state from the robot acknowledges it."""
        check_robot_id(robot_id)
        self._call(SendOrder(robot_id, order_id, order_update_id, tuple(nodes), tuple(edges)))

    def send_instant_actions(
        self, robot_id: str, actions: tuple[Action, ...] | list[Action]
    ) -> None:
        """Queue instant actions; resent until every actionId shows in the robot's state."""
        check_robot_id(robot_id)
        self._call(SendInstantActions(robot_id, tuple(actions)))

    def publish(self, topic: str, key: str, message: Message | dict[str, Any]) -> None:
        """Put a fleet-level message (e.g. a ``fleet`` snapshot map) on the PUB stream."""
        if isinstance(message, dict):
            body = msgpack.packb(message, use_bin_type=True)
        else:
            _, body = encode(message)
        self._call(Publish(topic.encode("ascii"), key.encode(), body))

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


def next_endpoint(endpoint: str, suffix: str) -> str:
    """The endpoint beside ``endpoint``: same host, next TCP port (port 0 or * stays
    "any port"); for ``ipc://`` and other transports the same address plus ``suffix``."""
    if endpoint.startswith("tcp://"):
        host, _, port = endpoint[len("tcp://") :].rpartition(":")
        if not port.isdigit() or int(port) == 0:
            return f"tcp://{host}:0"
        return f"tcp://{host}:{int(port) + 1}"
    return endpoint + suffix


def snapshot_default(endpoint: str) -> str:
    """The snapshot socket's default: beside the PUB (``ipc://P`` -> ``ipc://P.snapshot``)."""
    return next_endpoint(endpoint, ".snapshot")


__all__ = [
    "AckResult",
    "BusListener",
    "BusServer",
    "RobotRecord",
    "next_endpoint",
    "snapshot_default",
]
