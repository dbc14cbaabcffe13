"""A released wave's demand as a CSV (``sku,qty`` with a header), for the CLI."""

from __future__ import annotations

from pathlib import Path

from wms.csv_rows import read_csv_rows
from wms.errors import InputError
from wms.ledger.ledger import MAX_QTY


def read_demand_csv(path: str | Path) -> dict[str, int]:
    path = Path(path)
    rows = read_csv_rows(path)
    if not rows or [h.strip().lower() for h in rows[0]] != ["sku", "qty"]:
        raise InputError(f"{path}:1", "header must be exactly: sku,qty")
    demand: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        where = f"{path}:{number}"
        if len(row) != 2 or not row[0].strip():
            raise InputError(where, "expected two fields: sku,qty")
        sku, text = row[0].strip(), row[1].strip()
        try:
            qty = int(text)
        except ValueError:
            raise InputError(where, f"column qty: {text!r} is not a whole number") from None
        if not 0 <= qty <= MAX_QTY:
            raise InputError(where, f"column qty: must be in 0..{MAX_QTY}, got {qty}")
        demand[sku] = demand.get(sku, 0) + qty
    return demand
