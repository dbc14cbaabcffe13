"""``warehouse view``: watch a running ``warehouse serve`` read-only (window or one PNG).

    warehouse view --connect ADDR [--snapshot ADDR] [--keys DIR --viewer NAME]
                   [--config F] [--screenshot F.png] [--frames N] [--timeout S]

Attaches to the serve's PUB socket as a `FleetSubscriber` (snapshot first,
then updates) and draws the fleet on the config's floor. The viewer is
read-only: it sends nothing to the fleet, and its block / break / pause
controls are off. With ``--screenshot`` it draws off-screen (headless),
saves the PNG once it has the fleet and exits. No snapshot within
``--timeout`` (5 s) is one line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
from typing import Any

import zmq

from fleet.bus.server import snapshot_default
from fleet.bus.subscriber import FleetSubscriber, ViewerKeys
from warehouse.cli.common import float_in, int_in, output_file
from warehouse.config import load_config
from wms.errors import InputError

MAX_FRAMES = 10_000_000


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "view",
        help="watch a running fleet (warehouse serve --pub) in a window or as a PNG, read-only",
        description="Attach to a running fleet manager's PUB socket as a read-only viewer and "
        "draw its robots, released bases, goals and blocked cells on the config's floor.",
    )
    parser.add_argument("--connect", required=True, metavar="ADDR", help="the serve's --pub")
    parser.add_argument(
        "--snapshot", metavar="ADDR", help="the serve's --snapshot (default: PUB port + 1)"
    )
    parser.add_argument("--keys", metavar="DIR", help="CURVE keys folder (with --viewer)")
    parser.add_argument("--viewer", metavar="NAME", help="viewer key name in --keys")
    parser.add_argument("--config", metavar="F", help="TOML config whose floor the fleet runs on")
    parser.add_argument(
        "--screenshot", metavar="F.png", help="draw headless, save this PNG and exit"
    )
    parser.add_argument(
        "--frames",
        type=int_in(1, MAX_FRAMES),
        metavar="N",
        help="stop after N frames (default: until the window closes; 1 with --screenshot)",
    )
    parser.add_argument(
        "--timeout",
        type=float_in(0.05, 600.0),
        default=5.0,
        metavar="S",
        help="give up after S seconds without a fleet snapshot (default 5)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from sim.viewer.attach import NoSnapshot, watch
    from sim.viewer.live import Viewer

    if (args.keys is None) != (args.viewer is None):
        raise InputError("--keys/--viewer", "CURVE needs both the keys folder and the viewer")
    screenshot = output_file(args.screenshot, "--screenshot") if args.screenshot else None
    floor = load_config(args.config).floor
    keys = ViewerKeys.from_folder(args.keys, args.viewer) if args.keys is not None else None
    snapshot = args.snapshot or snapshot_default(args.connect)
    try:
        subscriber = FleetSubscriber(args.connect, snapshot, keys=keys)
    except zmq.ZMQError as error:
        raise InputError(args.connect, f"cannot connect ({error})") from None
    mode = "image" if screenshot is not None else "window"
    frames = args.frames or (1 if screenshot is not None else None)
    try:
        with Viewer(floor, mode, read_only=True, title=f"warehouse view {args.connect}") as viewer:
            drawn = watch(subscriber, viewer, timeout_s=args.timeout, frames=frames)
            if screenshot is not None:
                viewer.screenshot(screenshot)
                print(f"wrote {screenshot} (fleet version {viewer.view.version}, {drawn} frames)")
    except NoSnapshot as error:
        raise InputError(
            f"{args.connect} (snapshot {snapshot})", f"no fleet snapshot: {error}"
        ) from None
    finally:
        subscriber.close()
    return 0
