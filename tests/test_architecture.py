"""The dependency direction of DESIGN §2 holds in the source, not just in the docs."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

FORBIDDEN = {
    "core": {"wms", "fleet", "sim", "warehouse", "bench", "zmq", "pygame", "sqlalchemy"},
    "wms": {"fleet", "sim", "warehouse", "zmq", "pygame"},
    "fleet": {"sim", "warehouse", "pygame"},
    "sim": {"warehouse"},
}

FORBIDDEN_MODULES = {
    "sim": ("fleet.manager", "fleet.traffic", "fleet.bus.server"),
    "fleet/traffic": ("fleet.manager",),
    "fleet/dispatch": ("fleet.manager", "fleet.traffic"),
}
"""The simulator is just another protocol client: it reaches the fleet only over the bus.
Traffic is a library the manager uses, so it never imports the manager; the assignment
core both share (`fleet.dispatch`) imports neither."""


def imported_modules(path: Path) -> set[str]:
    """Absolute module names imported, with ``from a import b`` also counted as ``a.b``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def imported_roots(path: Path) -> set[str]:
    return {module.split(".")[0] for module in imported_modules(path)}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_follow_the_dependency_direction(package: str) -> None:
    """core imports no package of ours; wms imports neither fleet nor sim; fleet never imports
    pygame or sim; nothing imports up."""
    offenders = []
    for path in sorted((REPO / package).rglob("*.py")):
        bad = imported_roots(path) & FORBIDDEN[package]
        if bad:
            offenders.append(f"{path.relative_to(REPO)}: {sorted(bad)}")
    assert not offenders, offenders


@pytest.mark.parametrize("package", sorted(FORBIDDEN_MODULES))
def test_forbidden_modules_are_not_imported(package: str) -> None:
    """sim imports fleet.protocol and the robot client, never the manager, traffic or server;
    fleet.traffic never imports fleet.manager; fleet.dispatch imports neither of them."""
    offenders = []
    for path in sorted((REPO / package).rglob("*.py")):
        bad = {
            module
            for module in imported_modules(path)
            for banned in FORBIDDEN_MODULES[package]
            if module == banned or module.startswith(banned + ".")
        }
        if bad:
            offenders.append(f"{path.relative_to(REPO)}: {sorted(bad)}")
    assert not offenders, offenders


def test_product_code_never_reads_the_shared_folder() -> None:
    """Only tests and benchmarks may read ../shared; the product runs without it."""
    for package in ("core", "wms", "fleet", "sim", "warehouse"):
        for path in (REPO / package).rglob("*.py"):
            assert "../shared" not in path.read_text(encoding="utf-8"), path
