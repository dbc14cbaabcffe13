"""The ledger's tables, one definition rendered for SQLite and for PostgreSQL.

``stock``, ``lot_stock``, ``reservations`` and ``transfers`` are the current
state; ``movements`` (with ``movement_lots``) is the append-only history that
explains it. ``lots`` holds each lot's receipt date and optional expiry; every
on-hand change names the lots it touched: in ``movements.lot`` when it touched
one (the common case, no extra row), else one ``movement_lots`` row per lot. CHECK constraints
repeat the invariants the Python layer enforces first, so even a bug there
cannot store negative stock.

The tables are SQLAlchemy Core `Table` objects, compiled to each backend's DDL
(STRICT tables and ``AUTOINCREMENT`` on SQLite, identity columns and
``BIGINT`` on PostgreSQL). What Core cannot express, the triggers that make
``movements`` append-only, is written per backend below:

- SQLite: BEFORE UPDATE and BEFORE DELETE raise, and BEFORE INSERT raises when
  the new row would replace an existing id (``INSERT OR REPLACE`` deletes the
  row it replaces without firing delete triggers unless ``recursive_triggers``
  is on, which only our own connections can promise). A REPLACE that collides on
  a unique ``ref`` instead leaves a hole in the ids, which `balance_check` finds.
- PostgreSQL: row triggers refuse UPDATE (so also ``ON CONFLICT DO UPDATE``) and
  DELETE, a statement trigger refuses TRUNCATE.

The same triggers guard ``movement_lots`` and ``lots`` (a lot's dates never change).
Two more keep ``stock.on_hand`` the sum of the cell's ``lot_stock`` rows
(`LOT_STOCK_TRIGGERS`), so a booking writes the on-hand change once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa

from wms.inventory_types import Condition, LocationKind, MovementKind, StorageClass
from wms.layout.floor import STORAGE_ZONE_KINDS

SCHEMA_VERSION = 4
"""3 added lots (``lots``, ``lot_stock``, ``movement_lots``, ``movements.lot``); 4 added
storage classes (``skus.storage_class``, ``locations.zone``) and the lot a supplier
transfer brings (``transfers.lot``, ``transfers.expires_on``). `wms.ledger.migrate`
upgrades a version 2 or 3 database in place."""


def _enum_list(values: list[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


CONDITIONS = _enum_list([c.value for c in Condition])
KINDS = _enum_list([k.value for k in LocationKind])
MOVEMENT_KINDS = _enum_list([k.value for k in MovementKind])
STORAGE_CLASSES = _enum_list([c.value for c in StorageClass])
ZONES = _enum_list([k.value for k in STORAGE_ZONE_KINDS])

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

# SQLite's STRICT tables accept only INTEGER / REAL / TEXT; PostgreSQL needs 64 bits.
Qty = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Price = sa.Double().with_variant(sa.REAL(), "sqlite")
Text = sa.Text()

metadata = sa.MetaData()
_sqlite = {"sqlite_strict": True}


@dataclass(frozen=True)
class SchemaPart:
    """One package's tables in the site database: how they are created, and what they are.

    The ledger and the fleet each own a part (they share one database, and neither
    imports the other's). ``core`` holds the tables SQLAlchemy Core creates, in each
    backend's DDL; ``statements`` (per backend) run after them: triggers, or a table
    whose shape differs per backend, which ``described`` then names with its portable
    columns so that readers of the whole database (`wms.ledger.site_copy`) know it too.
    ``present`` are the PostgreSQL triggers whose presence says the statements ran.
    ``merged`` are tables whose rows triggers on another table of the part may have
    written already (a copy writes them after that table, over the trigger's rows).

    Guaranteed: `tables` is every table the part creates, in an order in which each
    comes after the tables it refers to or is written from.
    """

    core: sa.MetaData
    statements: Mapping[str, tuple[str, ...]]
    present: tuple[str, ...] = ()
    described: tuple[sa.Table, ...] = ()
    merged: frozenset[str] = field(default_factory=frozenset)

    @property
    def tables(self) -> tuple[sa.Table, ...]:
        return (*self.core.sorted_tables, *self.described)


def _key(name: str, **kw: object) -> sa.Column:
    """A generated integer id: rowid alias on SQLite, identity column on PostgreSQL."""
    return sa.Column(name, Qty, sa.Identity(), primary_key=True, **kw)


def _condition(name: str = "condition", nullable: bool = False) -> sa.Column:
    return sa.Column(
        name,
        Text,
        sa.CheckConstraint(f"{name} IN ({CONDITIONS})"),
        nullable=nullable,
    )


meta = sa.Table(
    "meta",
    metadata,
    sa.Column("key", Text, primary_key=True),
    sa.Column("value", Text, nullable=False),
    **_sqlite,
)

skus = sa.Table(
    "skus",
    metadata,
    sa.Column("sku", Text, sa.CheckConstraint("length(sku) > 0"), primary_key=True),
    sa.Column("description", Text, nullable=False, server_default=""),
    sa.Column("category", Text, nullable=False, server_default="general"),
    sa.Column(
        "unit_price",
        Price,
        sa.CheckConstraint("unit_price >= 0"),
        nullable=False,
        server_default="0",
    ),
    sa.Column(
        "storage_class",
        Text,
        sa.CheckConstraint(f"storage_class IN ({STORAGE_CLASSES})"),
        nullable=False,
        server_default=StorageClass.GENERAL.value,
    ),
    **_sqlite,
)

locations = sa.Table(
    "locations",
    metadata,
    sa.Column("location_id", Text, sa.CheckConstraint("length(location_id) > 0"), primary_key=True),
    sa.Column("kind", Text, sa.CheckConstraint(f"kind IN ({KINDS})"), nullable=False),
    sa.Column("cell_row", Qty),
    sa.Column("cell_col", Qty),
    sa.Column("zone", Text, sa.CheckConstraint(f"zone IN ({ZONES})")),
    **_sqlite,
)

forward_slots = sa.Table(
    "forward_slots",
    metadata,
    sa.Column("location_id", Text, sa.ForeignKey("locations.location_id"), primary_key=True),
    sa.Column("sku", Text, sa.ForeignKey("skus.sku"), nullable=False),
    sa.Column("min_qty", Qty, sa.CheckConstraint("min_qty >= 0"), nullable=False),
    sa.Column(
        "max_qty", Qty, sa.CheckConstraint("max_qty > 0 AND max_qty >= min_qty"), nullable=False
    ),
    **_sqlite,
)

stock = sa.Table(
    "stock",
    metadata,
    sa.Column("sku", Text, sa.ForeignKey("skus.sku"), nullable=False),
    sa.Column("location_id", Text, sa.ForeignKey("locations.location_id"), nullable=False),
    _condition(),
    sa.Column("on_hand", Qty, sa.CheckConstraint("on_hand >= 0"), nullable=False),
    sa.Column(
        "reserved",
        Qty,
        sa.CheckConstraint("reserved >= 0 AND reserved <= on_hand"),
        nullable=False,
        server_default="0",
    ),
    sa.PrimaryKeyConstraint("sku", "location_id", "condition"),
    sqlite_with_rowid=False,
    **_sqlite,
)

lots = sa.Table(
    "lots",
    metadata,
    sa.Column("sku", Text, sa.ForeignKey("skus.sku"), nullable=False),
    sa.Column("lot", Text, sa.CheckConstraint("length(lot) > 0"), nullable=False),
    sa.Column("received_on", Text, nullable=False),
    sa.Column("expires_on", Text),
    sa.CheckConstraint("expires_on IS NULL OR expires_on >= received_on"),
    sa.PrimaryKeyConstraint("sku", "lot"),
    sqlite_with_rowid=False,
    **_sqlite,
)

lot_stock = sa.Table(
    "lot_stock",
    metadata,
    sa.Column("sku", Text, nullable=False),
    sa.Column("location_id", Text, sa.ForeignKey("locations.location_id"), nullable=False),
    _condition(),
    sa.Column("lot", Text, nullable=False),
    sa.Column("on_hand", Qty, sa.CheckConstraint("on_hand >= 0"), nullable=False),
    sa.PrimaryKeyConstraint("sku", "location_id", "condition", "lot"),
    sa.ForeignKeyConstraint(["sku", "lot"], ["lots.sku", "lots.lot"]),
    sqlite_with_rowid=False,
    **_sqlite,
)

reservations = sa.Table(
    "reservations",
    metadata,
    _key("reservation_id"),
    sa.Column("sku", Text, nullable=False),
    sa.Column("location_id", Text, nullable=False),
    sa.Column("condition", Text, nullable=False),
    sa.Column("qty", Qty, sa.CheckConstraint("qty >= 0"), nullable=False),
    sa.Column("ref", Text),
    sa.ForeignKeyConstraint(
        ["sku", "location_id", "condition"],
        ["stock.sku", "stock.location_id", "stock.condition"],
    ),
    **_sqlite,
)

transfers = sa.Table(
    "transfers",
    metadata,
    _key("transfer_id"),
    sa.Column("sku", Text, sa.ForeignKey("skus.sku"), nullable=False),
    _condition(),
    sa.Column("from_location", Text, sa.ForeignKey("locations.location_id")),
    sa.Column("to_location", Text, sa.ForeignKey("locations.location_id"), nullable=False),
    sa.Column("qty", Qty, sa.CheckConstraint("qty >= 0"), nullable=False),
    sa.Column("ref", Text),
    sa.Column("lot", Text),
    sa.Column("expires_on", Text),
    **_sqlite,
)

movements = sa.Table(
    "movements",
    metadata,
    _key("movement_id"),
    sa.Column("at", Text, nullable=False),
    sa.Column("kind", Text, sa.CheckConstraint(f"kind IN ({MOVEMENT_KINDS})"), nullable=False),
    sa.Column("sku", Text, sa.ForeignKey("skus.sku"), nullable=False),
    _condition(),
    _condition("to_condition", nullable=True),
    sa.Column("qty", Qty, sa.CheckConstraint("qty > 0"), nullable=False),
    sa.Column("from_location", Text, sa.ForeignKey("locations.location_id")),
    sa.Column("to_location", Text, sa.ForeignKey("locations.location_id")),
    sa.Column("reservation_id", Qty, sa.ForeignKey("reservations.reservation_id")),
    sa.Column("transfer_id", Qty, sa.ForeignKey("transfers.transfer_id")),
    sa.Column("ref", Text),
    sa.Column("lot", Text),
    sqlite_autoincrement=True,
    **_sqlite,
)

movement_lots = sa.Table(
    "movement_lots",
    metadata,
    sa.Column("movement_id", Qty, sa.ForeignKey("movements.movement_id"), nullable=False),
    sa.Column("lot", Text, nullable=False),
    sa.Column("qty", Qty, sa.CheckConstraint("qty > 0"), nullable=False),
    sa.PrimaryKeyConstraint("movement_id", "lot"),
    sqlite_with_rowid=False,
    **_sqlite,
)


def _partial_unique(name: str, where: str) -> sa.Index:
    clause = sa.text(where)
    return sa.Index(
        name, movements.c.ref, unique=True, sqlite_where=clause, postgresql_where=clause
    )


sa.Index("movements_by_sku", movements.c.sku, movements.c.kind)
sa.Index("movements_by_reservation", movements.c.reservation_id)
_transfer = sa.text("transfer_id IS NOT NULL")
BY_TRANSFER = sa.Index(
    "movements_by_transfer",
    movements.c.transfer_id,
    sqlite_where=_transfer,
    postgresql_where=_transfer,
)
"""Arrivals find the lots still in transit on their transfer (partial: most movements
have no transfer, and pay nothing for it)."""
_partial_unique("returns_booked_once", "kind = 'return-in' AND ref IS NOT NULL")
_partial_unique("picks_confirmed_once", "kind = 'pick' AND ref LIKE 'confirm:%'")
_partial_unique("moves_confirmed_once", "kind = 'move' AND ref LIKE 'confirm:%'")
_open = sa.text("qty > 0")
sa.Index("transfers_open", transfers.c.to_location, sqlite_where=_open, postgresql_where=_open)

APPEND_ONLY = "movements are append-only"

SQLITE_LOT_STOCK_TRIGGERS = {
    "lot_stock_added": """CREATE TRIGGER IF NOT EXISTS lot_stock_added
        AFTER INSERT ON lot_stock BEGIN
        INSERT INTO stock (sku, location_id, condition, on_hand, reserved)
        VALUES (NEW.sku, NEW.location_id, NEW.condition, NEW.on_hand, 0)
        ON CONFLICT (sku, location_id, condition)
        DO UPDATE SET on_hand = stock.on_hand + excluded.on_hand; END""",
    "lot_stock_changed": """CREATE TRIGGER IF NOT EXISTS lot_stock_changed
        AFTER UPDATE OF on_hand ON lot_stock BEGIN
        UPDATE stock SET on_hand = on_hand + NEW.on_hand - OLD.on_hand
        WHERE sku = NEW.sku AND location_id = NEW.location_id AND condition = NEW.condition;
        END""",
}

TRIGGERS: dict[str, tuple[str, ...]] = {
    "sqlite": (
        f"""CREATE TRIGGER IF NOT EXISTS movements_no_update BEFORE UPDATE ON movements
        BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END""",
        f"""CREATE TRIGGER IF NOT EXISTS movements_no_delete BEFORE DELETE ON movements
        BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END""",
        f"""CREATE TRIGGER IF NOT EXISTS movements_no_replace BEFORE INSERT ON movements
        WHEN EXISTS (SELECT 1 FROM movements WHERE movement_id = NEW.movement_id)
        BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END""",
        f"""CREATE TRIGGER IF NOT EXISTS lots_no_update BEFORE UPDATE ON lots
        BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END""",
        f"""CREATE TRIGGER IF NOT EXISTS lots_no_delete BEFORE DELETE ON lots
        BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END""",
        f"""CREATE TRIGGER IF NOT EXISTS lots_no_replace BEFORE INSERT ON lots
        WHEN EXISTS (SELECT 1 FROM lots WHERE sku = NEW.sku AND lot = NEW.lot)
        BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END""",
        f"""CREATE TRIGGER IF NOT EXISTS movement_lots_no_update BEFORE UPDATE ON movement_lots
        BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END""",
        f"""CREATE TRIGGER IF NOT EXISTS movement_lots_no_delete BEFORE DELETE ON movement_lots
        BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END""",
        f"""CREATE TRIGGER IF NOT EXISTS movement_lots_no_replace BEFORE INSERT ON movement_lots
        WHEN EXISTS (SELECT 1 FROM movement_lots
                     WHERE movement_id = NEW.movement_id AND lot = NEW.lot)
        BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END""",
        *SQLITE_LOT_STOCK_TRIGGERS.values(),
    ),
    "postgresql": (
        f"""CREATE OR REPLACE FUNCTION ledger_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION USING
                MESSAGE = '{APPEND_ONLY} (' || TG_OP || ' refused)',
                ERRCODE = 'integrity_constraint_violation';
        END $$""",
        """CREATE OR REPLACE TRIGGER movements_no_change BEFORE UPDATE OR DELETE ON movements
        FOR EACH ROW EXECUTE FUNCTION ledger_append_only()""",
        """CREATE OR REPLACE TRIGGER movements_no_truncate BEFORE TRUNCATE ON movements
        FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only()""",
        """CREATE OR REPLACE TRIGGER movement_lots_no_change
        BEFORE UPDATE OR DELETE ON movement_lots
        FOR EACH ROW EXECUTE FUNCTION ledger_append_only()""",
        """CREATE OR REPLACE TRIGGER movement_lots_no_truncate BEFORE TRUNCATE ON movement_lots
        FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only()""",
        """CREATE OR REPLACE TRIGGER lots_no_change BEFORE UPDATE OR DELETE ON lots
        FOR EACH ROW EXECUTE FUNCTION ledger_append_only()""",
        """CREATE OR REPLACE TRIGGER lots_no_truncate BEFORE TRUNCATE ON lots
        FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only()""",
        """CREATE OR REPLACE FUNCTION ledger_lot_stock_to_stock() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                INSERT INTO stock (sku, location_id, condition, on_hand, reserved)
                VALUES (NEW.sku, NEW.location_id, NEW.condition, NEW.on_hand, 0)
                ON CONFLICT (sku, location_id, condition)
                DO UPDATE SET on_hand = stock.on_hand + excluded.on_hand;
            ELSE
                UPDATE stock SET on_hand = on_hand + NEW.on_hand - OLD.on_hand
                WHERE sku = NEW.sku AND location_id = NEW.location_id
                  AND condition = NEW.condition;
            END IF;
            RETURN NULL;
        END $$""",
        """CREATE OR REPLACE TRIGGER lot_stock_to_stock
        AFTER INSERT OR UPDATE OF on_hand ON lot_stock
        FOR EACH ROW EXECUTE FUNCTION ledger_lot_stock_to_stock()""",
    ),
}

LOT_STOCK_TRIGGERS = {
    "sqlite": tuple(SQLITE_LOT_STOCK_TRIGGERS),
    "postgresql": ("lot_stock_to_stock",),
}
"""The triggers that keep ``stock.on_hand`` equal to the sum of its lots' ``lot_stock``
rows: the ledger writes only ``lot_stock`` when units enter or leave a cell, and the
database adds the difference to ``stock`` in the same statement (one statement per
booking fewer than writing both: 3 µs CPU on SQLite, a round trip on PostgreSQL)."""

PG_TRIGGERS = {
    "lot_stock": {"lot_stock_to_stock"},
    "movements": {"movements_no_change", "movements_no_truncate"},
    "movement_lots": {"movement_lots_no_change", "movement_lots_no_truncate"},
    "lots": {"lots_no_change", "lots_no_truncate"},
}
"""The PostgreSQL triggers each append-only table must carry (checked before re-creating)."""

stock.add_is_dependent_on(lot_stock)
LEDGER_SCHEMA = SchemaPart(
    metadata,
    TRIGGERS,
    present=tuple(sorted(set().union(*PG_TRIGGERS.values()))),
    merged=frozenset({stock.name}),
)
"""The ledger's part of the site database. ``stock`` counts as written from
``lot_stock`` (`LOT_STOCK_TRIGGERS`), so it sorts after it: a copy that inserts the
lots first then writes each stock row over the one the trigger made."""

TABLES = tuple(metadata.tables)
