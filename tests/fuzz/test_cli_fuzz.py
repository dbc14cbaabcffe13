"""Hostile files and command lines through the real CLI: exit 0, or exit 2 with one line and
the ledger untouched - never a traceback (`warehouse.cli_fuzz`; bench/fuzz.py runs 10,000).

Each property writes a hostile input, runs every command that reads it through
`warehouse.cli.main` in this process, and asserts `Outcome.problem` is None: no
exception out of ``main``, no exit code but 0 and 2, one stderr line on exit 2,
and an unchanged SQL dump of the ledger a refused ``--db`` command was given.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from random import Random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from warehouse.cli_fuzz import (
    FileKind,
    Outcome,
    file_input,
    file_kinds,
    hostile_argv,
    ledger_digest,
    prepare_work,
    reset_scratch,
    run_input,
)
from wms.ledger import Ledger

KINDS = file_kinds()
COUNTER = itertools.count()
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A scratch folder with a seeded ledger, also the working folder (bare names land here)."""
    root = tmp_path_factory.mktemp("fuzz")
    prepare_work(root)
    cwd = Path.cwd()
    os.chdir(root)
    try:
        yield root
    finally:
        os.chdir(cwd)
    with Ledger.open(str(root / "ledger.db"), must_exist=True) as ledger:
        assert ledger.balance_check().ok


def _judge(outcomes: list[Outcome]) -> None:
    for outcome in outcomes:
        assert outcome.problem is None, (outcome.argv, outcome.problem, outcome.stderr)


@FUZZ
@given(kind=st.sampled_from(sorted(KINDS)), rng=st.randoms(use_true_random=False))
def test_mutated_files_are_read_or_refused_in_one_line(kind: str, rng: Random, work: Path) -> None:
    """A valid example with byte, line and value mutations: exit 0 or one refused line."""
    _judge(file_input(rng, KINDS[kind], work, next(COUNTER)))


@FUZZ
@given(kind=st.sampled_from(sorted(KINDS)), data=st.binary(max_size=2000))
def test_arbitrary_bytes_as_any_input_file(kind: str, data: bytes, work: Path) -> None:
    """Arbitrary bytes in place of any input file are refused in one line (or, rarely, read)."""
    file_kind: FileKind = KINDS[kind]
    path = work / "inputs" / f"raw-{next(COUNTER)}{file_kind.suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    _judge([run_input(argv) for argv in file_kind.commands(path, work)])


@FUZZ
@given(rng=st.randoms(use_true_random=False))
def test_hostile_command_lines(rng: Random, work: Path) -> None:
    """Hostile option values on the cheap commands: exit 0 or one refused line."""
    try:
        _judge([run_input(hostile_argv(rng, work))])
    finally:
        reset_scratch(work)


def test_refused_returns_file_books_nothing(work: Path) -> None:
    """A returns file whose last row is bad is refused whole: the ledger's dump is unchanged
    (the contract the fuzz checks on every refused --db command, shown once directly)."""
    good = (KINDS["returns"].examples[0]).replace("RMA-", "RMA-direct-")
    path = work / "inputs" / "partly-bad.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(good.rstrip("\n") + "\nRMA-x,SKU-0001,bogus,intact,as_new,pass,0,1\n")
    before = ledger_digest(work / "ledger.db")
    outcome = run_input(["returns", "--db", str(work / "ledger.db"), "--input", str(path)])
    assert outcome.code == 2 and outcome.problem is None, outcome
    assert ledger_digest(work / "ledger.db") == before


def test_findings_of_the_fuzz_campaign_stay_fixed(work: Path) -> None:
    """What bench/fuzz.py found: ``demo --orders 0`` raised argparse's error past the CLI (a
    traceback), and a returns file of 200 MB was read whole (1.3 GiB): now one line each."""
    zero = run_input(["demo", "--planner", "none", "--orders", "0"])
    assert zero.code == 2 and zero.problem is None and "--orders" in zero.stderr
    big = work / "inputs" / "big-returns.csv"
    big.parent.mkdir(parents=True, exist_ok=True)
    with big.open("w") as out:
        out.write(KINDS["returns"].examples[0])
        out.write(("RMA-9,SKU-0001," + "x" * 100_000 + ",intact,as_new,pass,0,1\n") * 170)
    refused = run_input(["returns", "--db", str(work / "ledger.db"), "--input", str(big)])
    assert refused.code == 2 and refused.problem is None
    assert "larger than 16 MiB" in refused.stderr
