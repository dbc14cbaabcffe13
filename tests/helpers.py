"""Small helpers shared by tests: an independent BFS, CLI invocation, private endpoints."""

from __future__ import annotations

import subprocess
import sys
from collections import deque
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent


def plain_bfs(navigable: np.ndarray, source: tuple[int, int]) -> np.ndarray:
    """Reference BFS, written independently of the product; -1 = unreachable."""
    height, width = navigable.shape
    dist = np.full(navigable.shape, -1, dtype=np.int64)
    if not navigable[source]:
        return dist
    dist[source] = 0
    queue = deque([source])
    while queue:
        r, c = queue.popleft()
        for nr, nc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
            if 0 <= nr < height and 0 <= nc < width and navigable[nr, nc] and dist[nr, nc] < 0:
                dist[nr, nc] = dist[r, c] + 1
                queue.append((nr, nc))
    return dist


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``warehouse`` in a subprocess, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "warehouse.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd or REPO,
        timeout=120,
    )


IPC_PATH_MAX = 100
"""A unix socket path must fit in sun_path (107 bytes on Linux), with room for suffixes."""


def ipc_endpoint(folder: Path, name: str) -> str:
    """``ipc://`` in the test's own folder: an address no other test or suite can take.

    A TCP port found free and released (bind to 0, close, pass it on) can be taken by
    another process - a second copy of the suite - before the server binds it, and a
    server restarted on the same port may find it taken; a path in ``tmp_path`` cannot.
    ``warehouse serve`` puts its PUB and snapshot sockets beside it (``.pub``, ``.snapshot``).
    """
    path = folder / name
    assert len(str(path)) + len(".pub.snapshot") <= IPC_PATH_MAX, f"{path} is too long for ipc"
    return f"ipc://{path}"


HANG_GUARD_S = 600
"""A live-socket test still running after this long is taken as hung: every thread's stack
is dumped and the whole run ends (``faulthandler``). It must stay far above the longest
legitimate chain of waits (each up to 60 s: a ``warehouse serve`` start, ``ctl``
subprocesses, a shutdown), which took 82 s and then over 90 s - the guard's old value,
ending two loaded runs - on a loaded machine."""
