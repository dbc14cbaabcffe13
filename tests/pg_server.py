"""A real PostgreSQL server for the test session, started from the machine's binaries.

`postgres_server` (session scope) finds ``initdb`` and ``pg_ctl`` (Debian puts
them in ``/usr/lib/postgresql/<version>/bin``; ``$PG_BIN`` or ``PATH`` also
work), initialises a cluster in a fresh temporary folder, starts it listening
only on a unix socket inside that folder (no TCP port, so parallel suites
cannot collide) and stops it and removes the folder at the end of the session.
The server refuses to run as root, so under root the folder is handed to the
``postgres`` user and every server command runs as that user.

`postgres_database` gives each test its own new, empty database on that
server. Tests that need PostgreSQL skip, saying why, only when no server binary
can be found; a server that is found but fails to start fails the tests.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

SUPERUSER = "postgres"
START_DEADLINE_S = 120


@dataclass(frozen=True)
class PostgresServer:
    """A running test server: its socket folder and how to reach a database on it."""

    socket_dir: Path
    port: int

    def url(self, database: str = "postgres") -> str:
        return (
            f"postgresql://{SUPERUSER}@/{database}"
            f"?host={quote(str(self.socket_dir), safe='')}&port={self.port}"
        )


def find_bin_dir() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``, newest Debian version first."""
    candidates: list[Path] = []
    if os.environ.get("PG_BIN"):
        candidates.append(Path(os.environ["PG_BIN"]))
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates += [Path(p) for p in versions]
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(os.path.realpath(on_path)).parent)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


def _as_server_user(argv: list[str]) -> list[str]:
    """The command as the ``postgres`` user when we are root (the server refuses root)."""
    if os.geteuid() != 0:
        return argv
    runuser = shutil.which("runuser")
    if runuser:
        return [runuser, "-u", SUPERUSER, "--", *argv]
    return ["su", SUPERUSER, "-s", "/bin/sh", "-c", " ".join(f"'{a}'" for a in argv)]


def _run(argv: list[str], what: str) -> None:
    done = subprocess.run(
        _as_server_user(argv), capture_output=True, text=True, timeout=START_DEADLINE_S
    )
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed ({done.returncode}): {done.stderr or done.stdout}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A private PostgreSQL cluster for this session; stopped and deleted afterwards."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.skip(
            "no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin, "
            "$PG_BIN or PATH: install Debian's postgresql package (.ci/run does)"
        )
    # Under root the postgres user must reach the folder (a $TMPDIR below /root would not
    # do); the socket path must also stay under the 107 bytes a unix socket allows.
    root = Path(tempfile.mkdtemp(prefix="pgtest-", dir="/tmp" if os.geteuid() == 0 else None))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, SUPERUSER, SUPERUSER)
    port = 5432
    started = False
    try:
        _run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--no-sync",
            ],
            "initdb",
        )
        options = (
            f"-c listen_addresses='' -c unix_socket_directories='{root}' -c port={port}"
            " -c fsync=off -c max_connections=100"
        )
        _run(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(root / "server.log"),
                "-o",
                options,
                "-w",
                "-t",
                str(START_DEADLINE_S),
                "start",
            ],
            "pg_ctl start",
        )
        started = True
        yield PostgresServer(root, port)
    finally:
        if started:
            subprocess.run(
                _as_server_user(
                    [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]
                ),
                capture_output=True,
                timeout=START_DEADLINE_S,
            )
        shutil.rmtree(root, ignore_errors=True)


_names = itertools.count(1)


@pytest.fixture
def postgres_database(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL of a new empty database on the session server, dropped after the test."""
    url = create_database(postgres_server)
    yield url
    drop_database(postgres_server, url.split("/")[3].split("?")[0])


def create_database(server: PostgresServer) -> str:
    """A fresh database (a new name per call) and its URL."""
    import psycopg

    name = f"t{os.getpid()}_{next(_names)}"
    with psycopg.connect(server.url()) as admin:
        admin.autocommit = True
        admin.execute(f'CREATE DATABASE "{name}"')
    return server.url(name)


def drop_database(server: PostgresServer, name: str) -> None:
    import psycopg

    with psycopg.connect(server.url()) as admin:
        admin.autocommit = True
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
