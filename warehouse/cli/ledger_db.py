"""Which ledger database a command uses.

``--db URL`` first, then ``[wms.ledger] url`` from the config, then the demo
ledger under ``runs/``. A named database must already exist (a typo must not
silently create an empty ledger); the default one is seeded with the demo on
first use so ``warehouse stock`` shows something on a fresh checkout.
"""

from __future__ import annotations

import argparse
import sys

from tqdm import tqdm

from warehouse.config import load_config
from wms.ledger import Ledger, parse_url
from wms.ledger.config import ledger_url_from_section
from wms.ledger.demo import seed_demo

DEMO_DAYS = 200
DEFAULT_LEDGER_URL = "sqlite:///runs/ledger.db"


def add_db(parser: argparse.ArgumentParser, config_help: str = "") -> None:
    """``--db URL`` and ``--config F`` (the config may name the ledger and seeds the demo)."""
    parser.add_argument(
        "--config",
        metavar="F",
        help="TOML config: [wms.ledger] url, the floor the demo ledger is seeded on"
        + (f", {config_help}" if config_help else ""),
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help="ledger database: sqlite:///path.db or a path (default: [wms.ledger] url in the "
        f"config, else {DEFAULT_LEDGER_URL}, seeded with the demo when missing)",
    )


def open_cli_ledger(db: str | None, config: str | None = None) -> Ledger:
    if db is not None:
        return Ledger.open(db, must_exist=True)
    app = load_config(config)
    configured = ledger_url_from_section(app.section("wms"), f"{app.path}: wms")
    if configured is not None:
        return Ledger.open(configured, must_exist=True)
    if parse_url(DEFAULT_LEDGER_URL).exists():
        return Ledger.open(DEFAULT_LEDGER_URL)
    ledger = seeded_demo(DEFAULT_LEDGER_URL, config)
    print(f"warehouse: seeded the demo ledger at {DEFAULT_LEDGER_URL}", file=sys.stderr)
    return ledger


def seeded_demo(url: str, config: str | None, seed: int = 0) -> Ledger:
    """The demo history written into a new ledger, with a progress bar on a terminal."""
    floor = load_config(config).floor
    with tqdm(
        total=DEMO_DAYS, desc="demo ledger", file=sys.stderr, disable=not sys.stderr.isatty()
    ) as bar:
        return seed_demo(url, floor, seed=seed, days=DEMO_DAYS, progress=bar.update)
