"""What other threads ask the server thread to do (it alone owns the sockets).

Each request is a frozen value put on the server's queue; the server thread
matches on its type, so a new command is a new class, not a new string tag.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from fleet.protocol.messages import Action, Edge, Node


@dataclass(frozen=True)
class SendOrder:
    """Send (and resend until acknowledged) an order to one robot."""

    robot_id: str
    order_id: str
    order_update_id: int
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]


@dataclass(frozen=True)
class SendInstantActions:
    """Send (and resend until acknowledged) instant actions to one robot."""

    robot_id: str
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class Publish:
    """Put an already encoded fleet-level update on the PUB stream."""

    topic: bytes
    key: bytes
    body: bytes


@dataclass(frozen=True)
class ReloadKeys:
    """Re-read the authorised key folders and drop sessions whose key was revoked.

    ``done`` is set once the new keys are in effect, so a caller can wait before
    telling a robot to connect (a CURVE handshake refused under the old keys is
    not retried by libzmq).
    """

    done: threading.Event = field(default_factory=threading.Event, compare=False)


@dataclass(frozen=True)
class Barrier:
    """Nothing to do: ``done`` is set once every command queued before it is handled."""

    done: threading.Event = field(default_factory=threading.Event, compare=False)


Command = SendOrder | SendInstantActions | Publish | ReloadKeys | Barrier


def check_robot_id(robot_id: str) -> None:
    """A robot id is ``manufacturer/serialNumber``, neither part empty nor holding ``/``."""
    manufacturer, _, serial = robot_id.partition("/")
    if not manufacturer or not serial or "/" in serial:
        raise ValueError(f"robot ids are manufacturer/serialNumber, got {robot_id!r}")
