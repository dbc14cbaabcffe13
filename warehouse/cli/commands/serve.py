"""``warehouse serve``: run the fleet bus server until SIGINT / SIGTERM."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from typing import Any

from fleet.bus.config import BusConfig
from fleet.bus.server import BusServer, next_endpoint
from warehouse.config import load_config

DEFAULT_BIND = "tcp://127.0.0.1:5555"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the robot bus server (ROUTER for robots, PUB + snapshot for viewers)",
        description="Serve the VDA 5050 robot bus. SIGINT/SIGTERM stop it cleanly; SIGHUP "
        "re-reads the authorised keys.",
    )
    parser.add_argument("--config", metavar="F", help="TOML config ([bus] section is used)")
    parser.add_argument("--bind", default=DEFAULT_BIND, help="robot ROUTER endpoint")
    viewers = parser.add_mutually_exclusive_group()
    viewers.add_argument(
        "--pub",
        metavar="ENDPOINT",
        help="PUB endpoint for viewers (default: the --bind port + 1, e.g. tcp://127.0.0.1:5556; "
        "ipc://P gives ipc://P.pub)",
    )
    viewers.add_argument("--no-pub", action="store_true", help="serve no viewers")
    parser.add_argument(
        "--snapshot",
        metavar="ENDPOINT",
        help="snapshot endpoint (default: PUB port + 1; ipc://P gives ipc://P.snapshot)",
    )
    security = parser.add_mutually_exclusive_group(required=True)
    security.add_argument(
        "--keys", metavar="DIR", help="CURVE keys folder (warehouse keys generate)"
    )
    security.add_argument(
        "--insecure", action="store_true", help="plain TCP, no authentication (local tests only)"
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
    pub = None if args.no_pub else (args.pub or next_endpoint(args.bind, ".pub"))
    server = BusServer(
        args.bind,
        pub=pub,
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
    signal.signal(signal.SIGHUP, lambda *_: server.reload_keys())
    server.run()
    summary = {
        "robots": {r: rec.connection.value for r, rec in server.robots().items()},
        "counters": server.counters(),
    }
    print(json.dumps(summary, sort_keys=True))
    return 0
