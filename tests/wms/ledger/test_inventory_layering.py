"""The inventory packages import only the standard library, numpy/scipy via wms.layout, and wms."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
PACKAGES = [
    "wms/ledger",
    "wms/replenishment",
    "wms/returns",
    "wms/ageing.py",
    "wms/inventory_types.py",
]
FORBIDDEN = ("fleet", "sim", "warehouse", "zmq", "pygame", "wms.catalog", "wms.orders")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_inventory_does_not_reach_up_or_sideways() -> None:
    """No inventory module imports fleet, sim, the CLI, sockets, pygame or the planning half."""
    files = []
    for entry in PACKAGES:
        path = REPO / entry
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    assert len(files) > 10
    for file in files:
        for name in imported_modules(file):
            assert not any(name == f or name.startswith(f + ".") for f in FORBIDDEN), (file, name)
