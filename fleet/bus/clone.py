"""The ZeroMQ guide's "Clone" key-value store: last value per key plus a sequence number.

The server keeps one to answer snapshot requests (`put` numbers each update);
a viewer keeps one to follow the PUB stream (`load` a snapshot, then `apply`
updates, which tells it whether an update is new, already known, or reveals a
gap). Both sides share this class so they cannot disagree on the rules.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Applied(enum.Enum):
    APPLIED = "applied"  # the next update in sequence: stored
    KNOWN = "known"  # at or below the current sequence number: already in the store
    GAP = "gap"  # updates were lost: the caller must load a fresh snapshot


class CloneStore(Generic[K, V]):
    """Last value of every key and the sequence number the store is current to."""

    def __init__(self) -> None:
        self.seq = 0
        self._entries: dict[K, tuple[int, V]] = {}

    def put(self, key: K, value: V) -> int:
        """Store an update under the next sequence number (server side); returns it."""
        self.seq += 1
        self._entries[key] = (self.seq, value)
        return self.seq

    def apply(self, seq: int, key: K, value: V) -> Applied:
        """Apply a numbered update received from the stream (viewer side)."""
        if seq <= self.seq:
            return Applied.KNOWN
        if seq != self.seq + 1:
            return Applied.GAP
        self.seq = seq
        self._entries[key] = (seq, value)
        return Applied.APPLIED

    def skip(self, seq: int) -> None:
        """Move past an update that could not be read (it is counted, not stored)."""
        self.seq = max(self.seq, seq)

    def load(self, values: dict[K, tuple[int, V]], seq: int) -> None:
        """Replace everything with a snapshot current to ``seq``."""
        self._entries = dict(values)
        self.seq = seq

    def in_order(self) -> Iterator[tuple[K, int, V]]:
        """Every key's last value, oldest update first (the order a snapshot is sent in)."""
        for key, (seq, value) in sorted(self._entries.items(), key=lambda kv: kv[1][0]):
            yield key, seq, value

    def values(self) -> dict[K, V]:
        return {key: value for key, (_, value) in self._entries.items()}

    def __len__(self) -> int:
        return len(self._entries)
