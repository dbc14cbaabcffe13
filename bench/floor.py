"""Distance-table speed on the public maps vs a plain Python BFS, same run.

    .venv/bin/python bench/floor.py [--shared ../shared]

Prints one line per map; the figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from warehouse.cli import main as warehouse

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_shared = os.environ.get("WAREHOUSE_SHARED", str(REPO.parent / "shared"))
    parser.add_argument("--shared", default=default_shared)
    parser.add_argument("--sources", default="20")
    args = parser.parse_args()
    maps = sorted(Path(args.shared, "benchmarks").rglob("*.map"))
    if not maps:
        print(f"no maps under {args.shared}/benchmarks: nothing to measure", file=sys.stderr)
        return 1
    seen = set()
    for path in maps:
        if path.name in seen:
            continue
        seen.add(path.name)
        warehouse(["bench", "floor", "--map", str(path), "--sources", args.sources])
    return 0


if __name__ == "__main__":
    sys.exit(main())
