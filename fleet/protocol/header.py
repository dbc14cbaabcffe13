"""Header numbering: ``headerId`` counts up per topic per sender, from 0."""

from __future__ import annotations

from core.clock import WallClock
from fleet.protocol.codec import timestamp
from fleet.protocol.messages import PROTOCOL_VERSION, Header


class HeaderSequence:
    """Issues headers for one sender (a robot, or the fleet speaking to one robot)."""

    def __init__(self, manufacturer: str, serial_number: str, wall_clock: WallClock) -> None:
        """``wall_clock`` stamps the headers; injected so tests and the lockstep simulator
        control it."""
        self.manufacturer = manufacturer
        self.serial_number = serial_number
        self._wall_clock = wall_clock
        self._next: dict[str, int] = {}

    def next(self, topic: str) -> Header:
        header_id = self._next.get(topic, 0)
        self._next[topic] = header_id + 1
        return Header(
            header_id=header_id,
            timestamp=timestamp(self._wall_clock()),
            version=PROTOCOL_VERSION,
            manufacturer=self.manufacturer,
            serial_number=self.serial_number,
        )
