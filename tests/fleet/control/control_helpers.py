"""Test fixture: a fake fleet implementing the control ops on dicts (not the real core)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fleet.control.protocol import (
    AddTask,
    CancelTask,
    ControlRefused,
    Drain,
    EStop,
    EStopRelease,
    ListRobots,
    ListTasks,
    Pause,
    Request,
    Resume,
    SetPriority,
    Undrain,
)

LOOPBACK = "tcp://127.0.0.1:0"


@contextmanager
def free_endpoint() -> Iterator[str]:
    """A loopback endpoint nobody listens on, for as long as the ``with`` lasts.

    The port stays bound (never listening: a connect is refused) until the end, so no
    other process - a second copy of the suite binding port 0 - can take it and answer.
    """
    with socket.socket() as reserved:
        reserved.bind(("127.0.0.1", 0))
        yield f"tcp://127.0.0.1:{reserved.getsockname()[1]}"


class FakeFleet:
    """The op semantics on two dicts, so tests can see each command's effect.

    Unknown robots and tasks are refused with `ControlRefused`, as the real core
    must. Thread-safe: the server may call it from its own thread.
    """

    def __init__(self) -> None:
        self.robots: dict[str, dict[str, Any]] = {
            "acme/r1": {"robot": "acme/r1", "kind": "amr", "status": "idle", "battery": 81.5},
            "acme/r2": {"robot": "acme/r2", "kind": "agv", "status": "busy", "battery": 40.0},
        }
        for i, robot in enumerate(self.robots.values()):
            robot["cell"] = (i, 2 * i)
        self.tasks: dict[str, dict[str, Any]] = {}
        self.requests: list[Request] = []
        self.threads: set[int] = set()
        self.estopped = False
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Any:
        with self._lock:
            self.requests.append(request)
            self.threads.add(threading.get_ident())
            return self._handle(request)

    def _robot(self, robot_id: str) -> dict[str, Any]:
        if robot_id not in self.robots:
            raise ControlRefused(f"unknown robot {robot_id!r}")
        return self.robots[robot_id]

    def _task(self, task_id: str) -> dict[str, Any]:
        if task_id not in self.tasks:
            raise ControlRefused(f"unknown task {task_id!r}")
        return self.tasks[task_id]

    def _targets(self, robot: str | None) -> list[dict[str, Any]]:
        return list(self.robots.values()) if robot is None else [self._robot(robot)]

    def _handle(self, request: Request) -> Any:
        match request:
            case AddTask():
                task_id = f"T{len(self.tasks) + 1}"
                self.tasks[task_id] = {
                    "task_id": task_id,
                    "kind": request.kind,
                    "status": "queued",
                    "robot": request.robot,
                    "priority": request.priority,
                    "stops": request.stops,
                }
                return {"task_id": task_id}
            case ListTasks():
                return list(self.tasks.values())
            case ListRobots():
                return list(self.robots.values())
            case CancelTask():
                self._task(request.task_id)["status"] = "cancelled"
                return {"task_id": request.task_id, "status": "cancelled"}
            case SetPriority():
                self._task(request.task_id)["priority"] = request.priority
                return {"task_id": request.task_id, "priority": request.priority}
            case Pause() | Resume():
                status = "paused" if isinstance(request, Pause) else "idle"
                targets = self._targets(request.robot)
                for robot in targets:
                    robot["status"] = status
                return {"robots": [r["robot"] for r in targets]}
            case EStop() | EStopRelease():
                self.estopped = isinstance(request, EStop)
                return None
            case Drain() | Undrain():
                robot = self._robot(request.robot)
                robot["status"] = "drained" if isinstance(request, Drain) else "idle"
                return {"robots": [request.robot]}
        raise AssertionError(f"unhandled {request!r}")
