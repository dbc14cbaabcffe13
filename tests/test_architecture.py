"""The dependency direction of DESIGN §2 holds in the source, not just in the docs."""

from __future__ import annotations

import ast
import re
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


def named_modules(path: Path, packages: set[str]) -> set[str]:
    """Modules of ``packages`` a file names in strings instead of importing them: a dotted
    module path (``"warehouse.cli"``, for ``-m`` or `importlib`) or a bare package name run
    as a program (``[..., "-m", "warehouse"]``, ``["warehouse", "serve"]``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    dotted = re.compile(rf"(?:{'|'.join(sorted(packages))})(?:\.[A-Za-z_]\w*)+")
    named = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if dotted.fullmatch(node.value):
                named.add(node.value)
        elif isinstance(node, ast.List | ast.Tuple):
            words = [e.value if isinstance(e, ast.Constant) else None for e in node.elts]
            for i, word in enumerate(words):
                if word in packages and (i == 0 or words[i - 1] == "-m"):
                    named.add(str(word))
    return named


@pytest.mark.parametrize("package", sorted(p for p in FORBIDDEN if "warehouse" in FORBIDDEN[p]))
def test_lower_packages_never_spawn_the_app(package: str) -> None:
    """The layers below the app (core, wms, fleet, sim) never run or load `warehouse` by name
    either - a subprocess of the ``warehouse`` CLI is a dependency on it all the same (the
    bus fuzz harness that started ``warehouse serve`` lives in `warehouse.serve_process`)."""
    offenders = []
    for path in sorted((REPO / package).rglob("*.py")):
        named = named_modules(path, {"warehouse"})
        if named:
            offenders.append(f"{path.relative_to(REPO)}: {sorted(named)}")
    assert not offenders, offenders


def test_a_spawned_app_is_seen(tmp_path: Path) -> None:
    """The string rule sees the ways a module can start the app without an import."""
    source = tmp_path / "spawns.py"
    source.write_text(
        "import importlib, subprocess, sys\n"
        "subprocess.Popen([sys.executable, '-m', 'warehouse.cli', 'serve'])\n"
        "subprocess.run(('warehouse', 'serve'))\n"
        "subprocess.run([sys.executable, '-m', 'warehouse'])\n"
        "importlib.import_module('warehouse.crash_floor')\n"
        "print('the warehouse. is full', ['fleet', 'warehouse'])\n",
        encoding="utf-8",
    )
    assert named_modules(source, {"warehouse"}) == {
        "warehouse.cli",
        "warehouse",
        "warehouse.crash_floor",
    }
