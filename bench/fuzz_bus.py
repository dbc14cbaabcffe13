"""Bus fuzz campaign, one command: `python bench/fuzz_bus.py [--frames 100000] [--json]`.

For each mode (insecure, then CURVE) it starts `warehouse serve` as a subprocess
and, while an honest robot streams states at 10 Hz and watches the PUB stream:

1. fuzz: ``--frames`` hostile messages (`fleet.bus.fuzz.hostile_frames`: hostile
   shapes and scalars in every field of every message type, random bytes, wrong
   framing, oversized bodies, duplicated keys, other robots' identities) from
   ``--peers`` connections, a quarter of them claiming the honest robot's routing
   id at the ZeroMQ level; every connection is re-opened every 2,000 messages;
2. flood: ``--flood`` invalid frames from one peer that never reads its answers,
   then closes (the issue's libzmq#4364 reproducer);

then checks that the server is still running, the honest robot was never
CONNECTIONBROKEN, and reports frames sent, crashes (server exits: must be 0) and
the server's peak resident memory (VmHWM), as the markdown table in
docs/benchmarks.md ("Bus fuzz campaign").
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import msgpack
import zmq

from fleet.bus.fuzz import hostile_frames, with_field
from fleet.bus.keys import generate_keys
from fleet.bus.robot_client import ClientKeys, RobotClient
from fleet.bus.subscriber import FleetSubscriber, ViewerKeys
from fleet.protocol import BatteryState, ConnectionState, OrderProgress, State
from fleet.protocol.orders import state_message
from warehouse.serve_process import ServeProcess


class Honest(threading.Thread):
    """A well-behaved robot plus a viewer: counts its published states and broken episodes."""

    def __init__(self, served: ServeProcess, keys_dir: Path | None) -> None:
        super().__init__(daemon=True)
        self.served = served
        self.keys_dir = keys_dir
        self.stop = threading.Event()
        self.states_seen = 0
        self.broken = 0
        self.longest_gap_s = 0.0

    def run(self) -> None:
        context = zmq.Context()
        keys = ClientKeys.from_folder(self.keys_dir, "acme/honest") if self.keys_dir else None
        viewer_keys = ViewerKeys.from_folder(self.keys_dir, "wall") if self.keys_dir else None
        robot = RobotClient(self.served.endpoint, "acme", "honest", keys=keys, context=context)
        robot.connect()
        viewer = FleetSubscriber(
            self.served.pub, self.served.snapshot, keys=viewer_keys, context=context
        )
        battery = BatteryState(80.0, False)
        last = time.monotonic()
        next_send = time.monotonic()
        while not self.stop.is_set():
            if time.monotonic() >= next_send:
                next_send += 0.1  # 10 Hz
                robot.send(state_message(robot.header("state"), OrderProgress(), battery=battery))
                robot.receive(0.0)
            for update in viewer.poll(max(0.0, next_send - time.monotonic())):
                if update.key != "acme/honest":
                    continue
                if isinstance(update.value, State):
                    now = time.monotonic()
                    self.states_seen += 1
                    self.longest_gap_s = max(self.longest_gap_s, now - last)
                    last = now
                elif update.value.connection_state is ConnectionState.CONNECTIONBROKEN:
                    self.broken += 1
        robot.close()
        viewer.close()
        context.destroy(linger=0)


def _peer(context: zmq.Context, served: ServeProcess, keys: ClientKeys | None, legacy: bool):
    socket = context.socket(zmq.DEALER)
    socket.setsockopt(zmq.LINGER, 0)
    if legacy:
        socket.setsockopt(zmq.ROUTING_ID, b"acme/honest")
    if keys is not None:
        socket.curve_secretkey = keys.secret
        socket.curve_publickey = keys.public
        socket.curve_serverkey = keys.server_public
    socket.connect(served.endpoint)
    return socket


def fuzz(served: ServeProcess, keys_dir: Path | None, frames: int, peers: int, seed: int) -> int:
    """Send ``frames`` hostile messages; returns how many frames went out."""
    rng = random.Random(seed)
    context = zmq.Context()
    sent = 0
    try:
        for i in range(0, frames, 2000):
            sockets = []
            for p in range(peers):
                keys = ClientKeys.from_folder(keys_dir, f"acme/a{p}") if keys_dir else None
                sockets.append((f"a{p}", _peer(context, served, keys, legacy=p % 4 == 0)))
            for j in range(min(2000, frames - i)):
                serial, socket = sockets[j % peers]
                message = hostile_frames(rng, serial, i + j)
                socket.send_multipart(message)
                sent += len(message)
            for _, socket in sockets:
                socket.close(linger=5000)  # a parked peer's frames never leave
    finally:
        context.term()
    return sent


def flood(served: ServeProcess, keys_dir: Path | None, frames: int) -> int:
    """One peer sends ``frames`` answerable invalid frames, never reads, then closes."""
    context = zmq.Context()
    keys = ClientKeys.from_folder(keys_dir, "acme/a0") if keys_dir else None
    socket = _peer(context, served, keys, legacy=False)
    socket.setsockopt(zmq.SNDHWM, 0)
    valid = with_field("state", ("driving",), msgpack.packb(False), "a0", 0)
    socket.send_multipart([b"state", valid])  # binds the connection: rejections get answers
    invalid = with_field("state", ("driving",), msgpack.packb("yes"), "a0", 1)
    for _ in range(frames):
        socket.send_multipart([b"state", invalid])
    socket.close(linger=60_000)
    context.term()  # returns once every frame has left
    return 2 + 2 * frames


def campaign(curve: bool, frames: int, flood_frames: int, peers: int, seed: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        keys_dir = None
        args = ["--insecure"]
        if curve:
            keys_dir = Path(tmp)
            generate_keys(
                keys_dir, ["acme/honest", *(f"acme/a{p}" for p in range(peers))], ["wall"]
            )
            args = ["--keys", str(keys_dir)]
        served = ServeProcess(*args, "--status-every", "0")
        idle_kib = served.memory_kib("VmRSS")
        honest = Honest(served, keys_dir)
        honest.start()
        crashes = 0
        sent = 0
        try:
            start = time.monotonic()
            sent += fuzz(served, keys_dir, frames, peers, seed)
            crashes += not served.alive()
            if served.alive():
                sent += flood(served, keys_dir, flood_frames)
            time.sleep(2.0)  # the server drains what is queued; the honest robot keeps going
            crashes += not served.alive()
            elapsed = time.monotonic() - start
            peak_kib = served.memory_kib("VmHWM") if served.alive() else None
            end_kib = served.memory_kib("VmRSS") if served.alive() else None
        finally:
            honest.stop.set()
            honest.join(10)
        summary = served.stop() if served.alive() else {"counters": {}}
        served.kill()
    counters = summary["counters"]
    return {
        "mode": "CURVE" if curve else "insecure",
        "messages": frames + flood_frames + 1,
        "frames_sent": sent,
        "crashes": crashes,
        "seconds": round(elapsed, 1),
        "idle_rss_mib": round(idle_kib / 1024, 1),
        "peak_rss_mib": round(peak_kib / 1024, 1) if peak_kib else None,
        "end_rss_mib": round(end_kib / 1024, 1) if end_kib else None,
        "received": counters.get("received", 0),
        "accepted": counters.get("accepted", 0),
        "rejected": sum(counters.get("rejected_by_reason", {}).values()),
        "rejected_by_reason": counters.get("rejected_by_reason", {}),
        "answers_sent": counters.get("sent", 0),
        "honest_states_published": honest.states_seen,
        "honest_broken": honest.broken,
        "honest_longest_gap_s": round(honest.longest_gap_s, 2),
        "robots": sorted(summary.get("robots", {})),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100_000, help="hostile messages per mode")
    parser.add_argument("--flood", type=int, default=150_000, help="unread invalid frames")
    parser.add_argument("--peers", type=int, default=8)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = [
        campaign(curve, args.frames, args.flood, args.peers, args.seed) for curve in (False, True)
    ]
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(
            "| mode | messages sent | frames sent | received | rejected | crashes "
            "| server RSS MiB idle / peak / end | answers sent | honest robot: states seen, "
            "CONNECTIONBROKEN, longest gap s |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        for r in results:
            print(
                f"| {r['mode']} | {r['messages']:,} | {r['frames_sent']:,} | {r['received']:,} "
                f"| {r['rejected']:,} | {r['crashes']} "
                f"| {r['idle_rss_mib']} / {r['peak_rss_mib']} / {r['end_rss_mib']} "
                f"| {r['answers_sent']:,} | {r['honest_states_published']:,}, "
                f"{r['honest_broken']}, {r['honest_longest_gap_s']} |"
            )
        for r in results:
            print(f"{r['mode']}: rejected by reason {json.dumps(r['rejected_by_reason'])}")
    return 0 if all(r["crashes"] == 0 and r["honest_broken"] == 0 for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
