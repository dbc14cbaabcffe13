"""Escaping peer-supplied text for log lines.

A routing id, a serial number or an error detail comes from the network; written
to a log raw, a newline in it forges a whole log line and a NUL or an escape
sequence reaches the operator's terminal. Every such value goes through
`printable` before it is formatted into a line.
"""

from __future__ import annotations

MAX_LOGGED = 200
"""Characters of one peer-supplied value kept in a log line."""


def printable(value: str | bytes, limit: int = MAX_LOGGED) -> str:
    """``value`` with every control character (and any non-UTF-8 byte) escaped, cut to ``limit``.

    Printable text is kept as is (``acme/r1`` stays ``acme/r1``); newline, NUL,
    DEL, escape and other non-printable characters become ``\\n``, ``\\x00``, ...
    exactly as ``repr`` writes them, so the result is always one line.
    """
    text = value.decode("utf-8", "backslashreplace") if isinstance(value, bytes) else value
    cut = len(text) > limit
    text = text[:limit]
    if not text.isprintable():
        text = repr(text)[1:-1]
    return text + ("..." if cut else "")
