"""Opening stock for a simulated day, from a stock file or the demo history — never the plan.

A day's ledger must hold what the warehouse *has*, not what the day's orders
will need, so that a line the stock cannot cover is found short when the robot
gets there. Two sources:

- a stock file (``sku,location,qty[,kind]``, `read_stock_csv` / `stock_ledger`):
  ``kind`` is ``forward`` (a pick face: the SKU's forward slot, min/max from its
  quantity) or ``reserve``; left out, the floor's default kind of that face
  (`wms.ledger.floor_locations`). Bad rows are refused naming the file and line.
- the demo history (`wms.ledger.demo.seed_demo`): months of seeded receipts,
  picks, top-ups and returns, independent of any day's plan.

`stock_catalog` and `pick_faces` then tell planning what the ledger knows: the
SKUs it stocks (the synthetic order stream is drawn from them) and where each
is picked from. A SKU the ledger has nowhere is still given a face (an empty
forward one), so its lines go out with a robot and come back short.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from wms.catalog import Catalog, derived_catalog
from wms.csv_rows import read_csv_rows, table_rows
from wms.errors import InputError
from wms.inventory_types import LocationKind
from wms.layout import Floor
from wms.ledger import MAX_QTY, Ledger, LedgerError, SkuRecord, floor_locations
from wms.slotting.storage import storage_areas

STOCK_COLUMNS = ("sku", "location", "qty")
STOCK_OPTIONAL = ("kind",)
MIN_SHARE = 0.3
"""A forward slot's replenishment trigger, as a share of its opening quantity (its max)."""
STOCK_KINDS = {"forward": LocationKind.FORWARD, "reserve": LocationKind.RESERVE}


@dataclass(frozen=True, slots=True)
class StockRow:
    """One row of a stock file; ``where`` is ``file:line`` for errors found later."""

    where: str
    sku: str
    location_id: str
    qty: int
    kind: LocationKind | None = None


def read_stock_csv(path: str | Path) -> list[StockRow]:
    """Every row of a stock file; `InputError` naming ``file:line`` for the first bad one."""
    source = str(path)
    out: list[StockRow] = []
    seen: dict[tuple[str, str], str] = {}
    for where, cells in table_rows(read_csv_rows(path), source, STOCK_COLUMNS, STOCK_OPTIONAL):
        stock = _row(cells, where)
        key = (stock.sku, stock.location_id)
        if key in seen:
            raise InputError(
                where, f"SKU {stock.sku!r} at {stock.location_id} again (first at {seen[key]})"
            )
        seen[key] = where
        out.append(stock)
    if not out:
        raise InputError(source, "no stock (only a header row)")
    return out


def _row(cells: Mapping[str, str], where: str) -> StockRow:
    for column in ("sku", "location"):
        if not cells[column]:
            raise InputError(where, f"column {column}: must not be empty")
    text = cells["qty"]
    try:
        qty = int(text)
    except ValueError:
        raise InputError(where, f"column qty: {text!r} is not a whole number") from None
    if not 1 <= qty <= MAX_QTY:
        raise InputError(where, f"column qty: must be within 1..{MAX_QTY}, got {qty}")
    kind_text = cells.get("kind", "").lower()
    if kind_text and kind_text not in STOCK_KINDS:
        raise InputError(
            where, f"column kind: unknown kind {kind_text!r} (known: {', '.join(STOCK_KINDS)})"
        )
    kind = STOCK_KINDS.get(kind_text) if kind_text else None
    return StockRow(where, cells["sku"], cells["location"], qty, kind)


def stock_ledger(
    ledger: Ledger, floor: Floor, rows: Sequence[StockRow], catalog: Catalog | None = None
) -> None:
    """Register the floor's locations and the file's SKUs, set the forward slots, receive
    every row; one transaction, so a refused row leaves the ledger empty.

    Refused (naming the row): a location that is not a storage face of the floor, a
    face listed both forward and reserve, a forward face holding two SKUs, a SKU of a
    storage class outside the zones of its kind. A storage class the floor has no zone
    for is a `StorageClassError` naming the class and a SKU of it, before anything is read.
    """
    if catalog is not None:
        storage_areas(floor, catalog, [r.sku for r in rows if r.sku in catalog])
    records = floor_locations(floor)
    default_kind = {r.location_id: r.kind for r in records}
    kind_of: dict[str, tuple[LocationKind, str]] = {}
    forward_sku: dict[str, StockRow] = {}
    for row in rows:
        base = default_kind.get(row.location_id)
        if base not in (LocationKind.FORWARD, LocationKind.RESERVE):
            raise InputError(
                row.where, f"location {row.location_id!r} is not a storage face of {floor.name}"
            )
        kind = row.kind or base
        first = kind_of.setdefault(row.location_id, (kind, row.where))
        if first[0] is not kind:
            raise InputError(
                row.where, f"location {row.location_id} is {first[0].value} at {first[1]}"
            )
        if kind is LocationKind.FORWARD:
            other = forward_sku.setdefault(row.location_id, row)
            if other.sku != row.sku:
                raise InputError(
                    row.where,
                    f"forward face {row.location_id} already holds {other.sku!r} ({other.where})",
                )
    with ledger.transaction():
        ledger.add_skus(_sku_records(dict.fromkeys(r.sku for r in rows), catalog))
        ledger.add_locations(
            replace(r, kind=kind_of[r.location_id][0]) if r.location_id in kind_of else r
            for r in records
        )
        for location_id, row in sorted(forward_sku.items()):
            qty = sum(r.qty for r in rows if r.location_id == location_id)
            ledger.set_forward_slot(location_id, row.sku, math.floor(MIN_SHARE * qty), qty)
        for row in rows:
            try:
                ledger.receive(row.sku, row.location_id, row.qty, ref=f"opening stock {row.where}")
            except LedgerError as error:
                raise InputError(row.where, str(error)) from None


def ledger_sku(catalog: Catalog, sku: str) -> SkuRecord:
    """The ledger's record of a catalogue SKU: category, price and storage class."""
    known = catalog[sku]
    return SkuRecord(sku, sku, known.category, known.unit_price or 0.0, known.storage_class)


def _sku_records(skus: Iterable[str], catalog: Catalog | None) -> list[SkuRecord]:
    return [
        ledger_sku(catalog, sku) if catalog is not None and sku in catalog else SkuRecord(sku, sku)
        for sku in skus
    ]


def stock_catalog(ledger: Ledger, base: Catalog, seed: int = 0) -> Catalog:
    """The SKUs the ledger knows, measured as in ``base`` where it has them, else with
    dimensions derived from the id (`wms.catalog.derived_catalog`, flagged synthetic)."""
    records = ledger.skus()
    missing = [r.sku for r in records if r.sku not in base]
    derived = derived_catalog(missing, {r.sku: r.unit_price for r in records}, seed)
    skus = {r.sku: base[r.sku] if r.sku in base else derived[r.sku] for r in records}
    return Catalog(skus, synthetic=base.synthetic or bool(missing), note=base.note or derived.note)


def stocked_skus(ledger: Ledger) -> list[str]:
    """The SKUs the ledger holds any unit of, in catalogue order: what orders are drawn from."""
    held = {row.sku for row in ledger.stock() if row.on_hand > 0}
    return [r.sku for r in ledger.skus() if r.sku in held]


def pick_faces(ledger: Ledger, skus: Iterable[str], location_ids: Sequence[str]) -> dict[str, int]:
    """Where each SKU is picked from, as an index into ``location_ids`` (the travel model's).

    Its forward slot; else the face of the floor holding the most of it; else an empty
    forward face (round robin), where the robot will find nothing and report it short.
    """
    index = {loc: i for i, loc in enumerate(location_ids)}
    slots = {s.sku: s.location_id for s in ledger.forward_slots() if s.location_id in index}
    most: dict[str, tuple[int, str]] = {}
    used: set[str] = set(slots.values())
    for row in ledger.stock():
        if row.location_id not in index or row.on_hand <= 0:
            continue
        used.add(row.location_id)
        best = most.get(row.sku)
        if best is None or (row.on_hand, row.location_id) > best:
            most[row.sku] = (row.on_hand, row.location_id)
    empty = (
        [
            r.location_id
            for r in ledger.locations(LocationKind.FORWARD)
            if r.location_id in index and r.location_id not in used
        ]
        or [loc for loc in location_ids if loc not in used]
        or list(location_ids)
    )
    faces: dict[str, int] = {}
    spare = 0
    for sku in skus:
        if sku in faces:
            continue
        location = slots.get(sku) or (most[sku][1] if sku in most else None)
        if location is None:
            location = empty[spare % len(empty)]
            spare += 1
        faces[sku] = index[location]
    return faces
