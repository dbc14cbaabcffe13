"""``warehouse``: one command line over the whole system.

Every module in `warehouse.cli.commands` contributes a subcommand through a
``register(subparsers)`` function, so adding a command never edits this file.
Errors the system raises on purpose (`WarehouseError`), and as a last resort
a file the system refuses to read or write, become one line on stderr and
exit code 2, never a traceback; any other exception is a bug and keeps its
traceback.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import NoReturn

from wms.errors import WarehouseError

EXIT_BAD_INPUT = 2


def discover(package: ModuleType) -> list[ModuleType]:
    """Modules of a package that define ``register``, in name order."""
    found = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        if hasattr(module, "register"):
            found.append(module)
    return found


class OneLineParser(argparse.ArgumentParser):
    """An argparse parser whose usage errors are one line (exit 2), like every other error.

    Subcommand parsers inherit the class, so ``warehouse floor generate --docks x``
    prints one line pointing at ``--help`` instead of twelve lines of usage.
    """

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from warehouse.cli import commands

    parser = OneLineParser(
        prog="warehouse",
        description="Warehouse robotics and operations control: WMS, fleet manager, simulator.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in discover(commands):
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except WarehouseError as error:
        print(f"warehouse: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("warehouse: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as error:
        # Last resort for a file the user named that cannot be read or written
        # (a full disk, a read-only folder): commands check their paths first,
        # but the file system can still refuse later.  An OSError without a
        # file name is no bad input we can name, so it stays a traceback.
        if error.filename is None:
            raise
        print(f"warehouse: error: {error.filename}: {error.strerror}", file=sys.stderr)
        return EXIT_BAD_INPUT
