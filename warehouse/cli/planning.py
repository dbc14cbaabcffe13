"""Shared plumbing of ``warehouse slot`` and ``warehouse wave``: options, loading, progress."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from warehouse.cli.common import add_json, int_in, seed_int
from warehouse.config import load_config
from wms.orders import OrderBook
from wms.picking.plan import Progress
from wms.planning import FloorModel, floor_model, load_order_book
from wms.planning_config import PlanningConfig


def add_planning_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="F", help="TOML config (default: configs/default.toml)")
    parser.add_argument(
        "--orders",
        metavar="CSV",
        help="orders CSV (own format or UCI Online Retail); default: the seeded synthetic stream",
    )
    parser.add_argument("--seed", type=seed_int, default=0, help="seed of the synthetic orders")
    parser.add_argument(
        "--count",
        type=int_in(1, 1_000_000),
        metavar="N",
        help="number of synthetic orders (default: [wms.orders] orders)",
    )
    add_json(parser)


@dataclass(frozen=True, eq=False)
class PlanningInputs:
    config: PlanningConfig
    book: OrderBook
    model: FloorModel


def load_inputs(args: argparse.Namespace, sku_ids: Sequence[str] | None = None) -> PlanningInputs:
    """Config, orders and floor; ``sku_ids`` (a ledger's SKUs) make the synthetic catalogue."""
    app = load_config(args.config)
    config = app.wms.planning
    if args.count is not None:
        config = replace(config, profile=replace(config.profile, orders=args.count))
    book = load_order_book(config, args.orders, args.seed, sku_ids)
    return PlanningInputs(config, book, floor_model(app.floor))


def tqdm_progress(enabled: bool) -> Progress:
    """A tqdm bar on stderr, only for a human at a terminal."""

    def progress(items: Iterable[Any], total: int, label: str) -> Iterable[Any]:
        if not enabled or not sys.stderr.isatty():
            return items
        from tqdm import tqdm

        return tqdm(items, total=total, desc=label, file=sys.stderr, leave=False)

    return progress
