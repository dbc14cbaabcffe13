"""Client-side robustness: the robot drops bad downstream frames, the viewer heals gaps."""

from __future__ import annotations

import threading

import msgpack
import zmq
from bus_helpers import wait_until

from fleet.bus.robot_client import RobotClient
from fleet.bus.server import SNAPSHOT_END
from fleet.bus.subscriber import FleetSubscriber
from fleet.protocol import Order, encode
from fleet.protocol.examples import order, state


def test_robot_drops_invalid_downstream_frames(context: zmq.Context) -> None:
    """Garbage, wrong topics and upstream-only messages from the server are dropped and counted."""
    router = context.socket(zmq.ROUTER)
    router.setsockopt(zmq.LINGER, 0)
    port = router.bind_to_random_port("tcp://127.0.0.1")
    client = RobotClient(f"tcp://127.0.0.1:{port}", "acme", "r1", context=context).connect()
    try:
        identity, topic, _body = router.recv_multipart()  # the ONLINE announcement
        assert topic == b"connection"
        router.send_multipart([identity, b"order", b"\xc1"])
        router.send_multipart([identity, b"teleport", msgpack.packb({})])
        router.send_multipart([identity, *encode(state())])  # robots do not receive states
        router.send_multipart([identity, b"only-one-frame"])
        router.send_multipart([identity, *encode(order())])
        received = client.receive(30.0)
        assert isinstance(received, Order) and received == order()
        assert client.rejected == {"not_msgpack": 1, "unknown_topic": 2, "framing": 1}
    finally:
        client.close(clean=False)
        router.close(linger=0)


def test_viewer_takes_a_new_snapshot_after_a_gap(context: zmq.Context) -> None:
    """A sequence gap makes the viewer fetch a fresh snapshot and report what it changed."""
    pub = context.socket(zmq.PUB)
    pub.setsockopt(zmq.LINGER, 0)
    snap = context.socket(zmq.ROUTER)
    snap.setsockopt(zmq.LINGER, 0)
    pub_port = pub.bind_to_random_port("tcp://127.0.0.1")
    snap_port = snap.bind_to_random_port("tcp://127.0.0.1")
    _, body = encode(state())
    requests = []
    stop = threading.Event()

    def serve_snapshots() -> None:
        while not stop.is_set():
            if not snap.poll(50):
                continue
            identity, _request = snap.recv_multipart()
            requests.append(identity)
            if len(requests) == 2:  # the re-snapshot carries the value published in the gap
                snap.send_multipart([identity, b"state", b"acme/r1", (2).to_bytes(8, "big"), body])
            seq = 0 if len(requests) == 1 else 10
            snap.send_multipart([identity, SNAPSHOT_END, b"", seq.to_bytes(8, "big"), b""])

    server = threading.Thread(target=serve_snapshots, daemon=True)
    server.start()
    viewer = FleetSubscriber(
        f"tcp://127.0.0.1:{pub_port}", f"tcp://127.0.0.1:{snap_port}", context=context
    )
    try:
        assert viewer.snapshot() == 0
        applied: list = []

        def first_update_arrives() -> bool:
            pub.send_multipart(
                [b"connection", b"acme/r1", (1).to_bytes(8, "big"), msgpack.packb({})]
            )
            applied.extend(viewer.poll(0.02))
            return viewer.seq == 1 or viewer.bad_frames > 0

        wait_until(first_update_arrives)
        pub.send_multipart([b"state", b"acme/r1", (3).to_bytes(8, "big"), body])  # 2 was lost
        healed: list = []
        wait_until(lambda: healed.extend(viewer.poll(0.02)) or viewer.snapshots == 2)
        assert viewer.seq == 10
        assert viewer.values[("state", "acme/r1")] == state()
        # the change that arrived only through the re-snapshot is reported as an update
        assert [(u.topic, u.key, u.seq) for u in healed] == [("state", "acme/r1", 2)]
    finally:
        stop.set()
        server.join(5)
        viewer.close()
        pub.close(linger=0)
        snap.close(linger=0)
