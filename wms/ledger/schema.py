"""The ledger's tables.

``stock`` and ``reservations`` and ``transfers`` are the current state;
``movements`` is the append-only history that explains it (triggers refuse
UPDATE and DELETE). CHECK constraints repeat the invariants the Python layer
enforces first, so even a bug there cannot store negative stock.
"""

from __future__ import annotations

from wms.inventory_types import Condition, LocationKind, MovementKind

SCHEMA_VERSION = 2


def _enum_list(values: list[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


CONDITIONS = _enum_list([c.value for c in Condition])
KINDS = _enum_list([k.value for k in LocationKind])
MOVEMENT_KINDS = _enum_list([k.value for k in MovementKind])

ON_HAND_KINDS = (
    MovementKind.RECEIPT,
    MovementKind.PICK,
    MovementKind.MOVE,
    MovementKind.ADJUST,
    MovementKind.RETURN_IN,
    MovementKind.DISPATCH,
    MovementKind.ARRIVE,
    MovementKind.REGRADE,
)

DDL = f"""
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS skus (
    sku TEXT PRIMARY KEY CHECK (length(sku) > 0),
    description TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL DEFAULT 'general',
    unit_price REAL NOT NULL DEFAULT 0 CHECK (unit_price >= 0)
) STRICT;

CREATE TABLE IF NOT EXISTS locations (
    location_id TEXT PRIMARY KEY CHECK (length(location_id) > 0),
    kind TEXT NOT NULL CHECK (kind IN ({KINDS})),
    cell_row INTEGER,
    cell_col INTEGER
) STRICT;

CREATE TABLE IF NOT EXISTS forward_slots (
    location_id TEXT PRIMARY KEY REFERENCES locations(location_id),
    sku TEXT NOT NULL REFERENCES skus(sku),
    min_qty INTEGER NOT NULL CHECK (min_qty >= 0),
    max_qty INTEGER NOT NULL CHECK (max_qty > 0 AND max_qty >= min_qty)
) STRICT;

CREATE TABLE IF NOT EXISTS stock (
    sku TEXT NOT NULL REFERENCES skus(sku),
    location_id TEXT NOT NULL REFERENCES locations(location_id),
    condition TEXT NOT NULL CHECK (condition IN ({CONDITIONS})),
    on_hand INTEGER NOT NULL CHECK (on_hand >= 0),
    reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND reserved <= on_hand),
    PRIMARY KEY (sku, location_id, condition)
) STRICT, WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS reservations (
    reservation_id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL,
    location_id TEXT NOT NULL,
    condition TEXT NOT NULL,
    qty INTEGER NOT NULL CHECK (qty >= 0),
    ref TEXT,
    FOREIGN KEY (sku, location_id, condition) REFERENCES stock(sku, location_id, condition)
) STRICT;

CREATE TABLE IF NOT EXISTS transfers (
    transfer_id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL REFERENCES skus(sku),
    condition TEXT NOT NULL CHECK (condition IN ({CONDITIONS})),
    from_location TEXT REFERENCES locations(location_id),
    to_location TEXT NOT NULL REFERENCES locations(location_id),
    qty INTEGER NOT NULL CHECK (qty >= 0),
    ref TEXT
) STRICT;

CREATE TABLE IF NOT EXISTS movements (
    movement_id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ({MOVEMENT_KINDS})),
    sku TEXT NOT NULL REFERENCES skus(sku),
    condition TEXT NOT NULL CHECK (condition IN ({CONDITIONS})),
    to_condition TEXT CHECK (to_condition IN ({CONDITIONS})),
    qty INTEGER NOT NULL CHECK (qty > 0),
    from_location TEXT REFERENCES locations(location_id),
    to_location TEXT REFERENCES locations(location_id),
    reservation_id INTEGER REFERENCES reservations(reservation_id),
    transfer_id INTEGER REFERENCES transfers(transfer_id),
    ref TEXT
) STRICT;

CREATE INDEX IF NOT EXISTS movements_by_sku ON movements (sku, kind);
CREATE UNIQUE INDEX IF NOT EXISTS returns_booked_once ON movements (ref)
    WHERE kind = 'return-in' AND ref IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS picks_confirmed_once ON movements (ref)
    WHERE kind = 'pick' AND ref LIKE 'confirm:%';
CREATE UNIQUE INDEX IF NOT EXISTS moves_confirmed_once ON movements (ref)
    WHERE kind = 'move' AND ref LIKE 'confirm:%';
CREATE INDEX IF NOT EXISTS transfers_open ON transfers (to_location) WHERE qty > 0;

CREATE TRIGGER IF NOT EXISTS movements_no_update BEFORE UPDATE ON movements
BEGIN SELECT RAISE(ABORT, 'movements are append-only'); END;

CREATE TRIGGER IF NOT EXISTS movements_no_delete BEFORE DELETE ON movements
BEGIN SELECT RAISE(ABORT, 'movements are append-only'); END;
"""

TABLES = (
    "meta",
    "skus",
    "locations",
    "forward_slots",
    "stock",
    "reservations",
    "transfers",
    "movements",
)
