"""A booking's statements on PostgreSQL read no more pages with a longer history (issue 11).

Counted, not timed: the statements one receipt and one pick run are captured from the
ledger's own connection, then each is run again under ``EXPLAIN (ANALYZE, BUFFERS)``
(in a transaction rolled back) and the shared buffers its plan touched are summed. A
statement that scanned the movements, or a table without a usable index, would touch
pages in proportion to the history; at 16 times the history each statement must stay
within a few pages (one more B-tree level) of what it touched at the start.
"""

from __future__ import annotations

import json
from typing import Any

from wms.inventory_types import LocationKind
from wms.ledger import Ledger, LocationRecord, SkuRecord

SKUS = [SkuRecord(f"SKU-{i:03d}", f"item {i}", "general", 1.0) for i in range(20)]
LOCATIONS = [LocationRecord(f"R{i:02d}", LocationKind.RESERVE) for i in range(10)]
SMALL, LARGE = 200, 3200
SLACK_PAGES = 8
"""What a statement may touch more at 16 times the history: one more B-tree level in each
of the few indexes it walks or writes (measured: the movements INSERT grows by about 6).
Reading the 3,200 movements instead would add some 40 pages (a NOT EXISTS over
``movements.ref`` added to the pick's cell read fails this test with 8 -> 55 pages)."""


def _book(ledger: Ledger, start: int, stop: int) -> None:
    for begin in range(start, stop, 2000):
        with ledger.transaction():
            for j in range(begin, min(begin + 2000, stop), 2):
                sku, where = SKUS[j % len(SKUS)].sku, LOCATIONS[j % len(LOCATIONS)].location_id
                ledger.receive(sku, where, 10, ref=f"po-{j}")
                ledger.pick(sku, where, 3, ref=f"order-{j}")


def _booking_statements(ledger: Ledger, j: int) -> list[tuple[str, tuple[Any, ...]]]:
    """The data statements (no savepoints, no transaction control) of one receipt and one
    pick, as the ledger ran them."""
    db = ledger._db
    seen: list[tuple[str, tuple[Any, ...]]] = []
    run = db.execute

    def spy(sql: str, params: Any = ()) -> Any:
        if sql.split()[0].upper() in {"SELECT", "INSERT", "UPDATE", "DELETE"}:
            seen.append((sql, tuple(params)))
        return run(sql, params)

    db.execute = spy  # type: ignore[method-assign]
    try:
        _book(ledger, j, j + 2)
    finally:
        del db.execute
    return seen


def _pages(url: str, statements: list[tuple[str, tuple[Any, ...]]]) -> dict[str, int]:
    """Shared buffers (hit or read) each statement's plan touches, run twice in a rolled-back
    transaction after a VACUUM ANALYZE (what autovacuum does between a site's bookings)."""
    import psycopg

    touched: dict[str, int] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        conn.autocommit = False
        cursor = psycopg.ClientCursor(conn)
        for sql, params in statements:
            text = sql.replace("%", "%%").replace("?", "%s")
            for _ in range(2):  # the second run: catalog caches warm, only the data's pages
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {text}", params)
                plan = cursor.fetchone()[0]
            plan = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
            pages = plan["Shared Hit Blocks"] + plan["Shared Read Blocks"]
            key = sql.split(" WHERE")[0][:60]
            touched[key] = touched.get(key, 0) + pages
        conn.rollback()
    return touched


def test_a_bookings_statements_touch_no_more_pages_as_history_grows(
    postgres_database: str,
) -> None:
    with Ledger.open(postgres_database) as ledger:
        ledger.add_skus(SKUS)
        ledger.add_locations(LOCATIONS)
        _book(ledger, 0, SMALL)
        small = _booking_statements(ledger, SMALL)
        assert {sql.split()[0] for sql, _ in small} >= {"SELECT", "INSERT", "UPDATE"}
        before = _pages(postgres_database, small)
        _book(ledger, SMALL + 2, LARGE)
        after = _pages(postgres_database, _booking_statements(ledger, LARGE))
        assert ledger.balance_check().ok
    grown = {sql: (before.get(sql, 0), pages) for sql, pages in after.items()}
    assert set(after) == set(before), grown
    assert all(pages <= was + SLACK_PAGES for was, pages in grown.values()), grown
