"""The live bus over real loopback sockets: ingestion, acks, resends, liveness, viewers."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import msgpack
import pytest
from bus_helpers import FAST, LOOPBACK, PATIENT, Recorder, make_state, wait_until

from fleet.bus.acks import AckResult
from fleet.bus.config import BusConfig
from fleet.bus.server import BusServer
from fleet.bus.subscriber import FleetSubscriber
from fleet.protocol import (
    Action,
    BlockingType,
    BusError,
    Connection,
    ConnectionState,
    Edge,
    InstantActions,
    Node,
    Order,
    OrderProgress,
    State,
    Verdict,
    apply_instant_actions,
    apply_order,
    encode,
    to_wire,
)
from fleet.protocol.codec import MAX_MESSAGE_BYTES

NODES = (Node("n0", 0, True), Node("n1", 2, True), Node("n2", 4, False))
EDGES = (Edge("e0", 1, True, "n0", "n1"), Edge("e1", 3, False, "n1", "n2"))


def states_of(recorder: Recorder, robot: str = "acme/r1") -> list[State]:
    return [m for r, m in recorder.of("message") if r == robot and isinstance(m, State)]


@pytest.fixture
def patient_server(recorder: Recorder) -> Iterator[BusServer]:
    """A server whose liveness and resend timers cannot fire during a test (``PATIENT``):
    a robot is still ONLINE and an order still on its first attempt however slow the test."""
    with BusServer(LOOPBACK, insecure=True, config=PATIENT, listener=recorder) as bus:
        yield bus


def test_state_is_ingested_and_registered(
    patient_server: BusServer, recorder: Recorder, clients
) -> None:
    """A robot's state reaches the fleet layer and the registry; it is marked ONLINE."""
    server = patient_server
    client = clients(server.endpoint)
    state = make_state(client)
    client.send(state)
    recorder.wait_for(lambda r: states_of(r))
    record = server.robots()["acme/r1"]
    assert record.last_state == state
    assert record.connection is ConnectionState.ONLINE
    assert ("acme/r1", ConnectionState.ONLINE) in recorder.of("connection")


def test_order_is_acknowledged_by_the_next_state(
    patient_server: BusServer, recorder: Recorder, clients
) -> None:
    """An order goes down, the robot's state with its ids comes up, the fleet gets an ack."""
    server = patient_server
    client = clients(server.endpoint)
    client.send(make_state(client))
    recorder.wait_for(lambda r: states_of(r))
    server.send_order("acme/r1", "o1", 0, NODES, EDGES)
    order = client.receive(30.0)
    assert isinstance(order, Order) and order.order_id == "o1"
    assert order.header.robot_id == "acme/r1"
    outcome = apply_order(OrderProgress(), order)
    client.send(make_state(client, outcome.progress))
    (ack,) = recorder.wait_for(lambda r: r.of("ack"))
    assert ack.result is AckResult.ACCEPTED and ack.order_key == ("o1", 0)
    assert ack.rtt_s > 0 and ack.attempts == 1
    assert server.acks.pending() == 0


def test_unacknowledged_order_is_resent_and_robot_is_idempotent(
    server: BusServer, recorder: Recorder, clients
) -> None:
    """Unacknowledged, the same order (same ids) comes again; applying it twice is a no-op."""
    client = clients(server.endpoint)
    client.send(make_state(client))
    recorder.wait_for(lambda r: states_of(r))
    server.send_order("acme/r1", "o1", 0, NODES, EDGES)
    first = client.receive(30.0)
    progress = apply_order(OrderProgress(), first).progress
    client.send(make_state(client))  # a state that does not yet show the order
    second = client.receive(30.0)
    assert isinstance(second, Order)
    assert (second.order_id, second.order_update_id) == (first.order_id, first.order_update_id)
    assert second == first
    outcome = apply_order(progress, second)
    assert outcome.verdict is Verdict.DUPLICATE and outcome.progress == progress
    client.send(make_state(client, progress))
    (ack,) = recorder.wait_for(lambda r: r.of("ack"))
    assert ack.result is AckResult.ACCEPTED and ack.attempts >= 2
    assert server.stats["resent"] >= 1


def test_rejected_order_is_acknowledged_as_rejected(
    server: BusServer, recorder: Recorder, clients
) -> None:
    """A robot's error referencing the order ends the resending with a REJECTED ack."""
    client = clients(server.endpoint)
    progress = apply_order(OrderProgress(), Order(*_order_fields("o1", 5))).progress
    client.send(make_state(client, progress))
    recorder.wait_for(lambda r: states_of(r))
    server.send_order("acme/r1", "o1", 2, NODES[1:], EDGES[1:])  # stale update
    order = client.receive(30.0)
    outcome = apply_order(progress, order)
    assert outcome.verdict is Verdict.REJECTED
    client.send(make_state(client, outcome.progress))
    (ack,) = recorder.wait_for(lambda r: r.of("ack"))
    assert ack.result is AckResult.REJECTED


def _order_fields(order_id: str, update_id: int) -> tuple:
    from fleet.protocol.examples import header

    return (header(), order_id, update_id, NODES, EDGES)


def test_instant_actions_are_acknowledged(server: BusServer, recorder: Recorder, clients) -> None:
    """Instant actions are acknowledged once every actionId shows in actionStates."""
    client = clients(server.endpoint)
    client.send(make_state(client))
    recorder.wait_for(lambda r: states_of(r))
    actions = (
        Action("startPause", "ia-1", BlockingType.HARD),
        Action("stateRequest", "ia-2", BlockingType.NONE),
    )
    server.send_instant_actions("acme/r1", actions)
    message = client.receive(30.0)
    assert isinstance(message, InstantActions) and message.actions == actions
    progress = apply_instant_actions(OrderProgress(), message)
    client.send(make_state(client, progress))
    (ack,) = recorder.wait_for(lambda r: r.of("ack"))
    assert ack.action_ids == {"ia-1", "ia-2"} and ack.result is AckResult.ACCEPTED


def test_order_to_an_absent_robot_is_delivered_once_it_connects(
    server: BusServer, recorder: Recorder, clients
) -> None:
    """ROUTER_MANDATORY makes the first send fail; a resend reaches the robot once connected."""
    server.send_order("acme/r9", "o1", 0, NODES, EDGES)
    wait_until(lambda: server.stats["unroutable"] >= 1)
    client = clients(server.endpoint, "r9")
    client.send(make_state(client))
    order = client.receive(30.0)
    assert isinstance(order, Order) and order.order_id == "o1"


def test_silent_robot_is_marked_connection_broken(
    server: BusServer, recorder: Recorder, clients
) -> None:
    """A robot silent for missed_heartbeats intervals is CONNECTIONBROKEN and the fleet is told."""
    client = clients(server.endpoint)
    client.send(make_state(client))
    recorder.wait_for(
        lambda r: ("acme/r1", ConnectionState.CONNECTIONBROKEN) in r.of("connection"),
        timeout_s=60,
    )
    assert server.robots()["acme/r1"].connection is ConnectionState.CONNECTIONBROKEN
    client.send(make_state(client))  # any message brings it back
    recorder.wait_for(lambda r: r.of("connection")[-1] == ("acme/r1", ConnectionState.ONLINE))


def test_clean_shutdown_says_offline(server: BusServer, recorder: Recorder, clients) -> None:
    """close() sends connection OFFLINE; the robot is then not expected to heartbeat."""
    client = clients(server.endpoint)
    client.send(make_state(client))
    recorder.wait_for(lambda r: states_of(r))
    client.close()
    recorder.wait_for(lambda r: ("acme/r1", ConnectionState.OFFLINE) in r.of("connection"))
    assert server.liveness.last_seen("acme/r1") is None


def _bad_frames(client) -> dict[str, list[bytes]]:
    good = make_state(client)
    wire = to_wire(good)
    missing = {k: v for k, v in wire.items() if k != "orderId"}
    wrong = {**wire, "driving": "yes"}
    other = {**wire, "serialNumber": "r2"}
    stale = {**wire, "headerId": 0}
    broken = Connection(client.header("connection"), ConnectionState.CONNECTIONBROKEN)
    return {
        "not_msgpack": [b"state", b"\xc1\xc1"],
        "validation": [b"state", msgpack.packb(missing)],
        "validation ": [b"state", msgpack.packb(wrong)],
        "validation  ": list(encode(broken)),
        "unknown_topic": [b"teleport", msgpack.packb(wire)],
        "unknown_topic ": [b"order", msgpack.packb(to_wire(Order(*_order_fields("o", 0))))],
        "oversized": [b"state", b"\x00" * (MAX_MESSAGE_BYTES + 10)],
        "identity": [b"state", msgpack.packb(other)],
        "stale_header": [b"state", msgpack.packb(stale)],
        "framing": [b"state", b"x", b"y"],
    }


def test_bad_input_is_rejected_counted_answered_and_changes_nothing(
    server: BusServer, recorder: Recorder, clients
) -> None:
    """Each kind of bad frame is refused with its reason, answered, and changes no state."""
    client = clients(server.endpoint)
    first = make_state(client)
    client.send(dataclasses.replace(first, header=dataclasses.replace(first.header, header_id=50)))
    recorder.wait_for(lambda r: states_of(r))
    before = server.robots()["acme/r1"]
    cases = _bad_frames(client)
    for expected, frames in cases.items():
        client.socket.send_multipart(frames)
        answer = client.receive(30.0)
        assert isinstance(answer, BusError), expected
        assert answer.reason == expected.strip()
    after = server.robots()["acme/r1"]
    assert after.last_state == before.last_state and after.messages == before.messages
    reasons = server.counters()["rejected_by_reason"]
    assert sum(reasons.values()) == len(cases)
    assert reasons["validation"] == 3 and reasons["unknown_topic"] == 2
    assert len(recorder.of("reject")) == len(cases)
    good = make_state(client)
    client.send(dataclasses.replace(good, header=dataclasses.replace(good.header, header_id=51)))
    recorder.wait_for(lambda r: len(states_of(r)) == 2)


def test_robot_restart_resets_header_numbering(
    server: BusServer, recorder: Recorder, clients
) -> None:
    """A new session (a new connection) may number its headers from 0 again."""
    client = clients(server.endpoint)
    for header_id in (50, 51):
        state = make_state(client)
        client.send(
            dataclasses.replace(
                state, header=dataclasses.replace(state.header, header_id=header_id)
            )
        )
    recorder.wait_for(lambda r: len(states_of(r)) == 2)
    client.close(clean=False)
    again = clients(server.endpoint)

    def back_in() -> bool:
        # taken over as soon as the server has seen the old connection close: usually the
        # first message, else the next one (the server learns it from a failed notice)
        again.send(make_state(again))
        return len(states_of(recorder)) >= 3

    wait_until(back_in, timeout_s=60, step_s=0.1)
    assert states_of(recorder)[2].header.header_id < 50  # numbered from 0 again


def test_client_reconnects_to_a_restarted_server(recorder: Recorder, clients) -> None:
    """After the server restarts on the same endpoint the robot reconnects and says ONLINE again."""
    first = BusServer(LOOPBACK, insecure=True, config=FAST, listener=recorder).start()
    endpoint = first.endpoint
    client = clients(endpoint, reconnect_ivl_ms=20, reconnect_ivl_max_ms=100)
    client.send(make_state(client))
    recorder.wait_for(lambda r: states_of(r))
    first.stop()
    second_recorder = Recorder()
    second = BusServer(endpoint, insecure=True, config=FAST, listener=second_recorder).start()
    try:
        wait_until(lambda: client.receive(0.05) is None and client.connections >= 2)
        second_recorder.wait_for(
            lambda r: ("acme/r1", ConnectionState.ONLINE) in r.of("connection")
        )
        client.send(make_state(client))
        assert second_recorder.wait_for(lambda r: states_of(r))
        assert client.connections >= 2
    finally:
        second.stop()


def test_late_subscriber_gets_a_snapshot_then_updates(
    server: BusServer, recorder: Recorder, clients, context
) -> None:
    """A late viewer starts from the last value of every key, then applies newer updates only."""
    robots = [clients(server.endpoint, f"r{i}") for i in range(3)]
    for client in robots:
        client.send(make_state(client))
    recorder.wait_for(lambda r: len([m for _, m in r.of("message") if isinstance(m, State)]) == 3)
    viewer = FleetSubscriber(server.pub_endpoint, server.snapshot_endpoint, context=context)
    try:
        seq = viewer.snapshot()
        assert {k for t, k in viewer.values if t == "state"} == {"acme/r0", "acme/r1", "acme/r2"}
        assert seq >= 6  # three connection + three state updates
        state = make_state(robots[1])
        robots[1].send(state)
        updates = []
        # other robots' CONNECTIONBROKEN updates may come first (FAST liveness): wait for ours
        wait_until(
            lambda: (
                updates.extend(viewer.poll(0.05))
                or viewer.values.get(("state", "acme/r1")) == state
            )
        )
        assert updates and all(u.seq > seq for u in updates)
    finally:
        viewer.close()


def test_pub_stream_is_read_only(server: BusServer, context) -> None:
    """Anything but a snapshot request on the viewer side is ignored and changes nothing."""
    import zmq

    dealer = context.socket(zmq.DEALER)
    dealer.setsockopt(zmq.LINGER, 0)
    dealer.connect(server.snapshot_endpoint)
    wire = to_wire(make_state_for("acme", "r5"))
    dealer.send_multipart([b"state", msgpack.packb({"headerId": wire["headerId"]})])
    dealer.send(b"snapshot")
    assert dealer.poll(5000)
    frames = dealer.recv_multipart()
    assert frames[0] == b"snapshotEnd"
    assert server.stats["snapshot_bad_request"] == 1
    assert "acme/r5" not in server.robots()
    dealer.close()


def make_state_for(manufacturer: str, serial: str) -> State:
    from fleet.protocol.examples import state

    s = state()
    return dataclasses.replace(
        s, header=dataclasses.replace(s.header, manufacturer=manufacturer, serial_number=serial)
    )


def test_server_requires_an_explicit_security_choice() -> None:
    """Plain TCP needs an explicit insecure flag."""
    from wms.errors import InputError

    with pytest.raises(InputError):
        BusServer(LOOPBACK)


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_liveness_follows_the_injected_clock(recorder: Recorder, clients) -> None:
    """With an hour-long timeout on a fake clock, silence is detected once the clock moves."""
    clock = FakeClock()
    config = BusConfig(heartbeat_interval_s=1200.0, missed_heartbeats=3)
    server = BusServer(LOOPBACK, insecure=True, config=config, listener=recorder, clock=clock)
    server.start()
    try:
        client = clients(server.endpoint)
        client.send(make_state(client))
        recorder.wait_for(lambda r: states_of(r))
        clock.now += 3599.0
        client.send(make_state(client))  # heard at 4599: the deadline moves to 8199
        recorder.wait_for(lambda r: len(states_of(r)) == 2)
        clock.now += 3601.0
        recorder.wait_for(
            lambda r: ("acme/r1", ConnectionState.CONNECTIONBROKEN) in r.of("connection")
        )
        assert server.liveness.last_seen("acme/r1") is None
    finally:
        server.stop()


def test_frame_above_the_transport_limit_drops_only_that_connection(
    server: BusServer, recorder: Recorder, clients, context
) -> None:
    """A frame beyond ZMQ_MAXMSGSIZE disconnects its sender; the server serves everyone else."""
    import zmq

    good = clients(server.endpoint)
    good.send(make_state(good))
    recorder.wait_for(lambda r: states_of(r))
    hostile = context.socket(zmq.DEALER)
    hostile.setsockopt(zmq.LINGER, 0)
    hostile.setsockopt(zmq.ROUTING_ID, b"acme/big")
    monitor = hostile.get_monitor_socket(zmq.EVENT_DISCONNECTED)
    hostile.connect(server.endpoint)
    hostile.send_multipart([b"state", b"\x00" * (4 * MAX_MESSAGE_BYTES + 1)])
    assert monitor.poll(5000), "the server should drop the oversized sender"
    hostile.disable_monitor()
    monitor.close(linger=0)
    hostile.close(linger=0)
    good.send(make_state(good))
    recorder.wait_for(lambda r: len(states_of(r)) == 2)
    assert "acme/big" not in server.robots()
