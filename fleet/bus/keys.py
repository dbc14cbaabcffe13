"""CURVE keys folder: the server keypair, robot and viewer keypairs, the authorised lists.

Layout of a keys folder (``warehouse keys generate --dir D``)::

    D/server.key, D/server.key_secret         the fleet server's keypair
    D/robots/<file>.key[_secret]              one keypair per robot (give the pair to the robot)
    D/viewers/<name>.key[_secret]             one keypair per viewer / dashboard
    D/operators/<name>.key[_secret]           one keypair per operator (``warehouse ctl``)
    D/authorized/robots/<file>.key            public keys allowed on the robot ROUTER
    D/authorized/viewers/<name>.key           public keys allowed on the PUB + snapshot sockets
    D/authorized/operators/<name>.key         public keys allowed on the control socket

Registering a robot is copying its public ``.key`` file into ``authorized/robots``.
Each certificate carries ``identity = "manufacturer/serialNumber"`` in its metadata
so the server can check that a robot speaks only for itself.

Files are created with their final permissions, whatever the umask: a secret key
is written to a temporary file opened ``0600`` with ``O_EXCL`` and renamed into
place (no moment at which another user can read it), folders holding secrets are
``0700``, the root and the authorised folders ``0755``, public keys ``0644``.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import zmq
import zmq.auth
from zmq.auth.thread import ThreadAuthenticator
from zmq.utils import z85

from fleet.bus.logsafe import printable
from wms.errors import InputError

log = logging.getLogger("fleet.bus")

ROBOT_DOMAIN = "robots"
VIEWER_DOMAIN = "viewers"
OPERATOR_DOMAIN = "operators"
DOMAINS = (ROBOT_DOMAIN, VIEWER_DOMAIN, OPERATOR_DOMAIN)
_IDENTITY = re.compile(r'^\s*identity\s*=\s*"?([^"\n]*?)"?\s*$', re.MULTILINE)
_SAFE = re.compile(r"^[A-Za-z0-9._-]+$")
DEFAULT_KEYS_DIR = "keys"
"""The keys folder `warehouse serve` uses when it is given neither ``--keys`` nor ``--insecure``."""
SECRET_MODE = 0o600
PUBLIC_MODE = 0o644
SECRET_DIR_MODE = 0o700
PUBLIC_DIR_MODE = 0o755


@dataclass(frozen=True)
class KeyPair:
    public: bytes
    secret: bytes


def file_stem(identity: str) -> str:
    """``acme/r1`` -> ``acme__r1`` (file names cannot hold ``/``)."""
    stem = identity.replace("/", "__")
    if not _SAFE.match(stem):
        raise InputError(identity, "identities may use letters, digits, '.', '_', '-' and one '/'")
    return stem


def _write_cert(path: Path, identity: str, public: bytes, secret: bytes | None) -> None:
    """ZPL certificate as zmq.auth writes it, with the identity in both files' metadata."""
    lines = [
        "#   ZeroMQ CURVE " + ("Secret" if secret else "Public") + " Certificate",
        f"#   {identity}",
        "",
        "metadata",
        f'    identity = "{identity}"',
        "curve",
        f'    public-key = "{public.decode("ascii")}"',
    ]
    if secret is not None:
        lines.append(f'    secret-key = "{secret.decode("ascii")}"')
    _write_atomic(path, ("\n".join(lines) + "\n").encode(), SECRET_MODE if secret else PUBLIC_MODE)


def _write_atomic(path: Path, data: bytes, mode: int) -> None:
    """Write ``data`` to ``path`` with ``mode`` from the first byte on, then rename into place."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)  # the umask may have removed bits from ``mode``; never adds any
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def make_folder(folder: Path, mode: int) -> None:
    """Create ``folder`` (and parents) and set exactly ``mode``, whatever the umask."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(mode)


def create_keypair(folder: Path, identity: str) -> Path:
    """``<stem>.key`` and ``<stem>.key_secret`` in ``folder``; returns the public file."""
    public, secret = zmq.curve_keypair()
    stem = file_stem(identity) if identity != "server" else "server"
    _write_cert(folder / f"{stem}.key", identity, public, None)
    _write_cert(folder / f"{stem}.key_secret", identity, public, secret)
    return folder / f"{stem}.key"


def _create(folder: Path, authorized: Path, identity: str) -> Path:
    public = create_keypair(folder, identity)
    _write_atomic(authorized / public.name, public.read_bytes(), PUBLIC_MODE)
    return public


def generate_keys(
    directory: str | Path,
    robots: list[str],
    viewers: list[str],
    overwrite: bool = False,
    operators: Sequence[str] = (),
) -> list[Path]:
    """Create (or extend) a keys folder; an existing server key is kept unless ``overwrite``."""
    root = Path(directory)
    for robot in robots:  # every identity is checked before anything is written
        if robot.count("/") != 1:
            raise InputError(robot, "a robot identity is manufacturer/serialNumber")
        file_stem(robot)
    for viewer in viewers:
        file_stem(viewer)
    for operator in operators:
        file_stem(operator)
    make_folder(root, PUBLIC_DIR_MODE)
    make_folder(root / "authorized", PUBLIC_DIR_MODE)
    for domain in DOMAINS:
        make_folder(root / "authorized" / domain, PUBLIC_DIR_MODE)
        make_folder(root / domain, SECRET_DIR_MODE)
    created = []
    if overwrite or not (root / "server.key_secret").exists():
        created.append(create_keypair(root, "server"))
    for robot in robots:
        created.append(_create(root / "robots", root / "authorized" / ROBOT_DOMAIN, robot))
    for viewer in viewers:
        created.append(_create(root / "viewers", root / "authorized" / VIEWER_DOMAIN, viewer))
    for operator in operators:
        created.append(_create(root / "operators", root / "authorized" / OPERATOR_DOMAIN, operator))
    return created


def server_keys_dir(directory: str | Path | None) -> Path:
    """The keys folder a CURVE server runs on (``DEFAULT_KEYS_DIR`` when None), checked first.

    A missing folder or server keypair is an `InputError` naming the folder, so a server
    that would otherwise come up unreachable (or plain) stops at once; the CLI adds how
    to create the keys.
    """
    root = Path(directory if directory is not None else DEFAULT_KEYS_DIR)
    if not (root / "server.key_secret").is_file():
        what = "no keys folder" if not root.exists() else "no server keypair (server.key_secret)"
        raise InputError(str(root), what)
    return root


def load_pair(path: str | Path) -> KeyPair:
    """A keypair from a ``.key_secret`` file."""
    path = Path(path)
    try:
        public, secret = zmq.auth.load_certificate(path)
    except (OSError, ValueError) as error:
        raise InputError(str(path), f"not a CURVE key file ({error})") from None
    if secret is None:
        raise InputError(str(path), "holds no secret key (use the .key_secret file)")
    return KeyPair(public, secret)


def load_public(path: str | Path) -> bytes:
    path = Path(path)
    try:
        public, _ = zmq.auth.load_certificate(path)
    except (OSError, ValueError) as error:
        raise InputError(str(path), f"not a CURVE key file ({error})") from None
    return public


def server_pair(directory: str | Path) -> KeyPair:
    return load_pair(Path(directory) / "server.key_secret")


def robot_pair(directory: str | Path, identity: str) -> KeyPair:
    return load_pair(Path(directory) / "robots" / f"{file_stem(identity)}.key_secret")


def viewer_pair(directory: str | Path, name: str) -> KeyPair:
    return load_pair(Path(directory) / "viewers" / f"{file_stem(name)}.key_secret")


def operator_pair(directory: str | Path, name: str) -> KeyPair:
    return load_pair(Path(directory) / "operators" / f"{file_stem(name)}.key_secret")


def identities(folder: Path) -> dict[bytes, str]:
    """Public key -> identity for every readable certificate in an authorised folder.

    A file that is not a certificate is skipped with a logged error: one bad file
    must neither stop the server nor lock out every other robot.
    """
    found: dict[bytes, str] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob("*.key")):
        try:
            public = load_public(path)
            if len(public) != 40 or not public.decode("ascii").isprintable():
                raise InputError(str(path), "public-key is not 40 Z85 characters")
            match = _IDENTITY.search(path.read_text(errors="replace"))
        except (InputError, OSError, UnicodeError) as error:
            log.error("skipping key file %s: %s", printable(str(path)), printable(str(error)))
            continue
        found[public] = match.group(1) if match else path.stem
    return found


class KeyringAuthenticator(ThreadAuthenticator):
    """ZAP handler over the authorised folders, re-read on `reload`.

    A frame's ``User-Id`` property is its connection's public key (Z85); the server
    looks it up with `identity_of` on every frame, so a key removed from the folder
    stops working on the next `reload` even on a connection opened before it.
    """

    def __init__(self, context: zmq.Context, directory: str | Path) -> None:
        super().__init__(context)
        self.directory = Path(directory)
        self._names: dict[str, str] = {}

    def start(self) -> None:
        super().start()
        self.reload()

    def reload(self) -> None:
        """Re-read the authorised folders (after a robot is registered or removed)."""
        names: dict[str, str] = {}
        for domain in DOMAINS:
            found = identities(self.directory / "authorized" / domain)
            # The ZAP thread reads ``certs``: replace each domain's table in one step.
            self.certs[domain] = dict.fromkeys(found, True)
            if domain == ROBOT_DOMAIN:
                names.update({public.decode("ascii"): name for public, name in found.items()})
        self._names = names

    def curve_user_id(self, client_public_key: bytes) -> str:
        return z85.encode(client_public_key).decode("ascii")

    def identity_of(self, user_id: str | None) -> str | None:
        """The robot identity registered for a connection's key now, None if not (any more)."""
        return self._names.get(user_id) if user_id else None
