"""Which ledger database a command uses.

``--db URL`` first, then ``[wms.ledger] url`` from the config, then the demo
ledger under ``runs/``. Every one must already exist: a typo must not
silently create an empty ledger, and a missing default must not silently
become seven months of invented history — the demo is written only when
asked for (``warehouse stock --seed-demo``).
"""

from __future__ import annotations

import argparse
import sys

from tqdm import tqdm

from warehouse.config import load_config
from wms.errors import InputError
from wms.ledger import Ledger, parse_url
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
        f"config, else {DEFAULT_LEDGER_URL}; create it with warehouse stock --seed-demo)",
    )


def cli_ledger_url(db: str | None, config: str | None = None) -> str:
    """The ledger a command means: ``--db``, else the config's, else the default."""
    if db is not None:
        return db
    app = load_config(config)
    configured = app.wms.ledger_url
    return configured if configured is not None else DEFAULT_LEDGER_URL


def open_cli_ledger(db: str | None, config: str | None = None) -> Ledger:
    url = cli_ledger_url(db, config)
    if db is None and url == DEFAULT_LEDGER_URL and not parse_url(url).exists():
        raise InputError(
            url,
            "no ledger here yet: create the demo one with `warehouse stock --seed-demo`, "
            "or name a ledger with --db",
        )
    return Ledger.open(url, must_exist=True)


def seeded_demo(url: str, config: str | None, seed: int = 0) -> Ledger:
    """The demo history written into a new ledger, with a progress bar on a terminal."""
    floor = load_config(config).floor
    with tqdm(
        total=DEMO_DAYS, desc="demo ledger", file=sys.stderr, disable=not sys.stderr.isatty()
    ) as bar:
        return seed_demo(url, floor, seed=seed, days=DEMO_DAYS, progress=bar.update)
