"""A caller-stepped `SimRunner` in its own process, so the world and the fleet use two cores.

The parent keeps the lockstep barrier: `step` advances the world one tick in
the child (robots apply their orders, drive, send their states over the real
bus) and returns what the parent needs to record; `await_messages` names, per
robot, how many commands the fleet sent, and the child takes them all off the
sockets and applies them before it advances (at the start of the next `step`,
in the same round trip, so a tick costs the two processes one exchange). Faults
are forwarded. The child talks to the fleet only over ZeroMQ, exactly as in one
process; the pipe carries the clock and the observations, never protocol
messages, and only what changed since the last answer.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from sim.controller import SimRobotParams
from sim.runner import Observation, SimRobotSpec, SimRunner
from sim.safety import Violation
from wms.errors import WarehouseError
from wms.layout import Cell, Floor


class WorldProcessError(WarehouseError):
    """The child process running the simulated robots is gone, or its barrier did not close."""


@dataclass(frozen=True, slots=True)
class RobotView:
    """What the parent sees of one simulated robot after a step."""

    cell: Cell
    battery_pct: float
    charging: bool
    broken: bool
    alive: bool


class _Changes:
    """The child's side of the pipe: each answer carries only the robots that changed."""

    def __init__(self, runner: SimRunner) -> None:
        self.runner = runner
        self._sent: dict[str, Observation] = {}

    def take(self) -> dict[str, Observation]:
        now = self.runner.observations()
        old = self._sent
        self._sent = now
        return {rid: seen for rid, seen in now.items() if old.get(rid) != seen}


def _serve(conn: Connection, args: dict[str, Any]) -> None:
    runner = SimRunner(**args).connect()
    changes = _Changes(runner)
    conn.send(("ready", changes.take()))
    while True:
        kind, *rest = conn.recv()
        if kind in ("step", "call", "flush"):
            # Every request that lets time or faults move first takes off the commands
            # the parent named (see `ProcessRunner.await_messages`).
            (expected, timeout_s, strict), rest = rest[:3], rest[3:]
            if expected and not runner.await_messages(expected, timeout_s) and strict:
                conn.send(("stalled", f"robots did not receive {expected} in time"))
                continue
        if kind == "step":
            now = runner.step()
            conn.send((now, changes.take()))
        elif kind == "call":
            name, call_args = rest
            getattr(runner, name)(*call_args)
            conn.send(None)
        elif kind == "flush":
            conn.send(None)
        elif kind == "violations":
            conn.send(runner.violations())
        elif kind == "stop":
            runner.stop()
            conn.send(None)
            return


class ProcessRunner:
    """The subset of `SimRunner` a lockstep run uses, with the runner in a child process."""

    def __init__(
        self,
        endpoint: str,
        floor: Floor,
        robots: Sequence[SimRobotSpec],
        *,
        params: SimRobotParams | None = None,
        step_s: float = 1.0,
        charger_cells: frozenset[Cell] | None = None,
        epoch_s: float | None = None,
        state_interval_s: float = 0.2,
        heartbeat_s: float = 0.25,
    ) -> None:
        self.robot_ids = tuple(spec.robot_id for spec in robots)
        self._args = {
            "endpoint": endpoint,
            "floor": floor,
            "robots": list(robots),
            "params": params,
            "step_s": step_s,
            "speed": None,
            "charger_cells": charger_cells,
            "epoch_s": epoch_s,
            "state_interval_s": state_interval_s,
            "heartbeat_s": heartbeat_s,
        }
        self.now_s = 0.0
        self._states: dict[str, int] = {}
        self._received: dict[str, int] = {}
        self._views: dict[str, RobotView] = {}
        self._expected: dict[str, int] = {}
        """Commands each robot must have taken off its socket before the next step."""
        self._await_timeout_s = 10.0
        self._strict = True
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None

    def connect(self) -> ProcessRunner:
        context = multiprocessing.get_context("spawn")  # no fork of a process with zmq threads
        parent, child = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(child, self._args), name="sim-world", daemon=True
        )
        self._process.start()
        self._conn = parent
        self._update(self._ask_reply()[1])
        return self

    def _update(self, changes: dict[str, Observation]) -> None:
        for rid, (states, received, *view) in changes.items():
            self._states[rid] = states
            self._received[rid] = received
            self._views[rid] = RobotView(*view)

    def _ask(self, *message: Any) -> Any:
        assert self._conn is not None, "connect() first"
        self._conn.send(message)
        return self._ask_reply()

    def _ask_reply(self, timeout_s: float = 300.0) -> Any:
        """The child's answer; a child that died (or never started) is an error, not a hang."""
        assert self._conn is not None and self._process is not None
        waited = 0.0
        while not self._conn.poll(0.5):
            waited += 0.5
            if not self._process.is_alive() or waited >= timeout_s:
                what = "died" if not self._process.is_alive() else "did not answer"
                raise WorldProcessError(
                    "sim world",
                    f"the simulated robots' process {what} (exit code {self._process.exitcode})",
                )
        return self._conn.recv()

    def step(self) -> float:
        """Apply the commands `await_messages` named, then advance one tick (one exchange)."""
        answer = self._ask_taking("step")
        self.now_s, changes = answer
        self._update(changes)
        return self.now_s

    def states_sent(self) -> dict[str, int]:
        return dict(self._states)

    def received(self) -> dict[str, int]:
        return dict(self._received)

    def await_messages(
        self, expected: Mapping[str, int], timeout_s: float = 10.0, *, strict: bool = True
    ) -> bool:
        """Name the commands the robots must have before they move again.

        ``strict=False`` (a run that knows messages may be lost, as after a server kill)
        makes the barrier wait up to ``timeout_s`` and then step anyway.

        The child takes them off the sockets at the start of the next `step` or fault
        call, whichever comes first (nothing the parent can observe happens in between:
        views change only in a step, and a fault call takes effect after these
        messages); a barrier that does not close within ``timeout_s`` makes that step or
        call raise `WorldProcessError`. So this returns True at once.
        """
        self._strict = self._strict and strict
        for rid, count in expected.items():
            self._expected[rid] = max(count, self._expected.get(rid, 0))
        self._await_timeout_s = timeout_s
        return True

    def robot(self, robot_id: str) -> RobotView:
        return self._views[robot_id]

    def is_alive(self, robot_id: str) -> bool:
        return self._views[robot_id].alive

    def violations(self) -> list[Violation]:
        return list(self._ask("violations"))

    def _call(self, name: str, *args: Any) -> None:
        """A fault or operator call; the commands already named are taken off first, so
        a call never overtakes them (a comm loss must not eat an order sent before it)."""
        self._ask_taking("call", name, args)

    def flush(self) -> None:
        """Take off the named commands now, not at the next step (before the fleet's
        server is killed: what it sent before dying must still count)."""
        if self._expected:
            self._ask_taking("flush")

    def _ask_taking(self, kind: str, *args: Any) -> Any:
        expected, self._expected = self._expected, {}
        strict, self._strict = self._strict, True
        answer = self._ask(kind, expected, self._await_timeout_s, strict, *args)
        if isinstance(answer, tuple) and answer and answer[0] == "stalled":
            raise WorldProcessError("sim world", answer[1])
        return answer

    def kill(self, robot_id: str) -> None:
        self._call("kill", robot_id)

    def comm_loss(self, robot_id: str, seconds: float) -> None:
        self._call("comm_loss", robot_id, seconds)

    def break_down(self, robot_id: str) -> None:
        self._call("break_down", robot_id)

    def repair(self, robot_id: str) -> None:
        self._call("repair", robot_id)

    def set_battery(self, robot_id: str, pct: float) -> None:
        self._call("set_battery", robot_id, pct)

    def block(self, cells: Iterable[Cell], blocked: bool = True) -> None:
        self._call("block", list(cells), blocked)

    def stop(self) -> None:
        if self._conn is not None and self._process is not None and self._process.is_alive():
            with contextlib.suppress(EOFError, OSError):
                self._ask("stop")
        if self._process is not None:
            self._process.join(10.0)
            if self._process.is_alive():
                self._process.kill()
        if self._conn is not None:
            self._conn.close()
        self._process = self._conn = None
