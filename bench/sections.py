"""Writing one benchmark's section into docs/benchmarks.md, shared by the bench scripts."""

from __future__ import annotations

from pathlib import Path


def write_section(path: Path, heading: str, section: str) -> None:
    """Replace the section that starts at ``heading`` (or append it), leaving the others alone."""
    current = path.read_text(encoding="utf-8")
    start = current.find(heading)
    if start < 0:
        updated = current.rstrip("\n") + "\n\n" + section
    else:
        end = current.find("\n## ", start + len(heading))
        tail = current[end + 1 :] if end >= 0 else ""
        updated = current[:start] + section + ("\n" + tail if tail else "")
    path.write_text(updated.rstrip("\n") + "\n", encoding="utf-8")


def publish(section: str, heading: str, write: bool) -> int:
    """Print a benchmark's section and, with ``write``, put it into docs/benchmarks.md."""
    print(section)
    if write:
        write_section(
            Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md", heading, section
        )
    return 0
