"""`warehouse serve` in a subprocess, for the tests and benchmarks that attack or probe it.

A failure that is a process exit (a Python exception nobody catches, a libzmq assertion)
can only be seen from outside the process, so the bus fuzz campaign (``bench/fuzz_bus.py``)
and the suite's subprocess tests drive the real command. It lives with the app it starts:
`fleet` never knows the application that wires it (tests/test_architecture.py).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

_SERVING = re.compile(r"bus serving robots on (\S+?)(?:, PUB (\S+), snapshot (\S+?))? \(")


class ServeProcess:
    """`warehouse serve` in a subprocess: its endpoints, its log lines, its fate.

    Every stderr line is collected by a thread (so the pipe never fills); `stop`
    sends SIGTERM and returns the JSON summary the command prints on exit.
    """

    def __init__(
        self, *args: str, bind: str = "tcp://127.0.0.1:0", cwd: str | Path | None = None
    ) -> None:
        command = [sys.executable, "-m", "warehouse.cli", "serve", "--bind", bind, *args]
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self.process.stderr is not None
        self.lines: list[bytes] = []
        match = None
        while match is None and len(self.lines) < 20:  # e.g. the --insecure warning first
            line = self.process.stderr.readline()
            self.lines.append(line)
            match = _SERVING.search(line.decode("utf-8", "replace"))
            if not line:
                break
        if match is None:
            self.process.kill()
            raise RuntimeError(f"warehouse serve did not start: {self.log()!r}")
        self.endpoint, self.pub, self.snapshot = match.groups()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in iter(self.process.stderr.readline, b""):
            self.lines.append(line)

    def alive(self) -> bool:
        return self.process.poll() is None

    def memory_kib(self, field: str = "VmHWM") -> int:
        """``VmHWM`` (peak resident memory) or ``VmRSS`` of the server, in KiB."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        found = re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE)
        assert found is not None
        return int(found.group(1))

    def log(self) -> bytes:
        return b"".join(self.lines)

    def wait_log(self, pattern: str, timeout_s: float = 60.0) -> re.Match[str] | None:
        """The first match of ``pattern`` in the server's stderr, polled until ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while True:
            found = re.search(pattern, self.log().decode("utf-8", "replace"))
            if found or time.monotonic() > deadline or not self.alive():
                return found
            time.sleep(0.05)

    def stop(self) -> dict[str, Any]:
        """SIGTERM, then the exit summary; raises if the server had died."""
        if not self.alive():
            raise AssertionError(
                f"the server exited with {self.process.returncode}: {self.log()[-2000:]!r}"
            )
        self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=60)
        self._reader.join(5)
        if self.process.returncode != 0:
            raise AssertionError(f"exit {self.process.returncode}: {self.log()[-2000:]!r}")
        return json.loads(out)

    def kill(self) -> None:
        if self.alive():
            self.process.kill()
            self.process.wait(10)
