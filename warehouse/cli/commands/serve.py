"""``warehouse serve``: run the fleet bus server until SIGINT / SIGTERM."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from typing import Any

from fleet.bus.config import BusConfig
from fleet.bus.server import BusServer
from fleet.control import ControlRefused, ControlServer, Request, make_server
from warehouse.config import load_config


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the robot bus server (ROUTER for robots, PUB + snapshot for viewers)",
        description="Serve the VDA 5050 robot bus. SIGINT/SIGTERM stop it cleanly; SIGHUP "
        "re-reads the authorised keys.",
    )
    parser.add_argument("--config", metavar="F", help="TOML config ([bus] section is used)")
    parser.add_argument("--bind", default="tcp://127.0.0.1:5555", help="robot ROUTER endpoint")
    parser.add_argument("--pub", metavar="ENDPOINT", help="PUB endpoint for viewers")
    parser.add_argument(
        "--snapshot", metavar="ENDPOINT", help="snapshot endpoint (default: PUB port + 1)"
    )
    security = parser.add_mutually_exclusive_group(required=True)
    security.add_argument(
        "--keys", metavar="DIR", help="CURVE keys folder (warehouse keys generate)"
    )
    security.add_argument(
        "--insecure", action="store_true", help="plain TCP, no authentication (local tests only)"
    )
    parser.add_argument(
        "--ctl",
        metavar="ADDR",
        help="operator control socket for warehouse ctl (CURVE operators domain with --keys)",
    )
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING"])
    parser.add_argument(
        "--status-every", type=float, default=30.0, metavar="S", help="log a status line every S s"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=args.log_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s"
    )
    config = load_config(args.config)
    bus = BusConfig.from_section(config.section("bus"), f"{config.path}: bus")
    control = make_control_server(args)
    try:
        return _serve(args, bus, control)
    finally:
        if control is not None:
            control.stop()


def make_control_server(args: argparse.Namespace) -> ControlServer | None:
    """The bound control socket ``--ctl`` asks for (None without ``--ctl``).

    CURVE in the ``operators`` ZAP domain with ``--keys``, plain TCP with
    ``--insecure``. A bad address or keys folder is a one-line `InputError`.
    The caller answers requests: ``poll`` / ``handle_ready(handler)`` from the
    fleet manager's cycle thread, or ``start(handler)`` for a thread-safe one.
    """
    return make_server(args.ctl, args.keys)


def _no_fleet_manager(request: Request) -> None:
    """Placeholder handler until the fleet manager is wired in: refuses every command."""
    raise ControlRefused(f"{request.op.value}: this server runs the bus only (no fleet manager)")


def _serve(args: argparse.Namespace, bus: BusConfig, control: ControlServer | None) -> int:
    if control is not None:
        control.start(_no_fleet_manager)
    server = BusServer(
        args.bind,
        pub=args.pub,
        snapshot=args.snapshot,
        keys_dir=args.keys,
        insecure=args.insecure,
        config=bus,
        status_interval_s=args.status_every if args.status_every > 0 else None,
    )

    def stop(signum: int, _frame: Any) -> None:
        logging.getLogger("fleet.bus").info("signal %d: stopping", signum)
        server.stop()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    def reload_keys(*_: Any) -> None:
        server.reload_keys()
        if control is not None:
            control.reload_keys()

    signal.signal(signal.SIGHUP, reload_keys)
    server.run()
    summary = {
        "robots": {r: rec.connection.value for r, rec in server.robots().items()},
        "counters": server.counters(),
    }
    print(json.dumps(summary, sort_keys=True))
    return 0
