"""Acknowledgement of commands by the robot's next state, and resending.

VDA 5050 has no ack message: a robot acknowledges an order when its state shows
the ``orderId`` / ``orderUpdateId`` (or an error that references them), and an
instant action when its ``actionId`` appears in ``actionStates``. Until then the
fleet resends the identical frames (same ids), which the robot ignores if it had
them already. Pure: the caller passes the time.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from fleet.protocol.messages import InstantActions, Order, State


class AckResult(enum.Enum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"  # the robot answered with an error referencing the command
    UNACKNOWLEDGED = "unacknowledged"  # gave up after the resend budget


@dataclass
class Pending:
    robot: str
    topic: str
    body: bytes
    order_key: tuple[str, int] | None
    action_ids: frozenset[str]
    header_id: int
    first_sent: float
    last_sent: float
    attempts: int = 1
    delivered: bool = field(default=False)

    def result(self, state: State) -> AckResult | None:
        if self.order_key is not None:
            order_id, update_id = self.order_key
            for error in state.errors:
                if error.reference("orderId") == order_id and error.reference(
                    "orderUpdateId"
                ) == str(update_id):
                    return AckResult.REJECTED
            if state.order_id == order_id and state.order_update_id >= update_id:
                return AckResult.ACCEPTED
            return None
        known = {a.action_id for a in state.action_states}
        if self.action_ids <= known:
            return AckResult.ACCEPTED
        return None


@dataclass(frozen=True)
class Ack:
    robot: str
    topic: str
    order_key: tuple[str, int] | None
    action_ids: frozenset[str]
    result: AckResult
    rtt_s: float
    attempts: int


class AckTracker:
    def __init__(self, resend_after_s: float, max_resends: int) -> None:
        self.resend_after_s = resend_after_s
        self.max_resends = max_resends
        self._pending: dict[str, list[Pending]] = {}

    def track(
        self, robot: str, message: Order | InstantActions, body: bytes, now: float
    ) -> Pending:
        if isinstance(message, Order):
            order_key: tuple[str, int] | None = (message.order_id, message.order_update_id)
            action_ids: frozenset[str] = frozenset()
            topic = "order"
        else:
            order_key, topic = None, "instantActions"
            action_ids = frozenset(a.action_id for a in message.actions)
        pending = Pending(
            robot, topic, body, order_key, action_ids, message.header.header_id, now, now
        )
        self._pending.setdefault(robot, []).append(pending)
        return pending

    def on_state(self, robot: str, state: State, now: float) -> list[Ack]:
        waiting = self._pending.get(robot)
        if not waiting:
            return []
        acks, still = [], []
        for pending in waiting:
            result = pending.result(state)
            if result is None:
                still.append(pending)
            else:
                acks.append(_ack(pending, result, now))
        if still:
            self._pending[robot] = still
        else:
            del self._pending[robot]
        return acks

    def due(self, now: float) -> tuple[list[Pending], list[Ack]]:
        """Commands to resend now, and commands given up on (their resend budget is spent)."""
        resend, given_up = [], []
        for robot in list(self._pending):
            keep = []
            for pending in self._pending[robot]:
                if now - pending.last_sent < self.resend_after_s:
                    keep.append(pending)
                elif pending.attempts > self.max_resends:
                    given_up.append(_ack(pending, AckResult.UNACKNOWLEDGED, now))
                else:
                    pending.attempts += 1
                    pending.last_sent = now
                    resend.append(pending)
                    keep.append(pending)
            if keep:
                self._pending[robot] = keep
            else:
                del self._pending[robot]
        return resend, given_up

    def next_due(self) -> float | None:
        times = [p.last_sent for ps in self._pending.values() for p in ps]
        return min(times) + self.resend_after_s if times else None

    def pending(self, robot: str | None = None) -> int:
        if robot is not None:
            return len(self._pending.get(robot, ()))
        return sum(len(ps) for ps in list(self._pending.values()))  # list(): one GIL step


def _ack(pending: Pending, result: AckResult, now: float) -> Ack:
    return Ack(
        pending.robot,
        pending.topic,
        pending.order_key,
        pending.action_ids,
        result,
        now - pending.first_sent,
        pending.attempts,
    )
