"""``warehouse keys generate``: a CURVE keys folder for the bus."""

from __future__ import annotations

import argparse
from typing import Any

from fleet.bus.keys import generate_keys
from warehouse.cli.common import add_json, emit, int_in, sim_robot_serial
from wms.errors import InputError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("keys", help="CURVE keys for the robot bus")
    actions = parser.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    gen = actions.add_parser(
        "generate",
        help="create a keys folder: server keypair, robot, viewer and operator keypairs, "
        "authorised lists",
    )
    gen.add_argument("--dir", required=True, metavar="D")
    gen.add_argument(
        "--robot", action="append", default=[], metavar="ID", help="manufacturer/serialNumber"
    )
    gen.add_argument(
        "--robots",
        type=int_in(0, 10_000),
        default=0,
        metavar="N",
        help="also N robots MANUFACTURER/r000 ... (the robots warehouse sim --robots N runs)",
    )
    gen.add_argument("--manufacturer", default="sim", help="for --robots (default: sim)")
    gen.add_argument("--viewer", action="append", default=[], metavar="NAME")
    gen.add_argument(
        "--operator",
        action="append",
        default=[],
        metavar="NAME",
        help="an operator keypair for warehouse ctl (authorized/operators)",
    )
    gen.add_argument("--force", action="store_true", help="replace an existing server keypair")
    add_json(gen)
    gen.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if not args.dir:
        raise InputError("--dir", "empty folder name")
    robots = list(args.robot)
    robots += [f"{args.manufacturer}/{sim_robot_serial(i)}" for i in range(args.robots)]
    created = generate_keys(
        args.dir, robots, list(args.viewer), overwrite=args.force, operators=list(args.operator)
    )
    result = {"dir": args.dir, "created": [str(p) for p in created]}
    emit(
        result,
        args.json,
        lambda r: (
            f"{len(r['created'])} public keys written under {r['dir']} "
            "(secret keys next to them; copy a robot's .key into authorized/robots to register it)"
        ),
    )
    return 0
