"""The dependency direction of DESIGN §2 holds in the source, not just in the docs."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

FORBIDDEN = {
    "wms": {"fleet", "sim", "warehouse", "zmq", "pygame"},
    "fleet": {"sim", "warehouse", "pygame"},
    "sim": {"warehouse"},
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_follow_the_dependency_direction(package: str) -> None:
    """wms imports neither fleet nor sim; fleet never imports pygame or sim; nothing imports up."""
    offenders = []
    for path in sorted((REPO / package).rglob("*.py")):
        bad = imported_roots(path) & FORBIDDEN[package]
        if bad:
            offenders.append(f"{path.relative_to(REPO)}: {sorted(bad)}")
    assert not offenders, offenders


def test_product_code_never_reads_the_shared_folder() -> None:
    """Only tests and benchmarks may read ../shared; the product runs without it."""
    for package in ("wms", "fleet", "sim", "warehouse"):
        for path in (REPO / package).rglob("*.py"):
            assert "../shared" not in path.read_text(encoding="utf-8"), path
