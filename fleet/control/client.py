"""The operator side of the control socket (what ``warehouse ctl`` uses).

    client = ControlClient("tcp://fleet:5557", keys=operator_keys(D, "alice"))
    task = client.call(AddTask(TaskKind.MOVE, ((3, 4),)))   # {"task_id": ...}
    client.close()

`call` returns the handler's result or raises: `ControlRefused` (the server
answered ``ok: false``; the message is the server's one line) or
`ControlUnavailable` (no answer within ``timeout_s``: nothing listening, the
server is stuck, or it refused our key). A timed-out request is never
delivered late: the socket is closed (LINGER 0) and a fresh one made for the
next call.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import zmq
from zmq.utils.monitor import parse_monitor_message

from fleet.bus.keys import load_public, operator_pair
from fleet.bus.robot_client import ClientKeys
from fleet.control.protocol import (
    MAX_ANSWER_BYTES,
    ControlError,
    ControlRefused,
    ControlUnavailable,
    FrameError,
    Request,
    decode_answer,
    encode_request,
)

_AUTH_FAILED = zmq.EVENT_HANDSHAKE_FAILED_AUTH | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL


def operator_keys(directory: str | Path, name: str) -> ClientKeys:
    """An operator's keypair and the server's public key from a keys folder."""
    pair = operator_pair(directory, name)
    return ClientKeys(pair.public, pair.secret, load_public(Path(directory) / "server.key"))


class ControlClient:
    """A DEALER to a `fleet.control.server.ControlServer`; one request at a time."""

    def __init__(
        self, endpoint: str, keys: ClientKeys | None = None, timeout_s: float = 2.0
    ) -> None:
        self.endpoint = endpoint
        self.keys = keys
        self.timeout_s = timeout_s
        self.context = zmq.Context()
        self._socket: zmq.Socket | None = None
        self._monitor: zmq.Socket | None = None
        self._next_id = 1

    def call(self, request: Request) -> Any:
        """Send one request and wait for its answer (see the module docstring for errors)."""
        request_id = self._next_id
        self._next_id += 1
        socket = self._connected()
        try:
            socket.send(encode_request(request_id, request), zmq.NOBLOCK)
        except zmq.Again:
            self._reset()
            raise ControlUnavailable(f"{self.endpoint}: cannot queue the request") from None
        deadline = time.monotonic() + self.timeout_s
        poller = zmq.Poller()
        poller.register(socket, zmq.POLLIN)
        if self._monitor is not None:
            poller.register(self._monitor, zmq.POLLIN)
        while (remaining := deadline - time.monotonic()) > 0:
            ready = dict(poller.poll(max(1, int(remaining * 1000))))
            if self._monitor is not None and self._monitor in ready:
                self._check_handshake()
            if socket in ready:
                answer = self._read(socket.recv())
                if answer is None or answer.request_id != request_id:
                    continue  # a late answer to an earlier call: skip it
                if not answer.ok:
                    raise ControlRefused(answer.error or "refused")
                return answer.result
        self._reset()
        raise ControlUnavailable(
            f"{self.endpoint}: no answer within {self.timeout_s:g} s "
            "(is a fleet control socket bound there?)"
        )

    def _read(self, body: bytes) -> Any:
        try:
            return decode_answer(body)
        except FrameError as error:
            raise ControlError(f"{self.endpoint}: not a control answer ({error})") from None

    def _check_handshake(self) -> None:
        assert self._monitor is not None
        while True:
            try:
                event = parse_monitor_message(self._monitor.recv_multipart(zmq.NOBLOCK))
            except zmq.Again:
                return
            if event["event"] & _AUTH_FAILED:
                self._reset()
                raise ControlUnavailable(
                    f"{self.endpoint}: the server refused this operator key "
                    "(is it in authorized/operators?)"
                )

    def _connected(self) -> zmq.Socket:
        if self._socket is not None:
            return self._socket
        socket = self.context.socket(zmq.DEALER)
        socket.setsockopt(zmq.LINGER, 0)
        socket.setsockopt(zmq.MAXMSGSIZE, 4 * MAX_ANSWER_BYTES)
        if self.keys is not None:
            socket.curve_secretkey = self.keys.secret
            socket.curve_publickey = self.keys.public
            socket.curve_serverkey = self.keys.server_public
            self._monitor = socket.get_monitor_socket(_AUTH_FAILED)
        try:
            socket.connect(self.endpoint)
        except zmq.ZMQError as error:
            socket.close(linger=0)
            self._close_monitor()
            raise ControlError(f"{self.endpoint}: cannot connect ({error})") from None
        self._socket = socket
        return socket

    def _reset(self) -> None:
        """Drop the socket: nothing queued on it may reach the server later."""
        self._close_monitor()
        if self._socket is not None:
            self._socket.close(linger=0)
            self._socket = None

    def _close_monitor(self) -> None:
        if self._monitor is not None:
            self._monitor.close(linger=0)
            self._monitor = None

    def close(self) -> None:
        self._reset()
        self.context.term()

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
