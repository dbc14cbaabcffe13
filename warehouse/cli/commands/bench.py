"""``warehouse bench ...``: one subcommand per module in `warehouse.cli.bench`."""

from __future__ import annotations

from typing import Any


def register(subparsers: Any) -> None:
    from warehouse.cli import bench, discover

    parser = subparsers.add_parser("bench", help="benchmarks (mapf, bus, picking, ...)")
    actions = parser.add_subparsers(dest="bench_command", metavar="BENCH", required=True)
    for module in discover(bench):
        module.register(actions)
