"""fleet/traffic stays a pure algorithm library the fleet manager can call from any thread."""

from __future__ import annotations

import ast
from pathlib import Path

TRAFFIC = Path(__file__).resolve().parents[3] / "fleet" / "traffic"
IMPURE = {"zmq", "socket", "threading", "asyncio", "sqlite3", "time", "pygame", "fleet.bus"}


def test_traffic_imports_no_sockets_threads_clocks_or_storage() -> None:
    """No module of fleet/traffic imports zmq, sockets, threads, a clock, sqlite or the bus."""
    offenders = []
    for path in sorted(TRAFFIC.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                if any(name == bad or name.startswith(bad + ".") for bad in IMPURE):
                    offenders.append(f"{path.name}: {name}")
    assert TRAFFIC.is_dir() and not offenders, offenders
