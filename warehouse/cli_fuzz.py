"""Hostile input for the command line: mutated files and argument lists, and the checks.

Used by ``bench/fuzz.py`` (10,000 inputs) and ``tests/fuzz`` (hypothesis, fewer).
Every input goes through the real entry point, `warehouse.cli.main`, in this
process, and must end in one of two ways:

* exit 0, or
* exit 2 with exactly one line on stderr, and, when the command was given a
  ledger (``--db``), the ledger exactly as it was (a digest of its SQL dump
  before and after).

Anything else - another exit code, a traceback, an exception out of ``main``,
a rejected input that changed the ledger - is a finding (`Outcome.problem`).

Files are mutated from the repository's own valid examples (configs, a MovingAI
map, scenarios, orders, returns and demand CSVs, the returns policy) at three
levels: bytes (flips, inserts, cuts, invalid UTF-8, NULs), lines (dropped,
repeated, swapped, hostile lines added) and values (a TOML value or CSV cell
replaced by a hostile literal: NaN, infinities, huge or negative numbers,
empty or 100 kB strings, wrong types, deeply nested arrays).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import itertools
import logging
import re
import shutil
import signal
import sqlite3
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from random import Random
from typing import Any

from warehouse.cli import main

REPO = Path(__file__).resolve().parent.parent

OK_MAP = "type octile\nheight 6\nwidth 8\nmap\n" + "\n".join(
    ["........", ".TT..TT.", "........", ".@@..@@.", "........", "........"]
)

TOML_VALUES = (
    "nan",
    "inf",
    "-inf",
    "-1",
    "0",
    "1e308",
    "-1e308",
    "9223372036854775807",
    "-9223372036854775808",
    "99999999999999999999999",
    "0.0000001",
    '""',
    '"' + "x" * 100_000 + '"',
    '"é\\u0000\\u202e"',
    "[]",
    "[[1, 2], [3]]",
    "[" * 600 + "]" * 600,
    "{a = 1}",
    "true",
    "1979-05-27T07:32:00Z",
    '"../../../../etc/passwd"',
    '"/dev/zero"',
    '"/proc/self/mem"',
    '"postgresql://nobody@127.0.0.1:1/x"',
    '"sqlite:////proc/x.db"',
    "[[0, 0], [-1, -1], [1000000, 1000000]]",
    '"picking"',
    '"earthquake"',
    "1",
    "10000",
)
CSV_VALUES = (
    "",
    " ",
    "nan",
    "inf",
    "-inf",
    "-1",
    "0",
    "1e400",
    "1.5",
    "9" * 400,
    "x" * 100_000,
    '"',
    '"a,b"',
    "a\nb",
    "é",
    "\u202e",
    "=cmd()",
    "2026-13-45 25:61",
    "NULL",
    "SKU-0007",
    "SKU-0001",
    "same_day",
    "defective",
)
MAP_CHARS = ".G@OTWS?é\t "


@dataclass(frozen=True, slots=True)
class FileKind:
    """One kind of input file: its valid examples, its value literals, the commands reading it.

    ``commands(path, work)`` gives the argument lists that read the file at
    ``path``; ``work`` is a scratch folder holding the ledger ``ledger.db``.
    """

    name: str
    suffix: str
    examples: tuple[str, ...]
    values: tuple[str, ...]
    commands: Callable[[Path, Path], list[list[str]]]


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _scenario_example(name: str) -> str:
    """A scenario from configs/scenarios with its config path made absolute and a short day."""
    text = _text(REPO / "configs" / "scenarios" / name)
    text = text.replace('"../default.toml"', f'"{REPO / "configs" / "default.toml"}"')
    return text.replace('"../retail.toml"', f'"{REPO / "configs" / "retail.toml"}"')


GRADED_RETURNS = (
    "return_id,sku,reason,packaging,cosmetic,functional,missing_parts,qty,category,new_price\n"
    "R1,SKU-1,unwanted_item,intact,as_new,not_tested,0,1,electronics,199.0\n"
    "R2,SKU-2,defective,opened,light_wear,fail,1,2,apparel,25.5\n"
    "R3,SKU-3,damaged_by_carrier,damaged,damaged,pass,0,1,books,12.0\n"
)
"""Returns graded without a ledger (the policy fuzz reads these, so a valid policy is used)."""


def file_kinds() -> dict[str, FileKind]:
    """Every kind of file the CLI reads, with the commands that read it."""
    config = REPO / "configs"
    return {
        kind.name: kind
        for kind in (
            FileKind(
                "config",
                ".toml",
                (_text(config / "default.toml"),),
                TOML_VALUES,
                lambda p, w: [["floor", "info", "--config", str(p), "--samples", "1", "--json"]],
            ),
            FileKind(
                "map",
                ".map",
                (OK_MAP,),
                (),
                lambda p, w: [["floor", "info", "--map", str(p), "--samples", "1", "--json"]],
            ),
            FileKind(
                "scenario",
                ".toml",
                tuple(
                    _scenario_example(n)
                    for n in sorted(p.name for p in (config / "scenarios").glob("*.toml"))
                ),
                TOML_VALUES,
                # The scenario is read and bound to its floor in full; an unknown planner
                # then stops the day before it starts, so a valid file costs no demo run.
                lambda p, w: [["demo", "--scenario", str(p), "--planner", "none", "--json"]],
            ),
            FileKind(
                "orders",
                ".csv",
                (_text(config / "orders_example.csv"),),
                CSV_VALUES,
                lambda p, w: [
                    ["slot", "--orders", str(p), "--json"],
                    ["wave", "--orders", str(p), "--json"],
                ],
            ),
            FileKind(
                "returns",
                ".csv",
                (_text(config / "examples" / "returns.csv"),),
                CSV_VALUES,
                lambda p, w: [["returns", "--db", str(w / "ledger.db"), "--input", str(p)]],
            ),
            FileKind(
                "demand",
                ".csv",
                (_text(config / "examples" / "wave_demand.csv"),),
                CSV_VALUES,
                lambda p, w: [["replenish", "--db", str(w / "ledger.db"), "--demand", str(p)]],
            ),
            FileKind(
                "policy",
                ".toml",
                (_text(config / "returns_policy.toml"),),
                TOML_VALUES,
                lambda p, w: [
                    ["returns", "--no-ledger", "--input", str(w / "graded.csv"), "--policy", str(p)]
                ],
            ),
        )
    }


# --- mutations ------------------------------------------------------------------------

_ASSIGNMENT = re.compile(r"^(\s*[A-Za-z0-9_.\"-]+\s*=\s*)(.+)$")


def _replace_toml_value(rng: Random, lines: list[str], kind: FileKind) -> list[str]:
    spots = [i for i, line in enumerate(lines) if _ASSIGNMENT.match(line)]
    if not spots:
        return lines
    i = rng.choice(spots)
    match = _ASSIGNMENT.match(lines[i])
    assert match is not None
    lines[i] = match.group(1) + rng.choice(kind.values)
    return lines


def _replace_csv_cell(rng: Random, lines: list[str], kind: FileKind) -> list[str]:
    if len(lines) < 1:
        return lines
    i = rng.randrange(len(lines))
    cells = lines[i].split(",")
    cells[rng.randrange(len(cells))] = rng.choice(kind.values)
    if rng.random() < 0.2:
        cells.append(rng.choice(kind.values))
    elif rng.random() < 0.2 and len(cells) > 1:
        cells.pop()
    lines[i] = ",".join(cells)
    return lines


def _mutate_map(rng: Random, lines: list[str], kind: FileKind) -> list[str]:
    choice = rng.randrange(4)
    header = [i for i, line in enumerate(lines) if line.split(" ")[0] in ("height", "width")]
    if choice == 0 and header:
        i = rng.choice(header)
        number = rng.choice(["0", "-1", "1", "99999999", "x", "", "1e3", "4 4"])
        lines[i] = lines[i].split(" ")[0] + " " + number
    elif choice == 1 and len(lines) > 4:
        i = rng.randrange(4, len(lines))
        row = list(lines[i])
        for _ in range(rng.randint(1, 4)):
            if row:
                row[rng.randrange(len(row))] = rng.choice(MAP_CHARS)
        lines[i] = "".join(row)
    elif choice == 2 and lines:
        lines[0] = rng.choice(["type octile", "type", "type grid", "", "height 2"])
    else:
        width = rng.choice([1, 300, 5000])
        lines.append("." * width)
    return lines


def _line_level(rng: Random, lines: list[str]) -> list[str]:
    if not lines:
        return [rng.choice(["[", "=", "a,b,c", "\x00"])]
    i = rng.randrange(len(lines))
    choice = rng.randrange(5)
    if choice == 0:
        del lines[i]
    elif choice == 1:
        lines.insert(i, lines[i])
    elif choice == 2:
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif choice == 3:
        lines.insert(
            i,
            rng.choice(
                [
                    "[floor]",
                    "[bogus]",
                    "[[faults]]",
                    "unknown_key = 1",
                    "[" + ".".join(["a"] * 300) + "]",
                    "x = " + "[" * 2000,
                    ",,,,,,,,",
                    "\ufeff",
                ]
            ),
        )
    else:
        lines = lines[:i]
    return lines


def _byte_level(rng: Random, data: bytes) -> bytes:
    buffer = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        choice = rng.randrange(6)
        at = rng.randrange(len(buffer) + 1)
        if choice == 0 and buffer:
            buffer[min(at, len(buffer) - 1)] = rng.randrange(256)
        elif choice == 1:
            buffer[at:at] = rng.randbytes(rng.randint(1, 16))
        elif choice == 2:
            del buffer[at : at + rng.randint(1, 64)]
        elif choice == 3:
            buffer[at:at] = rng.choice([b"\x00", b"\xff\xfe", b"\xc3", b"\r", b"\r\n", b'"', b"'"])
        elif choice == 4:
            del buffer[at:]
        else:
            chunk = bytes(buffer[at : at + rng.randint(1, 200)])
            buffer[at:at] = chunk * rng.randint(1, 50)
    return bytes(buffer)


def mutate(rng: Random, kind: FileKind) -> bytes:
    """One hostile file of ``kind``: a valid example with one to three mutations."""
    text = rng.choice(kind.examples)
    level = rng.random()
    if level < 0.15:
        return _byte_level(rng, text.encode("utf-8"))
    if level < 0.17:
        return rng.randbytes(rng.randint(0, 4096))
    lines = text.split("\n")
    for _ in range(rng.randint(1, 3)):
        if rng.random() < 0.3:
            lines = _line_level(rng, lines)
        elif kind.name == "map":
            lines = _mutate_map(rng, lines, kind)
        elif kind.suffix == ".csv":
            lines = _replace_csv_cell(rng, lines, kind)
        else:
            lines = _replace_toml_value(rng, lines, kind)
    if kind.suffix == ".csv" and rng.random() < 0.01:  # a long file, not only long fields
        lines += lines[1:] * 2000
    return "\n".join(lines).encode("utf-8")


# --- argument lists -------------------------------------------------------------------

ARG_VALUES = (
    "",
    "-1",
    "0",
    "1",
    "nan",
    "inf",
    "1e309",
    "99999999999999999999",
    "x" * 5000,
    "é",
    "--",
    "-",
    "/dev/zero",
    "/proc/self/mem",
    "/",
    "tcp://",
    "tcp://127.0.0.1:99999",
    "ipc:///nonexistent/dir/sock",
    "sqlite:////proc/x.db",
    "postgresql://nobody@127.0.0.1:1/x",
    "acme/r1",
    "a/b/c",
    "2,3",
    "1,2;3,4",
    "1,2;;",
)


def hostile_argv(rng: Random, work: Path) -> list[str]:
    """A command line for a command that is cheap even when the line is valid."""
    db = str(work / "ledger.db")
    choices: list[Callable[[], list[str]]] = [
        lambda: ["floor", "info", _opt(rng, "--samples", "--seed", "--config", "--map")],
        lambda: ["floor", "generate", "--out", str(work / "out" / "g.map"), _layout(rng)],
        lambda: ["slot", _opt(rng, "--count", "--seed", "--strategy", "--current", "--orders")],
        lambda: ["wave", _opt(rng, "--count", "--seed", "--orders", "--config")],
        lambda: ["stock", "--db", db, _opt(rng, "--sku", "--seed", "--config")],
        lambda: ["stock", "--db", rng.choice(ARG_VALUES)],
        lambda: ["returns", "--db", db, "--input", rng.choice(ARG_VALUES)],
        lambda: ["replenish", "--db", db, _opt(rng, "--demand", "--config")],
        lambda: [
            "ageing",
            "--db",
            db,
            _opt(rng, "--config", "--window-days", "--no-sale-days", "--clearance-days"),
        ],
        lambda: ["keys", "generate", "--dir", str(work / "keys"), _opt(rng, *KEY_OPTIONS)],
        lambda: [
            "ctl",
            "--connect",
            rng.choice(["tcp://127.0.0.1:1", *ARG_VALUES]),
            "--timeout",
            rng.choice(["0.05", "0.1", *ARG_VALUES]),
            *rng.choice(CTL_COMMANDS),
        ],
        lambda: [
            "sim",
            "--connect",
            rng.choice(["tcp://127.0.0.1:1", *ARG_VALUES]),
            "--seconds",
            "0.05",
            _opt(rng, "--robots", "--speed", "--keys", "--config"),
        ],
        lambda: ["demo", "--planner", "none", _opt(rng, "--robots", "--agvs", "--orders")],
    ]
    argv = rng.choice(choices)()
    flat: list[str] = []
    for part in argv:
        flat.extend(part) if isinstance(part, list) else flat.append(part)
    if rng.random() < 0.1:
        flat.insert(rng.randrange(len(flat) + 1), rng.choice(ARG_VALUES))
    return flat


KEY_OPTIONS = ("--robot", "--robots", "--viewer", "--operator", "--manufacturer")
CTL_COMMANDS = (
    ["tasks", "add", "--kind", "move", "--to"],
    ["tasks", "add", "--kind", "pick_route", "--stops"],
    ["tasks", "cancel"],
    ["tasks", "priority", "t1"],
    ["drain"],
    ["pause", "--robot"],
    ["estop"],
)


def _opt(rng: Random, *names: str) -> list[str]:
    out: list[str] = []
    for name in rng.sample(names, rng.randint(1, len(names))):
        out += [name, rng.choice(ARG_VALUES)]
    return out


def _layout(rng: Random) -> list[str]:
    names = (
        "--blocks-x",
        "--blocks-y",
        "--rack-length",
        "--rack-pairs",
        "--aisle-width",
        "--cross-aisle-width",
        "--docks",
        "--stations",
        "--chargers",
        "--margin",
        "--name",
    )
    return _opt(rng, *names)


# --- running --------------------------------------------------------------------------


class InputTimeout(BaseException):
    """One input ran longer than its budget (raised by the alarm; a finding, not a crash)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    argv: tuple[str, ...]
    code: int | None
    stderr: str
    problem: str | None
    """None when the input ended as the contract says; otherwise what went wrong."""
    ledger_checked: bool = False


def ledger_digest(path: Path) -> str | None:
    """A digest of the ledger's SQL dump (None if there is no file): equal dumps, equal data.

    A file SQLite cannot read as a database is digested byte for byte instead.
    """
    if not path.exists():
        return None
    digest = hashlib.sha256()
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            for line in conn.iterdump():
                digest.update(line.encode("utf-8", "surrogatepass"))
        finally:
            conn.close()
    except sqlite3.Error:
        digest = hashlib.sha256(b"bytes:" + path.read_bytes())
    return digest.hexdigest()


def _db_of(argv: Sequence[str]) -> Path | None:
    """The SQLite ledger an argument list names with ``--db``, if that is an SQLite file."""
    for flag, value in itertools.pairwise(argv):
        if flag == "--db":
            path = Path(value.removeprefix("sqlite:///"))
            try:
                with path.open("rb") as file:
                    header = file.read(16)
            except OSError:
                return None
            return path if header == b"SQLite format 3\x00" else None
    return None


@contextlib.contextmanager
def _isolated(budget_s: float) -> Iterator[tuple[io.StringIO, io.StringIO]]:
    """Captured stdout/stderr; signal and logging set-up restored; an alarm after ``budget_s``."""
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    root = logging.getLogger()
    log_handlers, log_level = list(root.handlers), root.level

    def alarm(*_: Any) -> None:
        raise InputTimeout

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, budget_s)
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            yield out, err
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        root.handlers[:], root.level = log_handlers, log_level


def run_input(argv: Sequence[str], budget_s: float = 60.0) -> Outcome:
    """Run one command line through `warehouse.cli.main` and judge it (see the module doc)."""
    db = _db_of(argv)
    before = ledger_digest(db) if db is not None else None
    code: int | None = None
    problem: str | None = None
    with _isolated(budget_s) as (_, err):
        try:
            code = main(list(argv))
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 2)
        except InputTimeout:
            problem = f"ran longer than {budget_s:g} s"
        except BaseException:  # every escape from main is the finding
            problem = "exception: " + traceback.format_exc(limit=-8)
    stderr = err.getvalue()
    lines = [line for line in stderr.splitlines() if line.strip()]
    if problem is None:
        if code not in (0, 2):
            problem = f"exit code {code}"
        elif "Traceback (most recent call last)" in stderr:
            problem = "traceback on stderr"
        elif code == 2 and len(lines) != 1:
            problem = f"exit 2 with {len(lines)} stderr lines"
    if problem is None and code == 2 and db is not None and ledger_digest(db) != before:
        problem = "refused input changed the ledger"
    return Outcome(tuple(argv), code, stderr[-4000:], problem, ledger_checked=db is not None)


def prepare_work(work: Path) -> None:
    """The scratch folder: a seeded demo ledger ``ledger.db`` (exit 0 or it is a bug)."""
    work.mkdir(parents=True, exist_ok=True)
    for stale in work.glob("ledger.db*"):
        stale.unlink()
    (work / "graded.csv").write_text(GRADED_RETURNS, encoding="utf-8")
    outcome = run_input(["stock", "--seed-demo", "--db", str(work / "ledger.db"), "--json"])
    if outcome.code != 0:
        raise RuntimeError(f"cannot seed the fuzz ledger: {outcome.stderr}")
    graded = run_input(["returns", "--no-ledger", "--input", str(work / "graded.csv")])
    if graded.code != 0:
        raise RuntimeError(f"the graded returns example is refused: {graded.stderr}")


def file_input(rng: Random, kind: FileKind, work: Path, index: int) -> list[Outcome]:
    """Write one mutated file of ``kind`` and run every command that reads it."""
    path = work / "inputs" / f"{kind.name}-{index}{kind.suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = mutate(rng, kind)
    if kind.name == "returns":  # fresh return ids: a valid file is booked, not "already booked"
        data = data.replace(b"RMA-", f"RMA-{index}-".encode())
    path.write_bytes(data)
    outcomes = [run_input(argv) for argv in kind.commands(path, work)]
    if all(o.problem is None for o in outcomes):
        path.unlink()
    return outcomes


def reset_scratch(work: Path) -> None:
    """Remove what valid commands left in the scratch folder (keys, generated maps)."""
    for name in ("keys", "out"):
        shutil.rmtree(work / name, ignore_errors=True)
