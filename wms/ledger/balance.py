"""Recompute on-hand, reserved and in-transit from the movements alone.

The movements are the ledger's truth; ``stock``, ``reservations`` and
``transfers`` are caches of their sum. This check rebuilds every quantity from
the history and lists each place where the caches disagree, so a corrupted or
hand-edited database is caught rather than trusted:

- every stock cell (on hand and reserved) from the movements into and out of it;
- every reservation, one by one, from the movements that carry its id (its
  SKU, location, condition and open quantity), so units moved by hand from one
  reservation to another are found even though the per-location sums still agree;
- every transfer from its dispatch and arrivals;
- every lot's units in every stock cell (``lot_stock``) from the lots each
  movement names, and that each movement's lots add up to its quantity (so a
  split forged into ``movement_lots`` or a lot cache edited by hand is found);
- on SQLite, that the movement ids run 1..n with no hole and match the id
  sequence: an ``INSERT OR REPLACE`` that collides on a unique ``ref`` deletes
  the old row without any trigger firing (the schema refuses every other way).
  PostgreSQL sequences skip ids on rollback, and its triggers refuse every
  rewrite, so there the check does not apply.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from wms.inventory_types import MovementKind
from wms.ledger.records import BalanceReport
from wms.ledger.schema import ON_HAND_KINDS

if TYPE_CHECKING:
    from wms.ledger.storage import Database

Key = tuple[str, str, str]


def _in(kinds: tuple[MovementKind, ...]) -> str:
    return ", ".join(f"'{k.value}'" for k in kinds)


RESERVATIONS_SQL = f"""
SELECT reservation_id, sku, from_location, condition,
       SUM(CASE kind WHEN '{MovementKind.RESERVE.value}' THEN qty ELSE -qty END),
       SUM(CASE kind WHEN '{MovementKind.RESERVE.value}' THEN 1 ELSE 0 END)
FROM movements
WHERE reservation_id IS NOT NULL
GROUP BY reservation_id, sku, from_location, condition
"""

_ON_HAND_IN = _in(ON_HAND_KINDS)

_MOVES_STOCK = (
    f"m.kind IN ({_ON_HAND_IN}) AND (m.from_location IS NOT NULL OR m.to_location IS NOT NULL)"
)

_ONE_LOT = f"movements m WHERE m.lot IS NOT NULL AND m.kind IN ({_ON_HAND_IN})"
_SPLIT = (
    "movement_lots ml JOIN movements m ON m.movement_id = ml.movement_id"
    f" WHERE m.kind IN ({_ON_HAND_IN})"
)

LOT_ON_HAND_SQL = f"""
SELECT sku, location_id, condition, lot, SUM(delta) FROM (
    SELECT m.sku, m.to_location AS location_id,
           COALESCE(m.to_condition, m.condition) AS condition, m.lot, m.qty AS delta
    FROM {_ONE_LOT} AND m.to_location IS NOT NULL
    UNION ALL
    SELECT m.sku, m.from_location, m.condition, m.lot, -m.qty
    FROM {_ONE_LOT} AND m.from_location IS NOT NULL
    UNION ALL
    SELECT m.sku, m.to_location, COALESCE(m.to_condition, m.condition), ml.lot, ml.qty
    FROM {_SPLIT} AND m.to_location IS NOT NULL
    UNION ALL
    SELECT m.sku, m.from_location, m.condition, ml.lot, -ml.qty
    FROM {_SPLIT} AND m.from_location IS NOT NULL
) AS deltas GROUP BY sku, location_id, condition, lot
"""
"""Every lot's units per stock cell: a movement's own ``lot`` column, plus its split rows
(a movement should have one or the other; `BAD_SPLITS` finds those with both). Summed
per cell this is each cell's on hand whenever `BAD_SPLITS` finds nothing."""

BAD_SPLITS = (
    (
        "its lots hold {2} units, it moved {1}",
        f"""SELECT m.movement_id, m.qty, COALESCE(SUM(ml.qty), 0)
        FROM movements m LEFT JOIN movement_lots ml ON ml.movement_id = m.movement_id
        WHERE m.lot IS NULL AND {_MOVES_STOCK}
        GROUP BY m.movement_id, m.qty HAVING COALESCE(SUM(ml.qty), 0) <> m.qty""",
    ),
    (
        "has lot split rows but names a lot itself or moves no stock",
        f"""SELECT DISTINCT m.movement_id FROM movement_lots ml
        JOIN movements m ON m.movement_id = ml.movement_id
        WHERE m.lot IS NOT NULL OR NOT ({_MOVES_STOCK})""",
    ),
    (
        "names a lot but moves no stock",
        f"SELECT m.movement_id FROM movements m WHERE m.lot IS NOT NULL AND NOT ({_MOVES_STOCK})",
    ),
)
"""Movements whose lots do not account for their units exactly once: (problem, query)."""

TRANSIT_SQL = f"""
SELECT transfer_id, sku, condition,
       SUM(CASE kind WHEN '{MovementKind.DISPATCH.value}' THEN qty ELSE -qty END)
FROM movements
WHERE kind IN ('{MovementKind.DISPATCH.value}', '{MovementKind.ARRIVE.value}')
GROUP BY transfer_id, sku, condition
"""


def balance_check(db: Database) -> BalanceReport:
    """Sum the movements in SQL (one grouped pass each) and compare with the state tables."""
    problems: list[str] = []
    # One grouped pass gives every lot's units; summed per cell they are the cell's on
    # hand, because `_check_lots` proves each movement's lots add up to its quantity.
    expected_lots = {(r[0], r[1], r[2], r[3]): int(r[4]) for r in db.execute(LOT_ON_HAND_SQL)}
    expected_on_hand: dict[Key, int] = defaultdict(int)
    for (sku, location_id, condition, _), qty in expected_lots.items():
        expected_on_hand[(sku, location_id, condition)] += qty
    expected_reserved = _check_reservations(db, problems)
    count, last_id = db.one("SELECT COUNT(*), COALESCE(MAX(movement_id), 0) FROM movements")
    if db.backend == "sqlite":
        _check_dense_ids(db, int(count), int(last_id), problems)

    stock: dict[Key, tuple[int, int]] = {
        (r[0], r[1], r[2]): (int(r[3]), int(r[4]))
        for r in db.execute("SELECT sku, location_id, condition, on_hand, reserved FROM stock")
    }
    for key in sorted(set(stock) | set(expected_on_hand) | set(expected_reserved)):
        on_hand, reserved = stock.get(key, (0, 0))
        where = "/".join(key)
        if on_hand != expected_on_hand.get(key, 0):
            problems.append(
                f"{where}: on hand {on_hand} but movements sum to {expected_on_hand.get(key, 0)}"
            )
        if reserved != expected_reserved.get(key, 0):
            problems.append(
                f"{where}: reserved {reserved} but movements sum to {expected_reserved.get(key, 0)}"
            )
        if on_hand < 0:
            problems.append(f"{where}: negative stock {on_hand}")
        if reserved < 0 or reserved > on_hand:
            problems.append(f"{where}: reserved {reserved} outside 0..{on_hand}")

    open_reserved: dict[Key, int] = defaultdict(int)
    for r in db.execute("SELECT sku, location_id, condition, qty FROM reservations"):
        open_reserved[(r[0], r[1], r[2])] += int(r[3])
    for key in sorted(set(open_reserved) | set(stock)):
        held = stock.get(key, (0, 0))[1]
        if open_reserved.get(key, 0) != held:
            problems.append(
                f"{'/'.join(key)}: open reservations {open_reserved.get(key, 0)} "
                f"but stock reserved {held}"
            )

    in_transit = _check_transfers(db, problems)
    _check_lots(db, expected_lots, stock, problems)
    return BalanceReport(
        ok=not problems,
        problems=tuple(problems),
        movements=int(count),
        stock_rows=sum(1 for v in stock.values() if v[0] > 0),
        on_hand=sum(v[0] for v in stock.values()),
        reserved=sum(v[1] for v in stock.values()),
        in_transit=in_transit,
    )


def _check_lots(
    db: Database,
    expected: dict[tuple[str, str, str, str], int],
    stock: dict[Key, tuple[int, int]],
    problems: list[str],
) -> None:
    """Rebuild every lot's units per stock cell, and check each movement's lot split."""
    for problem, query in BAD_SPLITS:
        for row in db.execute(query):
            problems.append(f"movement {row[0]}: " + problem.format(*row))
    stored = {
        (r[0], r[1], r[2], r[3]): int(r[4])
        for r in db.execute("SELECT sku, location_id, condition, lot, on_hand FROM lot_stock")
    }
    per_cell: dict[Key, int] = defaultdict(int)
    for key in sorted(set(stored) | set(expected), key=lambda k: tuple(map(str, k))):
        held, want = stored.get(key, 0), expected.get(key, 0)
        per_cell[key[:3]] += held
        if held != want:
            where = "/".join(map(str, key))
            problems.append(f"lot {where}: on hand {held} but movements sum to {want}")
    for key in sorted(set(per_cell) | {k for k, v in stock.items() if v[0]}):
        if per_cell.get(key, 0) != stock.get(key, (0, 0))[0]:
            problems.append(
                f"{'/'.join(key)}: lots hold {per_cell.get(key, 0)} but stock on hand "
                f"{stock.get(key, (0, 0))[0]}"
            )


def _check_reservations(db: Database, problems: list[str]) -> dict[Key, int]:
    """Rebuild each reservation from its movements; returns the reserved units per cell."""
    rebuilt: dict[int, list[tuple[Key, int, int]]] = defaultdict(list)
    for r in db.execute(RESERVATIONS_SQL):
        rebuilt[int(r[0])].append(((r[1], r[2], r[3]), int(r[4]), int(r[5])))
    stored = {
        int(r[0]): ((r[1], r[2], r[3]), int(r[4]))
        for r in db.execute(
            "SELECT reservation_id, sku, location_id, condition, qty FROM reservations"
        )
    }
    reserved: dict[Key, int] = defaultdict(int)
    for rid in sorted(set(rebuilt) | set(stored)):
        groups = rebuilt.get(rid, [])
        if len(groups) > 1:
            keys = ", ".join("/".join(g[0]) for g in groups)
            problems.append(f"reservation {rid}: its movements name several cells ({keys})")
        for key, qty, _ in groups:
            reserved[key] += qty
        if groups and sum(g[2] for g in groups) != 1:
            problems.append(
                f"reservation {rid}: {sum(g[2] for g in groups)} reserve movements, not one"
            )
        if rid not in stored:
            problems.append(f"reservation {rid}: has movements but no reservation row")
            continue
        key, qty = stored[rid]
        if not groups:
            problems.append(f"reservation {rid}: no movement made it")
            continue
        expected_key = groups[0][0]
        expected_qty = sum(g[1] for g in groups)
        if key != expected_key:
            problems.append(
                f"reservation {rid}: is for {'/'.join(key)} but its movements are for "
                f"{'/'.join(expected_key)}"
            )
        if qty != expected_qty:
            problems.append(f"reservation {rid}: open {qty} but its movements leave {expected_qty}")
    return reserved


def _check_transfers(db: Database, problems: list[str]) -> int:
    """Rebuild each transfer from its dispatch and arrivals; returns the units in transit."""
    expected = {int(r[0]): ((r[1], r[2]), int(r[3])) for r in db.execute(TRANSIT_SQL)}
    stored = {
        int(r[0]): ((r[1], r[2]), int(r[3]))
        for r in db.execute("SELECT transfer_id, sku, condition, qty FROM transfers")
    }
    for transfer_id in sorted(set(stored) | set(expected)):
        key, qty = stored.get(transfer_id, (None, 0))
        expected_key, expected_qty = expected.get(transfer_id, (None, 0))
        if qty != expected_qty:
            problems.append(
                f"transfer {transfer_id}: in transit {qty} but movements sum to {expected_qty}"
            )
        if key is not None and expected_key is not None and key != expected_key:
            problems.append(
                f"transfer {transfer_id}: is for {'/'.join(key)} but its movements are for "
                f"{'/'.join(expected_key)}"
            )
    return sum(qty for _, qty in stored.values())


def _check_dense_ids(db: Database, count: int, last_id: int, problems: list[str]) -> None:
    """SQLite: ids 1..n and the AUTOINCREMENT sequence at n, or rows were removed."""
    sequence = db.scalar("SELECT seq FROM sqlite_sequence WHERE name = 'movements'")
    sequence = int(sequence or 0)
    if count != last_id or last_id != sequence:
        problems.append(
            f"movements: {count} rows but ids run to {last_id} and the id sequence is at "
            f"{sequence}: rows were deleted or replaced"
        )
