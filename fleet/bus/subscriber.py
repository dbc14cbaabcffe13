"""Read-only view of the fleet for viewers and dashboards (ZeroMQ "Clone" client).

Subscribe first, then ask the snapshot socket for the last value of every key
and the sequence number it is current to; updates at or below that number are
already in the snapshot and are skipped. A gap in the sequence (updates lost to
a slow joiner or a full queue) triggers a fresh snapshot, so the view is never
silently stale.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zmq

from fleet.bus.clone import Applied, CloneStore
from fleet.bus.keys import load_public, viewer_pair
from fleet.bus.server import SNAPSHOT_END, SNAPSHOT_REQUEST
from fleet.protocol.codec import decode, unpack
from fleet.protocol.errors import ProtocolError
from fleet.protocol.messages import TOPICS


@dataclass(frozen=True)
class ViewerKeys:
    public: bytes
    secret: bytes
    server_public: bytes

    @classmethod
    def from_folder(cls, directory: str | Path, name: str) -> ViewerKeys:
        pair = viewer_pair(directory, name)
        return cls(pair.public, pair.secret, load_public(Path(directory) / "server.key"))


@dataclass(frozen=True)
class Update:
    topic: str
    key: str
    seq: int
    value: Any


def _value(topic: bytes, body: bytes) -> Any:
    name = topic.decode("ascii", "replace")
    if name in TOPICS:
        return decode(topic, body)
    return unpack(body)


class FleetSubscriber:
    def __init__(
        self,
        pub_endpoint: str,
        snapshot_endpoint: str,
        *,
        keys: ViewerKeys | None = None,
        context: zmq.Context | None = None,
    ) -> None:
        self._owns_context = context is None
        self.context = context or zmq.Context()
        self.store: CloneStore[tuple[str, str], Any] = CloneStore()
        self.snapshots = 0
        self.bad_frames = 0
        self.sub = self._socket(zmq.SUB, keys)
        self.sub.setsockopt(zmq.SUBSCRIBE, b"")
        self.sub.connect(pub_endpoint)
        self.snap = self._socket(zmq.DEALER, keys)
        self.snap.connect(snapshot_endpoint)

    @property
    def values(self) -> dict[tuple[str, str], Any]:
        """The last value of every ``(topic, key)``."""
        return self.store.values()

    @property
    def seq(self) -> int:
        """The sequence number the view is current to."""
        return self.store.seq

    def _socket(self, kind: int, keys: ViewerKeys | None) -> zmq.Socket:
        socket = self.context.socket(kind)
        socket.setsockopt(zmq.LINGER, 0)
        if keys is not None:
            socket.curve_secretkey = keys.secret
            socket.curve_publickey = keys.public
            socket.curve_serverkey = keys.server_public
        return socket

    def snapshot(self, timeout_s: float = 5.0) -> int:
        """Load every key's last value; returns the sequence number the view is current to."""
        self.snap.send(SNAPSHOT_REQUEST)
        deadline = time.monotonic() + timeout_s
        values: dict[tuple[str, str], tuple[int, Any]] = {}
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self.snap.poll(int(remaining * 1000)):
                raise TimeoutError("no snapshot from the fleet server")
            frames = self.snap.recv_multipart()
            if len(frames) != 4:
                self.bad_frames += 1
                continue
            topic, key, raw_seq, body = frames
            seq = int.from_bytes(raw_seq, "big")
            if topic == SNAPSHOT_END:
                self.store.load(values, seq)
                self.snapshots += 1
                return seq
            try:
                values[(topic.decode(), key.decode())] = (seq, _value(topic, body))
            except (ProtocolError, UnicodeDecodeError):
                self.bad_frames += 1

    def poll(self, timeout_s: float = 0.0) -> list[Update]:
        """Apply the updates that arrived (waiting up to ``timeout_s`` for the first).

        Returns every key that changed, in sequence order; after a gap the keys the
        re-snapshot brought forward are among them, so no change goes unreported.
        """
        applied: list[Update] = []
        wait_ms = int(timeout_s * 1000)
        while self.sub.poll(wait_ms):
            wait_ms = 0
            frames = self.sub.recv_multipart()
            if len(frames) != 4:
                self.bad_frames += 1
                continue
            topic, key, raw_seq, body = frames
            seq = int.from_bytes(raw_seq, "big")
            if seq <= self.store.seq:
                continue
            if seq != self.store.seq + 1:
                # A gap: updates were lost. The fresh snapshot brings every key up to date;
                # report those that changed since our last sequence number, so a caller that
                # acts on updates misses none of them.
                before = self.store.seq
                self.snapshot()
                applied.extend(
                    Update(*name, key_seq, value)
                    for name, key_seq, value in self.store.in_order()
                    if key_seq > before
                )
                continue
            try:
                value = _value(topic, body)
                name = (topic.decode(), key.decode())
            except (ProtocolError, UnicodeDecodeError):
                self.bad_frames += 1
                self.store.skip(seq)
                continue
            if self.store.apply(seq, name, value) is Applied.APPLIED:
                applied.append(Update(*name, seq, value))
        return applied

    def close(self) -> None:
        self.sub.close(linger=0)
        self.snap.close(linger=0)
        if self._owns_context:
            self.context.term()

    def __enter__(self) -> FleetSubscriber:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
