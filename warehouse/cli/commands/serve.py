"""``warehouse serve``: the fleet manager on the robot bus, until SIGINT / SIGTERM."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from typing import Any

from core.errors import InputError
from fleet.bus.keys import DEFAULT_KEYS_DIR, server_keys_dir
from fleet.bus.server import BusServer, next_endpoint
from fleet.control import ControlServer, Request, make_server
from fleet.control.protocol import ControlRefused
from fleet.manager import operator
from fleet.manager.booking import LedgerBooker
from fleet.manager.core import FleetCore
from fleet.manager.durable import DurableFleet
from fleet.manager.service import KEEP_FINISHED, ManagerService
from fleet.manager.store import open_store
from warehouse.config import load_config

CONTROL_ANSWER_WAIT_S = 30.0
"""How long an operator command may wait for the manager's cycle thread. A busy or
loaded manager answers late rather than failing; an answer later than the client
waits (``warehouse ctl --timeout``) is dropped by the client."""

DEFAULT_BIND = "tcp://127.0.0.1:5555"
INSECURE_WARNING = (
    "warehouse serve: warning: --insecure: plain TCP, anyone who can reach the sockets can "
    "drive robots, read the floor and send operator commands"
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the fleet manager on the robot bus (ROUTER for robots, PUB for viewers)",
        description="Run the fleet manager: robots connect over the VDA 5050 bus, tasks are "
        "assigned, routes released, chargers and faults handled. SIGINT/SIGTERM stop it "
        "cleanly; SIGHUP re-reads the authorised keys.",
    )
    parser.add_argument("--config", metavar="F", help="TOML config ([bus], [fleet] are used)")
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
    parser.add_argument(
        "--db",
        metavar="URL",
        help="site database (path, sqlite:///path or postgresql://...) for the task log, the "
        "robots' registry "
        "and sent orders (a restart on it adopts the robots' orders) and the ledger the "
        "robots' picks are booked in; without it nothing is kept",
    )
    security = parser.add_mutually_exclusive_group()
    security.add_argument(
        "--keys",
        metavar="DIR",
        help=f"CURVE keys folder (default: {DEFAULT_KEYS_DIR}; warehouse keys generate)",
    )
    security.add_argument(
        "--insecure",
        action="store_true",
        help="plain TCP: no encryption, no authentication (prints a warning; local tests only)",
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
    if not args.insecure:
        try:
            args.keys = str(server_keys_dir(args.keys))
        except InputError as error:
            root = args.keys or DEFAULT_KEYS_DIR
            raise InputError(
                "--keys",
                f"{error}: CURVE is on by default; create the keys with "
                f"`warehouse keys generate --dir {root} --robots N --viewer NAME --operator NAME` "
                "or choose plain TCP with --insecure",
            ) from None
    config = load_config(args.config)
    control = make_control_server(args)
    try:
        return _serve(args, config, control)
    finally:
        if control is not None:
            control.stop()


def make_control_server(args: argparse.Namespace) -> ControlServer | None:
    """The bound control socket ``--ctl`` asks for (None without ``--ctl``): CURVE in the
    ``operators`` ZAP domain with ``--keys``, plain TCP with ``--insecure``."""
    return make_server(args.ctl, args.keys)


def _serve(args: argparse.Namespace, config: Any, control: ControlServer | None) -> int:
    bus_config = config.bus
    pub = None if args.no_pub else (args.pub or next_endpoint(args.bind, ".pub"))
    fleet_config = config.fleet
    ledger = None
    booker = None
    if args.db is not None:
        from wms.ledger import Ledger

        ledger = Ledger.open(args.db)  # first: it creates the schema the store shares
        booker = LedgerBooker(ledger)
    store = open_store(args.db)
    durable = DurableFleet(args.db) if args.db is not None else None
    server = BusServer(
        args.bind,
        pub=pub,
        snapshot=args.snapshot,
        keys_dir=args.keys,
        insecure=args.insecure,
        config=bus_config,
        status_interval_s=args.status_every if args.status_every > 0 else None,
    )
    if args.insecure:  # once the sockets are bound: a refused command stays one line
        print(INSECURE_WARNING, file=sys.stderr, flush=True)
    core = FleetCore(config.floor, fleet_config)
    service = ManagerService(
        core,
        server,
        store=store,
        booker=booker,
        durable=durable,
        # A durable task log keeps every task; memory keeps the open and the newest finished.
        keep_finished=KEEP_FINISHED if args.db is not None else None,
    )
    restored = service.restore()
    if restored:
        logging.getLogger("fleet.manager").info("restored %d task events", restored)

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
    service.start()
    if control is not None:

        def handler(request: Request) -> Any:
            try:
                return service.call(
                    lambda core: operator.handle(core, request), CONTROL_ANSWER_WAIT_S
                )
            except TimeoutError:
                raise ControlRefused(
                    f"the fleet manager did not take the command within "
                    f"{CONTROL_ANSWER_WAIT_S:.0f} s (busy); nothing was done"
                ) from None

        control.start(handler)
    try:
        server.run()
    finally:
        service.stop()
        store.close()
        if durable is not None:
            durable.close()
        if ledger is not None:
            ledger.close()
    summary = {
        "robots": {r: rec.connection.value for r, rec in server.robots().items()},
        "counters": server.counters(),
        "tasks": len(core.tasks),
    }
    print(json.dumps(summary, sort_keys=True))
    return 0
