"""Typed errors shared by every package.

Bad input must reach the user as one clear line naming where the problem is
(a file, a row, a key), so every error carries its source and the CLI prints
``str(error)`` and exits with code 2 instead of a traceback. The messages name
files, sections and keys, never command-line flags: the packages below the CLI
do not know how their input was given.
"""

from __future__ import annotations

from collections.abc import Sequence


class WarehouseError(Exception):
    """Base of every error the system raises on purpose."""


class InputError(WarehouseError):
    """Input that cannot be used: a malformed file, an unknown key, a bad value.

    ``source`` names where the problem is (a path, ``path:row``, ``key``) so the
    one-line message is enough to fix it.
    """

    def __init__(self, source: object, problem: str) -> None:
        source = str(source)  # a `core.config.Where` reads as its text
        super().__init__(f"{source}: {problem}" if source else problem)
        self.source = source
        self.problem = problem


class ConfigError(InputError):
    """A TOML file (config, scenario, policy) whose content cannot be used.

    Carries the parts of the location separately, for callers that act on them:
    ``file`` (may be empty for a table that came from no file), ``line`` (from 1;
    None when unknown), ``section`` (the top-level table, ``""`` for the file as
    a whole) and ``key`` (the dotted rest, ``robots[0].kind``; ``""`` for the
    section itself). The message reads ``file: line N: section.key: problem``.
    """

    def __init__(
        self, file: str, path: Sequence[str | int], problem: str, line: int | None = None
    ) -> None:
        self.file = file
        self.line = line
        self.section = str(path[0]) if path else ""
        self.key = dotted(path[1:]) if len(path) > 1 else ""
        parts = [file] if file else []
        if line is not None and file:
            parts.append(f"line {line}")
        if path:
            parts.append(dotted(path))
        super().__init__(": ".join(parts), problem)


def dotted(path: Sequence[str | int]) -> str:
    """``("faults", 2, "robot")`` → ``faults[2].robot``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text
