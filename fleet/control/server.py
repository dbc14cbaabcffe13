"""The operator control socket: a ZeroMQ ROUTER answering `fleet.control.protocol` requests.

The server knows nothing of the fleet: every valid request goes to a handler
callable (`Handler`) and its return value is the answer. The owner chooses the
thread the handler runs on:

    server = ControlServer("tcp://127.0.0.1:5557", keys_dir=D).open()
    # in the owner's loop (e.g. the manager's cycle thread):
    if server.poll(timeout_ms=50):        # or put server.socket in the loop's own Poller
        server.handle_ready(handler)      # answers what is waiting, never blocks

or, for a handler that is safe to call from another thread,
``server.start(handler)`` … ``server.stop()``.

Guarantees: the socket loop never dies of what a peer sends or of a handler
bug. Malformed frames get an ``ok: false`` answer naming the problem; a
`ControlRefused` from the handler is answered with its message; any other
exception is logged with its traceback and answered as a one-line internal
error. With a keys folder the socket is a CURVE server in the ``operators``
ZAP domain: only public keys in ``authorized/operators/`` get through (robot and
viewer keys do not). Without one it is plain TCP, for local tests.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import zmq

from fleet.bus.keys import OPERATOR_DOMAIN, KeyringAuthenticator, server_pair
from fleet.bus.server import bind_endpoint
from fleet.control.protocol import (
    MAX_ANSWER_BYTES,
    MAX_REQUEST_BYTES,
    UNREADABLE_ID,
    ControlRefused,
    FrameError,
    Handler,
    check_result,
    decode_request,
    encode_answer,
    encode_error,
    plain,
)

log = logging.getLogger("fleet.control")

BATCH = 100
"""Requests answered per `handle_ready` call, so a flood cannot starve the owner's loop."""


class ControlServer:
    """A ROUTER bound to ``endpoint``; `open` binds it, `handle_ready` answers requests."""

    def __init__(
        self,
        endpoint: str,
        *,
        keys_dir: str | Path | None = None,
        max_request_bytes: int = MAX_REQUEST_BYTES,
    ) -> None:
        self.requested_endpoint = endpoint
        self.endpoint = endpoint
        """The bound endpoint once open (an OS-assigned port ``:0`` resolved)."""
        self.keys_dir = Path(keys_dir) if keys_dir is not None else None
        self.max_request_bytes = max_request_bytes
        self.context = zmq.Context()
        """Its own context, so its ZAP handler never collides with the bus server's."""
        self.socket: zmq.Socket | None = None
        self.counters = {"answered": 0, "refused": 0, "malformed": 0, "failed": 0}
        """Answers sent, handler refusals, malformed frames, handler bugs."""
        self._auth: KeyringAuthenticator | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def secure(self) -> bool:
        return self.keys_dir is not None

    def open(self) -> ControlServer:
        """Bind the socket; a bad endpoint or keys folder is an `InputError` naming it."""
        socket = self.context.socket(zmq.ROUTER)
        socket.setsockopt(zmq.LINGER, 0)
        socket.setsockopt(zmq.ROUTER_MANDATORY, 1)
        socket.setsockopt(zmq.MAXMSGSIZE, 4 * self.max_request_bytes)
        try:
            if self.keys_dir is not None:
                keys = server_pair(self.keys_dir)
                self._auth = KeyringAuthenticator(self.context, self.keys_dir)
                self._auth.start()
                socket.setsockopt(zmq.ZAP_DOMAIN, OPERATOR_DOMAIN.encode())
                socket.curve_secretkey = keys.secret
                socket.curve_publickey = keys.public
                socket.curve_server = True
            self.endpoint = bind_endpoint(socket, self.requested_endpoint)
        except BaseException:
            socket.close(linger=0)
            self.close()
            raise
        self.socket = socket
        log.info(
            "control socket on %s%s",
            self.endpoint,
            " (CURVE, operators)" if self.secure else " (INSECURE plain TCP)",
        )
        return self

    def reload_keys(self) -> None:
        """Re-read ``authorized/operators`` (after an operator is added or removed)."""
        if self._auth is not None:
            self._auth.reload()

    def poll(self, timeout_ms: int) -> bool:
        """Wait up to ``timeout_ms`` for a request; True when one is waiting."""
        return bool(self._open_socket().poll(timeout_ms, zmq.POLLIN))

    def handle_ready(self, handler: Handler, limit: int = BATCH) -> int:
        """Answer up to ``limit`` waiting requests without blocking; returns how many."""
        socket = self._open_socket()
        handled = 0
        while handled < limit:
            try:
                frames = socket.recv_multipart(zmq.NOBLOCK, copy=True)
            except zmq.Again:
                break
            handled += 1
            if len(frames) != 2:
                self.counters["malformed"] += 1
                self._reply(frames[0], encode_error(UNREADABLE_ID, "a request is one frame"))
                continue
            self._reply(frames[0], self._answer(frames[1], handler))
        return handled

    def _answer(self, body: bytes, handler: Handler) -> bytes:
        try:
            envelope = decode_request(body, self.max_request_bytes)
        except FrameError as error:
            self.counters["malformed"] += 1
            return encode_error(error.request_id, str(error))
        request_id, op = envelope.request_id, envelope.request.op
        try:
            result = plain(handler(envelope.request))
            check_result(op, result)
            answer = encode_answer(request_id, result)
        except ControlRefused as error:
            self.counters["refused"] += 1
            return encode_error(request_id, str(error))
        except Exception as error:
            self.counters["failed"] += 1
            log.exception("control handler failed on %s", op.value)
            return encode_error(request_id, f"internal error in {op.value}: {_describe(error)}")
        if len(answer) > MAX_ANSWER_BYTES:
            self.counters["failed"] += 1
            return encode_error(request_id, f"{op.value}: answer above {MAX_ANSWER_BYTES} bytes")
        self.counters["answered"] += 1
        return answer

    def _reply(self, identity: bytes, body: bytes) -> None:
        try:
            self._open_socket().send_multipart([identity, body], zmq.NOBLOCK)
        except zmq.ZMQError as error:  # the client left (ROUTER_MANDATORY) or is flooding us
            log.debug("control answer not delivered: %s", error)

    def _open_socket(self) -> zmq.Socket:
        if self.socket is None:
            raise RuntimeError("ControlServer.open() first")
        return self.socket

    # --- thread mode -----------------------------------------------------------------------

    def start(self, handler: Handler, poll_ms: int = 50) -> ControlServer:
        """Answer requests on a thread of its own (the handler must be thread-safe)."""
        if self.socket is None:
            self.open()
        self._stopping.clear()

        def loop() -> None:
            while not self._stopping.is_set():
                if self.poll(poll_ms):
                    self.handle_ready(handler)

        self._thread = threading.Thread(target=loop, name="fleet-control", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the thread (if any) and close the socket and its authenticator."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
        self.close()

    def close(self) -> None:
        """Close the socket and end the context; a closed server cannot be reopened."""
        if self.socket is not None:
            self.socket.close(linger=0)
            self.socket = None
        self._stop_auth()
        if not self.context.closed:
            self.context.term()

    def _stop_auth(self) -> None:
        if self._auth is not None:
            self._auth.stop()
            self._auth = None

    def __enter__(self) -> ControlServer:
        return self.open() if self.socket is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def make_server(endpoint: str | None, keys_dir: str | Path | None) -> ControlServer | None:
    """A bound control server, or None when no endpoint is given (control is off)."""
    if endpoint is None:
        return None
    return ControlServer(endpoint, keys_dir=keys_dir).open()
