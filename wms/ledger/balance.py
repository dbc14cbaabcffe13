"""Recompute on-hand, reserved and in-transit from the movements alone.

The movements are the ledger's truth; ``stock``, ``reservations`` and
``transfers`` are caches of their sum. This check rebuilds every quantity from
the history and lists each place where the caches disagree, so a corrupted or
hand-edited database is caught rather than trusted.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict

from wms.inventory_types import MovementKind
from wms.ledger.records import BalanceReport
from wms.ledger.schema import ON_HAND_KINDS

Key = tuple[str, str, str]


def _in(kinds: tuple[MovementKind, ...]) -> str:
    return ", ".join(f"'{k.value}'" for k in kinds)


ON_HAND_SQL = f"""
SELECT sku, location_id, condition, SUM(delta) FROM (
    SELECT sku, to_location AS location_id, COALESCE(to_condition, condition) AS condition,
           qty AS delta
    FROM movements
    WHERE to_location IS NOT NULL AND kind IN ({_in(ON_HAND_KINDS)})
    UNION ALL
    SELECT sku, from_location, condition, -qty FROM movements
    WHERE from_location IS NOT NULL AND kind IN ({_in(ON_HAND_KINDS)})
) GROUP BY sku, location_id, condition
"""

RESERVED_SQL = f"""
SELECT sku, from_location, condition,
       SUM(CASE kind WHEN '{MovementKind.RESERVE.value}' THEN qty ELSE -qty END)
FROM movements
WHERE kind IN ('{MovementKind.RESERVE.value}', '{MovementKind.RELEASE.value}')
   OR (kind = '{MovementKind.PICK.value}' AND reservation_id IS NOT NULL)
GROUP BY sku, from_location, condition
"""

TRANSIT_SQL = f"""
SELECT transfer_id, SUM(CASE kind WHEN '{MovementKind.DISPATCH.value}' THEN qty ELSE -qty END)
FROM movements
WHERE kind IN ('{MovementKind.DISPATCH.value}', '{MovementKind.ARRIVE.value}')
GROUP BY transfer_id
"""


def balance_check(conn: sqlite3.Connection) -> BalanceReport:
    """Sum the movements in SQL (one grouped pass each) and compare with the state tables."""
    expected_on_hand: dict[Key, int] = {(r[0], r[1], r[2]): r[3] for r in conn.execute(ON_HAND_SQL)}
    expected_reserved: dict[Key, int] = {
        (r[0], r[1], r[2]): r[3] for r in conn.execute(RESERVED_SQL)
    }
    expected_transit: dict[int, int] = {r[0]: r[1] for r in conn.execute(TRANSIT_SQL)}
    count = conn.execute("SELECT COUNT(*) FROM movements").fetchone()[0]

    problems: list[str] = []
    stock: dict[Key, tuple[int, int]] = {
        (r[0], r[1], r[2]): (r[3], r[4])
        for r in conn.execute("SELECT sku, location_id, condition, on_hand, reserved FROM stock")
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
    for r in conn.execute("SELECT sku, location_id, condition, qty FROM reservations"):
        open_reserved[(r[0], r[1], r[2])] += r[3]
    for key in sorted(set(open_reserved) | set(stock)):
        held = stock.get(key, (0, 0))[1]
        if open_reserved.get(key, 0) != held:
            problems.append(
                f"{'/'.join(key)}: open reservations {open_reserved.get(key, 0)} "
                f"but stock reserved {held}"
            )

    transfers = {r[0]: r[1] for r in conn.execute("SELECT transfer_id, qty FROM transfers")}
    for transfer_id in sorted(set(transfers) | set(expected_transit)):
        if transfers.get(transfer_id, 0) != expected_transit.get(transfer_id, 0):
            problems.append(
                f"transfer {transfer_id}: in transit {transfers.get(transfer_id, 0)} "
                f"but movements sum to {expected_transit.get(transfer_id, 0)}"
            )

    return BalanceReport(
        ok=not problems,
        problems=tuple(problems),
        movements=count,
        stock_rows=sum(1 for v in stock.values() if v[0] > 0),
        on_hand=sum(v[0] for v in stock.values()),
        reserved=sum(v[1] for v in stock.values()),
        in_transit=sum(transfers.values()),
    )
