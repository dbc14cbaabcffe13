"""Robot-side order rules: acceptance, base/horizon stitching, instant actions (VDA 5050 v2)."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleet.protocol import (
    Action,
    ActionStatus,
    BlockingType,
    Edge,
    InstantActions,
    Node,
    Order,
    OrderProgress,
    Verdict,
    apply_instant_actions,
    apply_order,
    arrive,
    set_action_status,
)
from fleet.protocol.examples import header
from fleet.protocol.orders import KEEP_ERRORS, KEEP_TERMINAL, order_structure_problem


def path_order(
    order_id: str, update_id: int, first: int, last: int, released_to: int, actions: bool = False
) -> Order:
    """Nodes n<first>..n<last> in a line, released up to n<released_to>; n<i> has sequenceId 2i."""
    nodes, edges = [], []
    for i in range(first, last + 1):
        node_actions = (
            (Action("drop", f"{order_id}-drop-{i}", BlockingType.HARD),) if actions else ()
        )
        nodes.append(Node(f"n{i}", 2 * i, i <= released_to, node_actions))
        if i > first:
            edges.append(Edge(f"e{i - 1}", 2 * i - 1, i <= released_to, f"n{i - 1}", f"n{i}"))
    return Order(header(update_id), order_id, update_id, tuple(nodes), tuple(edges))


def accepted(progress: OrderProgress, order: Order) -> OrderProgress:
    outcome = apply_order(progress, order)
    assert outcome.verdict in (Verdict.ACCEPTED, Verdict.UPDATED), outcome.error
    return outcome.progress


def seqs(progress: OrderProgress) -> list[int]:
    return [n.sequence_id for n in progress.nodes]


def test_new_order_on_an_idle_robot_is_accepted() -> None:
    """The first node counts as reached; the rest (base and horizon) are node states ahead."""
    outcome = apply_order(OrderProgress(), path_order("o1", 0, 0, 4, 2, actions=True))
    assert outcome.verdict is Verdict.ACCEPTED
    p = outcome.progress
    assert (p.order_id, p.order_update_id, p.last_node_id) == ("o1", 0, "n0")
    assert seqs(p) == [2, 4, 6, 8]
    assert [n.released for n in p.node_states] == [True, True, False, False]
    assert p.base_end == ("n2", 4)
    assert {a.action_status for a in p.action_states} == {ActionStatus.WAITING}
    assert len(p.action_states) == 5


def test_update_at_last_base_node_extends_base_and_replaces_horizon() -> None:
    """An update starting at the last released node stitches on; the old horizon is dropped."""
    p = accepted(OrderProgress(), path_order("o1", 0, 0, 4, 2))
    update = dataclasses.replace(path_order("o1", 1, 2, 6, 5), header=header(2))
    outcome = apply_order(p, update)
    assert outcome.verdict is Verdict.UPDATED
    assert seqs(outcome.progress) == [2, 4, 6, 8, 10, 12]
    assert outcome.progress.base_end == ("n5", 10)
    assert outcome.progress.order_update_id == 1
    assert [e.sequence_id for e in outcome.progress.edges] == [1, 3, 5, 7, 9, 11]


def test_update_after_the_robot_reached_the_stitching_node() -> None:
    """When the robot stands on the last base node, the update's nodes are all that is ahead."""
    p = accepted(OrderProgress(), path_order("o1", 0, 0, 4, 2))
    p = arrive(arrive(p, 2), 4)
    assert seqs(p) == [6, 8]
    p = accepted(p, path_order("o1", 1, 2, 5, 5))
    assert seqs(p) == [6, 8, 10]
    assert p.last_node_id == "n2"


def test_update_resending_earlier_base_nodes_is_rejected() -> None:
    """An update must not start before the last base node (no resending of base)."""
    p = accepted(OrderProgress(), path_order("o1", 0, 0, 4, 2))
    outcome = apply_order(p, path_order("o1", 1, 0, 6, 5))
    assert outcome.verdict is Verdict.REJECTED
    assert outcome.error is not None and outcome.error.error_type == "orderUpdateError"
    assert outcome.progress == dataclasses.replace(p, errors=(outcome.error,))


def test_update_starting_in_the_horizon_is_rejected() -> None:
    """Starting at a node that was never released is not a valid stitch."""
    p = accepted(OrderProgress(), path_order("o1", 0, 0, 4, 2))
    outcome = apply_order(p, path_order("o1", 1, 3, 6, 5))
    assert outcome.verdict is Verdict.REJECTED
    assert outcome.error.error_type == "orderUpdateError"


def test_stale_update_is_rejected_with_references() -> None:
    """A lower orderUpdateId is refused with an error naming the order and update."""
    p = accepted(OrderProgress(), path_order("o1", 0, 0, 4, 2))
    p = accepted(p, path_order("o1", 3, 2, 6, 5))
    outcome = apply_order(p, path_order("o1", 2, 5, 6, 6))
    assert outcome.verdict is Verdict.REJECTED
    assert outcome.error.error_type == "orderUpdateError"
    assert outcome.error.reference("orderId") == "o1"
    assert outcome.error.reference("orderUpdateId") == "2"
    assert outcome.progress.errors[-1] == outcome.error
    assert seqs(outcome.progress) == seqs(p)


def test_resent_update_is_an_idempotent_duplicate() -> None:
    """The same orderId/orderUpdateId with the same content changes nothing and adds no error."""
    order = path_order("o1", 0, 0, 4, 2, actions=True)
    p = accepted(OrderProgress(), order)
    again = apply_order(p, dataclasses.replace(order, header=header(99)))
    assert again.verdict is Verdict.DUPLICATE
    assert again.progress == p


def test_same_update_id_with_other_content_is_rejected() -> None:
    """Reusing an orderUpdateId for different nodes is a conflicting duplicate."""
    p = accepted(OrderProgress(), path_order("o1", 0, 0, 4, 2))
    outcome = apply_order(p, path_order("o1", 0, 0, 4, 3))
    assert outcome.verdict is Verdict.REJECTED
    assert outcome.error.error_type == "orderUpdateError"


def test_new_order_while_busy_is_rejected_until_cancelled() -> None:
    """A new orderId needs the old order finished or cancelled."""
    p = accepted(OrderProgress(), path_order("o1", 0, 0, 4, 2))
    outcome = apply_order(p, path_order("o2", 0, 0, 2, 2))
    assert outcome.verdict is Verdict.REJECTED
    assert outcome.error.error_type == "orderError"
    cancel = InstantActions(header(), (Action("cancelOrder", "c1", BlockingType.HARD),))
    p = apply_instant_actions(p, cancel)
    assert p.action("c1").action_status is ActionStatus.FINISHED
    assert p.nodes == () and not p.busy
    assert apply_order(p, path_order("o2", 0, 0, 2, 2)).verdict is Verdict.ACCEPTED


def test_new_order_after_finishing_must_start_where_the_robot_is() -> None:
    """After the last node, a new order is accepted if its first node is the robot's node."""
    p = accepted(OrderProgress(), path_order("o1", 0, 0, 2, 2))
    p = arrive(p, 4)
    assert not p.busy
    far = path_order("o2", 0, 5, 7, 7)
    assert apply_order(p, far).error.error_type == "orderError"
    near = Order(
        header(),
        "o2",
        0,
        (Node("n2", 0, True), Node("n3", 2, True)),
        (Edge("e2", 1, True, "n2", "n3"),),
    )
    assert apply_order(p, near).verdict is Verdict.ACCEPTED


def test_order_errors_clear_when_an_order_is_accepted() -> None:
    """An accepted order or update removes earlier order errors from the state."""
    p = accepted(OrderProgress(), path_order("o1", 0, 0, 4, 2))
    p = apply_order(p, path_order("o1", 0, 0, 4, 3)).progress
    assert p.errors
    assert accepted(p, path_order("o1", 1, 2, 4, 4)).errors == ()


@pytest.mark.parametrize(
    ("order", "problem"),
    [
        (Order(header(), "o", 0, (), ()), "at least one node"),
        (path_order("o", 0, 0, 2, -1), "first node must be released"),
        (
            Order(header(), "o", 0, (Node("a", 1, True),), ()),
            "must be even",
        ),
        (
            Order(
                header(),
                "o",
                0,
                (Node("a", 0, True), Node("b", 4, True)),
                (Edge("e", 1, True, "a", "b"),),
            ),
            "expected 2",
        ),
        (
            Order(
                header(),
                "o",
                0,
                (Node("a", 0, True), Node("b", 2, True)),
                (Edge("e", 1, True, "a", "c"),),
            ),
            "does not join",
        ),
        (
            Order(
                header(),
                "o",
                0,
                (Node("a", 0, True), Node("b", 2, False), Node("c", 4, True)),
                (
                    Edge("e1", 1, False, "a", "b"),
                    Edge("e2", 3, True, "b", "c"),
                ),
            ),
            "follows the horizon",
        ),
        (
            Order(
                header(),
                "o",
                0,
                (Node("a", 0, True), Node("b", 2, False)),
                (Edge("e1", 1, True, "a", "b"),),
            ),
            "released but",
        ),
        (
            Order(header(), "o", 0, (Node("a", 0, True), Node("b", 2, True)), ()),
            "need 1 edges",
        ),
    ],
)
def test_malformed_graphs_are_validation_errors(order: Order, problem: str) -> None:
    """Structural rule violations are named and rejected as validationError."""
    found = order_structure_problem(order)
    assert found is not None and problem in found
    outcome = apply_order(OrderProgress(), order)
    assert outcome.verdict is Verdict.REJECTED
    assert outcome.error.error_type == "validationError"


def test_instant_actions_are_idempotent() -> None:
    """Receiving the same instant actions twice registers and executes them once."""
    message = InstantActions(
        header(),
        (
            Action("startPause", "p1", BlockingType.HARD),
            Action("startCharging", "c1", BlockingType.HARD),
            Action("fly", "f1", BlockingType.NONE),
        ),
    )
    once = apply_instant_actions(OrderProgress(), message)
    assert once.paused
    assert once.action("p1").action_status is ActionStatus.FINISHED
    assert once.action("c1").action_status is ActionStatus.WAITING
    assert once.action("f1").action_status is ActionStatus.FAILED
    assert [e.error_type for e in once.errors] == ["actionNotSupported"]
    assert apply_instant_actions(once, message) == once


def test_cancel_without_order_fails_with_an_error() -> None:
    """cancelOrder with nothing to cancel is FAILED and reported."""
    p = apply_instant_actions(
        OrderProgress(), InstantActions(header(), (Action("cancelOrder", "c", BlockingType.HARD),))
    )
    assert p.action("c").action_status is ActionStatus.FAILED
    assert p.errors[0].error_type == "noOrderToCancel"


def test_warnings_from_instant_actions_are_bounded() -> None:
    """500 cancelOrders with nothing to cancel: the state reports the newest `KEEP_ERRORS`
    warnings and the newest `KEEP_TERMINAL` failed actions, not all 500."""
    p = OrderProgress()
    for k in range(500):
        p = apply_instant_actions(
            p, InstantActions(header(), (Action("cancelOrder", f"c{k}", BlockingType.HARD),))
        )
    assert len(p.errors) == KEEP_ERRORS
    assert [e.error_references[0].reference_value for e in p.errors] == [
        f"c{k}" for k in range(500 - KEEP_ERRORS, 500)
    ]
    assert len(p.action_states) <= KEEP_TERMINAL + 1  # the bound applies as each is added


def test_cancel_fails_the_pending_order_actions() -> None:
    """Cancelling an order marks its unfinished actions FAILED and clears nodes and edges."""
    p = accepted(OrderProgress(), path_order("o1", 0, 0, 3, 3, actions=True))
    p = set_action_status(p, "o1-drop-0", ActionStatus.FINISHED)
    p = apply_instant_actions(
        p, InstantActions(header(), (Action("cancelOrder", "c", BlockingType.HARD),))
    )
    statuses = {a.action_id: a.action_status for a in p.action_states}
    assert statuses["o1-drop-0"] is ActionStatus.FINISHED
    assert statuses["o1-drop-1"] is ActionStatus.FAILED
    assert p.node_states == () and p.edge_states == ()


def test_action_lifecycle_is_enforced() -> None:
    """Actions move forward only (RUNNING <-> PAUSED excepted) and end in FINISHED or FAILED."""
    p = accepted(OrderProgress(), path_order("o1", 0, 0, 1, 1, actions=True))
    a = "o1-drop-1"
    for status in ("INITIALIZING", "RUNNING", "PAUSED", "RUNNING", "FINISHED"):
        p = set_action_status(p, a, ActionStatus(status))
    with pytest.raises(ValueError, match="not allowed"):
        set_action_status(p, a, ActionStatus.RUNNING)
    with pytest.raises(ValueError, match="unknown action"):
        set_action_status(p, "nope", ActionStatus.RUNNING)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 8), st.integers(0, 4)), max_size=12))
def test_any_update_sequence_keeps_progress_consistent(steps) -> None:
    """Whatever updates arrive, node states stay ordered, released-first, and ids never go back."""
    p = accepted(OrderProgress(), path_order("o1", 0, 0, 3, 1))
    for update_id, first, length in steps:
        last = first + length
        outcome = apply_order(p, path_order("o1", update_id, first, last, (first + last) // 2))
        if outcome.verdict is Verdict.REJECTED:
            assert outcome.progress.nodes == p.nodes
        assert outcome.progress.order_update_id >= p.order_update_id
        p = outcome.progress
        s = seqs(p)
        assert s == sorted(s) and len(s) == len(set(s))
        released = [n.released for n in p.nodes]
        assert released == sorted(released, reverse=True)


def test_a_long_lived_order_reports_a_bounded_number_of_finished_actions() -> None:
    """One orderId continued by 200 updates, each with an action that then finishes: the
    state carries the waiting ones and the newest `KEEP_TERMINAL` finished ones, not all
    200 (the soak's fleet process grew by every action a robot ever finished)."""
    p = accepted(OrderProgress(), path_order("o1", 0, 0, 1, 1, actions=True))
    for k in range(1, 201):
        p = arrive(p, 2 * k)
        p = set_action_status(p, f"o1-drop-{k}", ActionStatus.RUNNING)
        p = set_action_status(p, f"o1-drop-{k}", ActionStatus.FINISHED)
        p = accepted(p, path_order("o1", k, k, k + 1, k + 1, actions=True))
    finished = [a.action_id for a in p.action_states if a.action_status is ActionStatus.FINISHED]
    assert finished == [f"o1-drop-{k}" for k in range(201 - KEEP_TERMINAL, 201)]
    waiting = {a.action_id for a in p.action_states if a.action_status is ActionStatus.WAITING}
    assert waiting == {"o1-drop-0", "o1-drop-201"}  # never dropped, whatever their age
    assert len(p.order_action_ids) == KEEP_TERMINAL + 2
    assert p.busy
    # the stitching node's action, resent in the next update, is not registered again
    again = accepted(p, path_order("o1", 201, 201, 202, 202, actions=True))
    assert [a.action_id for a in again.action_states].count("o1-drop-201") == 1
