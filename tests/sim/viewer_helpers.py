"""A small fleet snapshot on the default floor, shaped like the one the manager publishes."""

from __future__ import annotations

from typing import Any

from warehouse.config import load_config

FLOOR = load_config().floor
WAITING = "cell (11, 6) held by acme/r3"


def snapshot() -> dict[str, Any]:
    """Four robots (moving, waiting, charging, fault), one task, a reservation, a blocked cell."""
    return {
        "version": 7,
        "time_s": 42.0,
        "estop": False,
        "robots": [
            {
                "robot": "acme/r1",
                "kind": "amr",
                "status": "busy",
                "battery": 81.5,
                "cell": [1, 5],
                "task": "T1",
                "waiting": None,
                "base": [[1, 5], [1, 6], [1, 7]],
                "goal": [1, 20],
            },
            {
                "robot": "acme/r2",
                "kind": "amr",
                "status": "busy",
                "battery": 55.0,
                "cell": [11, 5],
                "task": None,
                "waiting": WAITING,
                "base": [[11, 5]],
                "goal": [11, 9],
            },
            {
                "robot": "acme/r3",
                "kind": "agv",
                "status": "charging",
                "battery": 12.0,
                "cell": [31, 1],
                "task": None,
                "waiting": None,
                "base": [],
                "goal": None,
            },
            {
                "robot": "acme/r4",
                "kind": "amr",
                "status": "fault",
                "battery": 40.0,
                "cell": [21, 30],
                "task": None,
                "waiting": None,
                "base": [],
                "goal": None,
            },
        ],
        "tasks": [
            {
                "task_id": "T1",
                "kind": "pick_route",
                "status": "assigned",
                "robot": "acme/r1",
                "priority": 0,
                "stop_index": 0,
                "stops": [[1, 20], [5, 20]],
                "due_s": None,
                "reason": None,
            }
        ],
        "reservations": {"1,6": "acme/r1", "1,7": "acme/r1"},
        "blocked": [[11, 6]],
    }
