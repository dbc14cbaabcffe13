"""Typed errors shared by every package.

Bad input must reach the user as one clear line naming where the problem is
(a file, a row, a key), so every error carries its source and the CLI prints
``str(error)`` and exits with code 2 instead of a traceback.
"""

from __future__ import annotations


class WarehouseError(Exception):
    """Base of every error the system raises on purpose."""


class InputError(WarehouseError):
    """Input that cannot be used: a malformed file, an unknown key, a bad value.

    ``source`` names where the problem is (a path, ``path:row``, ``key``) so the
    one-line message is enough to fix it.
    """

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem
