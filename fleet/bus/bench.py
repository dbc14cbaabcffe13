"""Bus benchmark: state ingestion rate and order -> acknowledging-state round trip.

The server runs in this process (its loop on a thread, as `warehouse serve` would
run it); the simulated robots run in a separate process so the server's figures
are not flattered by sharing an interpreter with the load generator. Every robot
is a real `RobotClient` (one DEALER each on one context) that applies orders with
the real order rules and acknowledges them with its next state.

Counted: states the robots sent vs states the server accepted (``lost`` is the
difference after a drain), the server's accepted states per second over the
measured window, and the round trip of each order from the server sending it to
the acknowledging state arriving (``rtt_ms_p50`` / ``rtt_ms_p99``). A codec
baseline in the same run compares decoding a state from msgpack with decoding the
same map from JSON.
"""

from __future__ import annotations

import json
import multiprocessing
import sys
import tempfile
import threading
import time
import timeit
from dataclasses import dataclass
from multiprocessing.connection import Connection as Pipe
from typing import Any

import msgpack
import numpy as np
import zmq

from fleet.bus.acks import Ack, AckResult
from fleet.bus.config import BusConfig
from fleet.bus.keys import generate_keys
from fleet.bus.robot_client import ClientKeys, RobotClient
from fleet.bus.server import BusListener, BusServer
from fleet.protocol.codec import decode, encode, from_wire
from fleet.protocol.examples import state as example_state
from fleet.protocol.messages import (
    BatteryState,
    ConnectionState,
    Message,
    Node,
    Order,
    State,
)
from fleet.protocol.orders import OrderProgress, apply_order, state_message

MANUFACTURER = "bench"
HOME = (Node("home", 0, True),)


@dataclass(frozen=True)
class BenchParams:
    robots: int
    rate_hz: float
    seconds: float
    order_rate_hz: float = 0.0
    """Orders per robot per second (0: ingestion only)."""
    curve: bool = False
    max_batch: int = 2000
    """Frames the server reads per wake-up; 1 is the naive one-poll-per-message baseline."""


class _Meter(BusListener):
    def __init__(self, clock: Any) -> None:
        self.clock = clock
        self.states = 0
        self.first: float | None = None
        self.last = 0.0
        self.online = 0
        self.rtts: list[float] = []
        self.failed_acks = 0
        self.ready = threading.Condition()

    def on_message(self, robot: str, message: Message) -> None:
        if isinstance(message, State):
            now = self.clock()
            if self.first is None:
                self.first = now
            self.last = now
            self.states += 1

    def on_connection(self, robot: str, state: ConnectionState) -> None:
        with self.ready:
            self.online += 1 if state is ConnectionState.ONLINE else -1
            self.ready.notify_all()

    def on_ack(self, ack: Ack) -> None:
        if ack.result is AckResult.ACCEPTED:
            self.rtts.append(ack.rtt_s)
        else:
            self.failed_acks += 1


def _serial(i: int) -> str:
    return f"robot-{i:04d}"


def _robot_process(endpoint: str, params: BenchParams, keys_dir: str | None, pipe: Pipe) -> None:
    """The simulated fleet: N clients sending states on a staggered schedule, acking orders."""
    context = zmq.Context()
    context.set(zmq.MAX_SOCKETS, params.robots + 64)
    battery = BatteryState(80.0, False)
    clients = []
    for i in range(params.robots):
        keys = (
            ClientKeys.from_folder(keys_dir, f"{MANUFACTURER}/{_serial(i)}") if keys_dir else None
        )
        clients.append(
            RobotClient(
                endpoint, MANUFACTURER, _serial(i), keys=keys, context=context, monitor=False
            )
        )
    for client in clients:
        client.connect()
    progress = [OrderProgress() for _ in clients]
    poller = zmq.Poller()
    index = {}
    for i, client in enumerate(clients):
        assert client.socket is not None
        poller.register(client.socket, zmq.POLLIN)
        index[client.socket] = i
    pipe.send("connected")
    pipe.recv()  # go
    sent = 0
    period = 1.0 / (params.rate_hz * params.robots)
    start = time.monotonic()
    end = start + params.seconds
    j = 0
    listen = params.order_rate_hz > 0

    def send_state(i: int) -> None:
        nonlocal sent
        client = clients[i]
        if client.send(state_message(client.header("state"), progress[i], battery=battery)):
            sent += 1

    while True:
        now = time.monotonic()
        if now >= end:
            break
        due = start + j * period
        while due <= now:
            send_state(j % params.robots)
            j += 1
            due = start + j * period
        timeout_ms = max(0.0, (due - time.monotonic()) * 1000)
        if not listen:
            time.sleep(timeout_ms / 1000)
            continue
        for socket, _ in poller.poll(timeout_ms):
            i = index[socket]
            message = clients[i].receive(0)
            if isinstance(message, Order):
                progress[i] = apply_order(progress[i], message).progress
                send_state(i)  # the acknowledgement
    dropped = sum(c.dropped for c in clients)
    pipe.send({"sent": sent, "dropped": dropped, "elapsed": time.monotonic() - start})
    pipe.recv()  # the server has drained
    for client in clients:
        client.close(clean=False)
    context.destroy(linger=0)


def _typical_state() -> State:
    """What the bench robots send: an idle robot's state with no optional extras."""
    header = example_state().header
    return state_message(header, OrderProgress(), battery=BatteryState(80.0, False))


def codec_baseline(repeat: int = 2000) -> dict[str, dict[str, float]]:
    """Median microseconds to decode one state: msgpack (ours) vs JSON, validation included.

    ``typical`` is the state the bench robots send; ``rich`` has every optional field
    set (docs/protocol.md's example). ``unpack_us`` / ``parse_us_json`` are parsing
    alone, without building typed, validated messages.
    """

    def per_message(fn: Any) -> float:
        runs = timeit.repeat(fn, number=repeat // 10, repeat=10)
        return float(np.median(runs)) / (repeat // 10) * 1e6

    figures = {}
    for name, message in (("typical", _typical_state()), ("rich", example_state())):
        topic, body = encode(message)
        as_json = json.dumps(msgpack.unpackb(body, raw=False)).encode()
        ours = per_message(lambda topic=topic, body=body: decode(topic, body))
        baseline = per_message(lambda as_json=as_json: from_wire("state", json.loads(as_json)))
        unpack = per_message(lambda body=body: msgpack.unpackb(body, raw=False))
        parse_json = per_message(lambda as_json=as_json: json.loads(as_json))
        figures[name] = {
            "bytes_msgpack": len(body),
            "bytes_json": len(as_json),
            "decode_us_msgpack": round(ours, 2),
            "decode_us_json": round(baseline, 2),
            "unpack_us": round(unpack, 2),
            "parse_us_json": round(parse_json, 2),
            "json_over_msgpack": round(baseline / ours, 2),
        }
    return figures


def run_bench(params: BenchParams, progress: bool = False) -> dict[str, Any]:
    """Run one scenario and return the figures (see the module docstring)."""
    keys_dir = None
    tmp = None
    if params.curve:
        tmp = tempfile.TemporaryDirectory()
        keys_dir = tmp.name
        generate_keys(keys_dir, [f"{MANUFACTURER}/{_serial(i)}" for i in range(params.robots)], [])
    meter = _Meter(time.monotonic)
    config = BusConfig(heartbeat_interval_s=max(1.0, 2.0 / params.rate_hz), resend_after_s=1.0)
    server = BusServer(
        "tcp://127.0.0.1:0",
        keys_dir=keys_dir,
        insecure=keys_dir is None,
        config=config,
        listener=meter,
        max_batch=params.max_batch,
    )
    spawn = multiprocessing.get_context("spawn")
    parent, child = spawn.Pipe()
    server.start()
    robots = spawn.Process(
        target=_robot_process, args=(server.endpoint, params, keys_dir, child), daemon=True
    )
    robots.start()
    try:
        if not parent.poll(120):
            raise RuntimeError("simulated robots did not connect")
        parent.recv()
        with meter.ready:
            if not meter.ready.wait_for(lambda: meter.online >= params.robots, 60):
                raise RuntimeError(f"only {meter.online} of {params.robots} robots came online")
        meter.states, meter.first = 0, None
        parent.send("go")
        orders = _order_loop(server, params) if params.order_rate_hz > 0 else None
        _wait_with_bar(params.seconds, progress)
        if orders is not None:
            orders.join()
        if not parent.poll(params.seconds + 60):
            raise RuntimeError("simulated robots did not finish")
        report = parent.recv()
        _drain(meter, report["sent"])
        parent.send("done")
        robots.join(30)
    finally:
        server.stop()
        if robots.is_alive():
            robots.kill()
        if tmp is not None:
            tmp.cleanup()
    window = (meter.last - meter.first) if meter.first is not None else 0.0
    rtts = np.array(meter.rtts) * 1000
    result: dict[str, Any] = {
        "robots": params.robots,
        "rate_hz": params.rate_hz,
        "seconds": params.seconds,
        "curve": params.curve,
        "max_batch": params.max_batch,
        "offered_msgs_per_s": round(params.robots * params.rate_hz, 1),
        "sent": report["sent"],
        "sent_per_s": round(report["sent"] / report["elapsed"], 1),
        "received": meter.states,
        "lost": report["sent"] - meter.states,
        "send_dropped": report["dropped"],
        "msgs_per_s": round((meter.states - 1) / window, 1) if window > 0 else 0.0,
        "orders": orders.sent if orders is not None else 0,
        "acks": len(meter.rtts),
        "failed_acks": meter.failed_acks,
        "rtt_ms_p50": round(float(np.percentile(rtts, 50)), 3) if len(rtts) else None,
        "rtt_ms_p99": round(float(np.percentile(rtts, 99)), 3) if len(rtts) else None,
        "server_rejected": server.counters().get("rejected", 0),
        "codec": codec_baseline(),
    }
    return result


class _OrderLoop(threading.Thread):
    sent = 0


def _drain(meter: _Meter, sent: int, stall_s: float = 3.0) -> None:
    """Wait until every sent state arrived, or none arrived for ``stall_s`` (then some are lost)."""
    seen, since = meter.states, time.monotonic()
    while meter.states < sent:
        time.sleep(0.01)
        if meter.states != seen:
            seen, since = meter.states, time.monotonic()
        elif time.monotonic() - since > stall_s:
            return


def _order_loop(server: BusServer, params: BenchParams) -> _OrderLoop:
    """Send each robot ``order_rate_hz`` orders per second, spread evenly over the robots."""

    def loop() -> None:
        period = 1.0 / (params.order_rate_hz * params.robots)
        start = time.monotonic()
        end = start + params.seconds - 0.5  # leave time for the last acknowledgements
        k = 0
        while True:
            due = start + k * period
            if due >= end:
                return
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            robot = k % params.robots
            server.send_order(f"{MANUFACTURER}/{_serial(robot)}", f"o{k}", 0, HOME, ())
            k += 1
            thread.sent = k

    thread = _OrderLoop(target=loop, name="bench-orders", daemon=True)
    thread.start()
    return thread


def _wait_with_bar(seconds: float, progress: bool) -> None:
    if not progress:
        time.sleep(seconds)
        return
    from tqdm import tqdm

    steps = max(1, int(seconds * 10))
    for _ in tqdm(range(steps), desc="bus bench", unit="tick", file=sys.stderr, leave=False):
        time.sleep(seconds / steps)
