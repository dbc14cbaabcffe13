"""``warehouse sim``: simulated robots attached to a running ``warehouse serve``, in real time."""

from __future__ import annotations

import argparse
import json
import signal
import threading
from typing import Any

from sim.runner import SimRobotSpec, SimRunner
from warehouse.cli.common import float_in, int_in, sim_robot_serial
from warehouse.config import load_config
from warehouse.fleet_lockstep import start_cells
from wms.errors import InputError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sim",
        help="attach simulated robots to a running warehouse serve (real time)",
        description="Simulated VDA 5050 controllers connect to the fleet's robot endpoint and "
        "drive what they are sent until SIGINT/SIGTERM (or --seconds).",
    )
    parser.add_argument("--connect", required=True, metavar="ADDR", help="the serve --bind address")
    parser.add_argument("--config", metavar="F", help="TOML config (the same floor as serve)")
    parser.add_argument("--robots", type=int_in(1, 10_000), default=10)
    parser.add_argument("--keys", metavar="DIR", help="CURVE keys folder (robots sim/rNNN)")
    parser.add_argument("--speed", type=float_in(0.01, 1000), default=1.0, help="sim s per wall s")
    parser.add_argument(
        "--seconds", type=float_in(0, 1e7), default=0, help="stop after this many wall s (0: run)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if not args.connect.startswith(("tcp://", "ipc://", "inproc://")):
        raise InputError(
            "--connect", f"{args.connect!r} is not a ZeroMQ endpoint (tcp://host:port)"
        )
    config = load_config(args.config)
    floor = config.floor
    free = int(floor.navigable.sum()) - len(floor.chargers)
    if args.robots > free:
        raise InputError("--robots", f"{args.robots} robots do not fit on {free} free cells")
    cells = start_cells(floor, args.robots, {p.cell for p in floor.chargers})
    specs = [SimRobotSpec(sim_robot_serial(i), cell) for i, cell in enumerate(cells)]
    runner = SimRunner(
        args.connect,
        floor,
        specs,
        keys_dir=args.keys,
        params=config.sim,
        speed=args.speed,
        charger_cells=frozenset(p.cell for p in floor.chargers),
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    runner.start()
    try:
        stop.wait(args.seconds or None)
    finally:
        runner.stop()
    print(
        json.dumps(
            {
                "robots": args.robots,
                "sim_s": round(runner.now_s, 1),
                "behind_s": round(runner.behind_s, 3),
                "safety_violations": len(runner.violations()),
                "bus_errors": dict(runner.bus_errors),
            },
            sort_keys=True,
        )
    )
    return 0 if not runner.violations() else 1
