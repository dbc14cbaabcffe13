"""The robot side of VDA 5050 orders: acceptance, base/horizon stitching, actions.

A pure state machine over frozen values: `apply_order`, `apply_instant_actions`,
`arrive` and `set_action_status` each take an `OrderProgress` and return a new
one, so any controller (our simulated ones, a test, a vendor's Python driver)
gets the standard's rules without sockets or clocks.

Rules (VDA 5050 v2, "order acceptance" flow):

* Structure: nodes and edges alternate, node ``sequenceId``s are even and edge
  ones odd and consecutive, each edge joins its neighbours, the first node is
  released and the released part (the *base*) is a prefix that ends on a node;
  otherwise ``validationError``.
* New ``orderId``: accepted only when the robot has no unfinished order (no node
  states left, no order action running) and the first node is where the robot is
  (its ``lastNodeId``, or within the node's allowed deviation); otherwise
  ``orderError``. The master cancels an order with ``cancelOrder`` first.
* Same ``orderId``: a lower ``orderUpdateId`` is stale -> ``orderUpdateError``;
  the same ``orderUpdateId`` with identical nodes and edges is a resend and is
  ignored (the robot is idempotent, the next state acknowledges it); the same id
  with different content -> ``orderUpdateError``; a higher id must start at the
  last released base node of the current order (same ``nodeId`` and
  ``sequenceId``) - an update that resends earlier base nodes or starts elsewhere
  -> ``orderUpdateError``. An accepted update replaces the old horizon.
* Rejections leave the progress unchanged except for the error they add.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from dataclasses import dataclass
from functools import cached_property

from fleet.protocol.actions import IMMEDIATE_ACTIONS, INSTANT_ACTIONS, TERMINAL, can_transition
from fleet.protocol.messages import (
    Action,
    ActionState,
    ActionStatus,
    AgvPosition,
    BatteryState,
    Edge,
    EdgeState,
    Error,
    ErrorLevel,
    ErrorReference,
    EStop,
    Header,
    InstantActions,
    Load,
    Node,
    NodeState,
    OperatingMode,
    Order,
    SafetyState,
    State,
    Velocity,
)

DEFAULT_DEVIATION_M = 0.5
SAFE = SafetyState(EStop.NONE, False)
ORDER_ERROR_TYPES = frozenset({"validationError", "orderError", "orderUpdateError"})


class Verdict(enum.Enum):
    ACCEPTED = "accepted"  # a new order
    UPDATED = "updated"  # an order update stitched onto the current order
    DUPLICATE = "duplicate"  # a resend of the current update: nothing changes
    REJECTED = "rejected"


@dataclass(frozen=True)
class OrderProgress:
    """What a robot knows about its order; ``node_states``/``edge_states`` are still ahead."""

    order_id: str = ""
    order_update_id: int = 0
    last_node_id: str = ""
    last_node_sequence_id: int = 0
    nodes: tuple[Node, ...] = ()
    edges: tuple[Edge, ...] = ()
    base_end: tuple[str, int] | None = None
    """``(nodeId, sequenceId)`` of the last released node: where the next update must start."""
    last_update: tuple[tuple[Node, ...], tuple[Edge, ...]] | None = None
    order_action_ids: frozenset[str] = frozenset()
    action_states: tuple[ActionState, ...] = ()
    paused: bool = False
    errors: tuple[Error, ...] = ()

    @cached_property
    def node_states(self) -> tuple[NodeState, ...]:
        """Built once per progress (it is immutable): every state a robot sends carries it."""
        return tuple(
            NodeState(n.node_id, n.sequence_id, n.released, n.node_position) for n in self.nodes
        )

    @cached_property
    def edge_states(self) -> tuple[EdgeState, ...]:
        return tuple(EdgeState(e.edge_id, e.sequence_id, e.released) for e in self.edges)

    @property
    def busy(self) -> bool:
        """Still executing (or waiting for an update of) the current order."""
        if self.nodes:
            return True
        return any(
            a.action_id in self.order_action_ids and a.action_status not in TERMINAL
            for a in self.action_states
        )

    def action(self, action_id: str) -> ActionState | None:
        for a in self.action_states:
            if a.action_id == action_id:
                return a
        return None


@dataclass(frozen=True)
class Outcome:
    progress: OrderProgress
    verdict: Verdict
    error: Error | None = None


class _Reject(Exception):
    def __init__(self, error_type: str, description: str) -> None:
        super().__init__(description)
        self.error_type = error_type
        self.description = description


def order_structure_problem(order: Order) -> str | None:
    """Why the node/edge graph of an order breaks the standard's rules, or None."""
    nodes, edges = order.nodes, order.edges
    if not nodes:
        return "an order needs at least one node"
    if len(edges) != len(nodes) - 1:
        return f"{len(nodes)} nodes need {len(nodes) - 1} edges, got {len(edges)}"
    start = nodes[0].sequence_id
    if start % 2:
        return f"node sequenceId must be even, got {start}"
    if not nodes[0].released:
        return "the first node must be released"
    for i, node in enumerate(nodes):
        if node.sequence_id != start + 2 * i:
            return (
                f"node {node.node_id!r} has sequenceId {node.sequence_id}, expected {start + 2 * i}"
            )
        if i and node.released and not nodes[i - 1].released:
            return f"released node {node.node_id!r} follows the horizon"
    for i, edge in enumerate(edges):
        if edge.sequence_id != start + 2 * i + 1:
            expected = start + 2 * i + 1
            return f"edge {edge.edge_id!r} has sequenceId {edge.sequence_id}, expected {expected}"
        if edge.start_node_id != nodes[i].node_id or edge.end_node_id != nodes[i + 1].node_id:
            ends = f"{nodes[i].node_id!r} and {nodes[i + 1].node_id!r}"
            return f"edge {edge.edge_id!r} does not join {ends}"
        if edge.released != nodes[i + 1].released:
            return f"edge {edge.edge_id!r} is released but its end node is not (or the reverse)"
    ids = [a.action_id for a in _order_actions(nodes, edges)]
    if len(ids) != len(set(ids)):
        return "actionIds must be unique within an order"
    return None


def _order_actions(nodes: tuple[Node, ...], edges: tuple[Edge, ...]) -> list[Action]:
    return [a for item in (*nodes, *edges) for a in item.actions]


def _error(error_type: str, description: str, order: Order) -> Error:
    refs = (
        ErrorReference("headerId", str(order.header.header_id)),
        ErrorReference("topic", "order"),
        ErrorReference("orderId", order.order_id),
        ErrorReference("orderUpdateId", str(order.order_update_id)),
    )
    return Error(error_type, ErrorLevel.WARNING, refs, description)


def _last_released(nodes: tuple[Node, ...]) -> Node:
    return [n for n in nodes if n.released][-1]


def _within(node: Node, position: tuple[float, float] | None) -> bool:
    if position is None or node.node_position is None:
        return False
    allowed = node.node_position.allowed_deviation_xy
    allowed = DEFAULT_DEVIATION_M if allowed is None else allowed
    dx, dy = position[0] - node.node_position.x, position[1] - node.node_position.y
    return math.hypot(dx, dy) <= allowed


KEEP_TERMINAL = 32
"""Finished or failed action states a robot keeps reporting, newest registered first.

The manager continues one order for as long as it can (each task's stop actions come
in order updates of the same ``orderId``), so a list that only ever grew would carry
every action of the robot's day in every state message: unbounded memory on both
ends and ever larger frames (the soak's fleet process grew ~2.6 action states a
task, docs/benchmarks.md "Memory: where the fleet's growth went"). The master reads
a terminal status from the first state after it, long before 32 newer actions are
registered; waiting and running actions are never dropped."""


def _waiting(actions: list[Action], known: tuple[ActionState, ...]) -> tuple[ActionState, ...]:
    """``known`` plus a WAITING state for each new action, with at most `KEEP_TERMINAL`
    terminal states (the oldest registered go first)."""
    seen = {a.action_id for a in known}
    new = tuple(
        ActionState(a.action_id, ActionStatus.WAITING, a.action_type, a.action_description)
        for a in actions
        if a.action_id not in seen
    )
    states = known + new
    terminal = sum(1 for a in states if a.action_status in TERMINAL)
    if terminal <= KEEP_TERMINAL:
        return states
    drop = terminal - KEEP_TERMINAL
    kept = []
    for a in states:
        if drop and a.action_status in TERMINAL:
            drop -= 1
            continue
        kept.append(a)
    return tuple(kept)


def _reported(ids: frozenset[str], states: tuple[ActionState, ...]) -> frozenset[str]:
    """The order's action ids that still have a state (a dropped terminal one needs none:
    ``busy`` and ``cancelOrder`` look only at actions not yet terminal)."""
    return ids & {a.action_id for a in states}


KEEP_ERRORS = 32
"""Errors a robot keeps reporting, newest last. Order errors clear with the next accepted
order, but a master that keeps sending rejected orders, or instant actions that end in a
warning (``noOrderToCancel``, ``actionNotSupported``), would otherwise add one to every
state message for ever; as with `KEEP_TERMINAL`, the master reads each error from the
first state after it."""


def _add_error(errors: tuple[Error, ...], error: Error) -> tuple[Error, ...]:
    """``errors`` plus ``error``, the oldest dropped beyond `KEEP_ERRORS`."""
    return (*errors, error)[-KEEP_ERRORS:]


def _clear_order_errors(errors: tuple[Error, ...]) -> tuple[Error, ...]:
    return tuple(e for e in errors if e.error_type not in ORDER_ERROR_TYPES)


def apply_order(
    progress: OrderProgress, order: Order, position: tuple[float, float] | None = None
) -> Outcome:
    """Accept, stitch, ignore or reject an order; ``position`` is the robot's (x, y) if known."""
    try:
        return _apply(progress, order, position)
    except _Reject as reject:
        error = _error(reject.error_type, reject.description, order)
        rejected = dataclasses.replace(progress, errors=_add_error(progress.errors, error))
        return Outcome(rejected, Verdict.REJECTED, error)


def _apply(progress: OrderProgress, order: Order, position: tuple[float, float] | None) -> Outcome:
    problem = order_structure_problem(order)
    if problem is not None:
        raise _Reject("validationError", problem)
    content = (order.nodes, order.edges)
    if order.order_id != progress.order_id:
        return _new_order(progress, order, position)
    if order.order_update_id < progress.order_update_id:
        raise _Reject(
            "orderUpdateError",
            f"orderUpdateId {order.order_update_id} is older than {progress.order_update_id}",
        )
    if order.order_update_id == progress.order_update_id:
        if content == progress.last_update:
            return Outcome(progress, Verdict.DUPLICATE)
        raise _Reject(
            "orderUpdateError",
            f"orderUpdateId {order.order_update_id} was already received with other content",
        )
    return _stitch(progress, order)


def _new_order(
    progress: OrderProgress, order: Order, position: tuple[float, float] | None
) -> Outcome:
    if progress.busy:
        raise _Reject(
            "orderError",
            f"order {progress.order_id!r} is still active; cancel it before sending a new orderId",
        )
    first = order.nodes[0]
    at_first = not progress.last_node_id or first.node_id == progress.last_node_id
    if not (at_first or _within(first, position)):
        raise _Reject(
            "orderError",
            f"first node {first.node_id!r} is not where the robot is ({progress.last_node_id!r})",
        )
    actions = _order_actions(order.nodes, order.edges)
    finished = tuple(a for a in progress.action_states if a.action_status in TERMINAL)
    kept = tuple(a for a in finished if a.action_id not in progress.order_action_ids)
    updated = OrderProgress(
        order_id=order.order_id,
        order_update_id=order.order_update_id,
        last_node_id=first.node_id,
        last_node_sequence_id=first.sequence_id,
        nodes=order.nodes[1:],
        edges=order.edges,
        base_end=(_last_released(order.nodes).node_id, _last_released(order.nodes).sequence_id),
        last_update=(order.nodes, order.edges),
        order_action_ids=frozenset(a.action_id for a in actions),
        action_states=_waiting(actions, kept),
        paused=progress.paused,
        errors=_clear_order_errors(progress.errors),
    )
    return Outcome(updated, Verdict.ACCEPTED)


def _stitch(progress: OrderProgress, order: Order) -> Outcome:
    first = order.nodes[0]
    if progress.base_end is None:
        raise _Reject("orderUpdateError", "there is no base to stitch onto")
    end_id, end_seq = progress.base_end
    if first.sequence_id < end_seq:
        raise _Reject(
            "orderUpdateError",
            f"the update starts at sequenceId {first.sequence_id}, before the last base node "
            f"{end_id!r} ({end_seq}): base nodes must not be resent",
        )
    if (first.node_id, first.sequence_id) != (end_id, end_seq):
        raise _Reject(
            "orderUpdateError",
            f"the update must start at the last base node {end_id!r} (sequenceId {end_seq}), "
            f"got {first.node_id!r} ({first.sequence_id})",
        )
    base_nodes = tuple(n for n in progress.nodes if n.sequence_id < end_seq)
    base_edges = tuple(e for e in progress.edges if e.sequence_id < end_seq)
    stitch = [n for n in progress.nodes if n.sequence_id == end_seq]
    if stitch:  # not reached yet: it stays ahead, carrying both its old and new actions
        merged = stitch[0].actions + tuple(a for a in first.actions if a not in stitch[0].actions)
        base_nodes += (dataclasses.replace(stitch[0], actions=merged),)
    actions = _order_actions(order.nodes, order.edges)
    states = _waiting(actions, progress.action_states)
    updated = dataclasses.replace(
        progress,
        order_update_id=order.order_update_id,
        nodes=base_nodes + order.nodes[1:],
        edges=base_edges + order.edges,
        base_end=(_last_released(order.nodes).node_id, _last_released(order.nodes).sequence_id),
        last_update=(order.nodes, order.edges),
        order_action_ids=_reported(
            progress.order_action_ids | {a.action_id for a in actions}, states
        ),
        action_states=states,
        errors=_clear_order_errors(progress.errors),
    )
    return Outcome(updated, Verdict.UPDATED)


def arrive(progress: OrderProgress, sequence_id: int) -> OrderProgress:
    """The robot reached the released node with this ``sequenceId``: drop what lies behind."""
    target = [n for n in progress.nodes if n.sequence_id == sequence_id]
    if not target or not target[0].released:
        raise ValueError(f"no released node with sequenceId {sequence_id} ahead")
    return dataclasses.replace(
        progress,
        last_node_id=target[0].node_id,
        last_node_sequence_id=sequence_id,
        nodes=tuple(n for n in progress.nodes if n.sequence_id > sequence_id),
        edges=tuple(e for e in progress.edges if e.sequence_id > sequence_id),
    )


def set_action_status(
    progress: OrderProgress, action_id: str, status: ActionStatus, result: str | None = None
) -> OrderProgress:
    """Advance one action along the lifecycle; an illegal step raises ValueError."""
    states = list(progress.action_states)
    for i, state in enumerate(states):
        if state.action_id == action_id:
            if not can_transition(state.action_status, status):
                raise ValueError(
                    f"action {action_id!r}: {state.action_status.value} -> {status.value} "
                    "is not allowed"
                )
            states[i] = dataclasses.replace(state, action_status=status, result_description=result)
            return dataclasses.replace(progress, action_states=tuple(states))
    raise ValueError(f"unknown action {action_id!r}")


def apply_instant_actions(
    progress: OrderProgress,
    message: InstantActions,
    supported: frozenset[str] = INSTANT_ACTIONS,
) -> OrderProgress:
    """Register instant actions (a known ``actionId`` is a resend and is skipped).

    ``startPause``, ``stopPause``, ``cancelOrder``, ``stateRequest`` and
    ``factsheetRequest`` complete here; others stay WAITING for the controller.
    An unsupported type is FAILED with an ``actionNotSupported`` warning.
    """
    for action in message.actions:
        if progress.action(action.action_id) is not None:
            continue
        progress = dataclasses.replace(
            progress, action_states=_waiting([action], progress.action_states)
        )
        if action.action_type not in supported:
            error = Error(
                "actionNotSupported",
                ErrorLevel.WARNING,
                (ErrorReference("actionId", action.action_id),),
                f"instant action {action.action_type!r} is not supported",
            )
            progress = dataclasses.replace(progress, errors=_add_error(progress.errors, error))
            progress = set_action_status(progress, action.action_id, ActionStatus.FAILED)
        elif action.action_type in IMMEDIATE_ACTIONS:
            progress = _immediate(progress, action)
    return progress


def _immediate(progress: OrderProgress, action: Action) -> OrderProgress:
    kind = action.action_type
    if kind == "cancelOrder":
        if not progress.busy:
            error = Error(
                "noOrderToCancel",
                ErrorLevel.WARNING,
                (ErrorReference("actionId", action.action_id),),
                "cancelOrder received with no active order",
            )
            progress = dataclasses.replace(progress, errors=_add_error(progress.errors, error))
            return set_action_status(progress, action.action_id, ActionStatus.FAILED)
        for state in progress.action_states:
            if state.action_id in progress.order_action_ids and state.action_status not in TERMINAL:
                progress = set_action_status(progress, state.action_id, ActionStatus.FAILED)
        progress = dataclasses.replace(progress, nodes=(), edges=(), base_end=None)
    elif kind in ("startPause", "stopPause"):
        progress = dataclasses.replace(progress, paused=kind == "startPause")
    return set_action_status(progress, action.action_id, ActionStatus.FINISHED)


def state_message(
    header: Header,
    progress: OrderProgress,
    *,
    battery: BatteryState,
    driving: bool = False,
    agv_position: AgvPosition | None = None,
    velocity: Velocity | None = None,
    loads: tuple[Load, ...] = (),
    operating_mode: OperatingMode = OperatingMode.AUTOMATIC,
    safety_state: SafetyState = SAFE,
    errors: tuple[Error, ...] = (),
) -> State:
    """The state a robot reports: its order progress plus what its hardware knows."""
    return State(
        header=header,
        order_id=progress.order_id,
        order_update_id=progress.order_update_id,
        last_node_id=progress.last_node_id,
        last_node_sequence_id=progress.last_node_sequence_id,
        node_states=progress.node_states,
        edge_states=progress.edge_states,
        driving=driving,
        action_states=progress.action_states,
        battery_state=battery,
        operating_mode=operating_mode,
        errors=progress.errors + errors,
        safety_state=safety_state,
        paused=progress.paused,
        agv_position=agv_position,
        velocity=velocity,
        loads=loads,
    )
