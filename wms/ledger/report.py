"""The stock report: what the ledger holds, per row and per SKU, with its balance check."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from wms.ledger.ledger import Ledger


def stock_report(ledger: Ledger, sku: str | None = None) -> dict[str, Any]:
    """Plain-data report: rows, lots, per-SKU totals, open transfers and reservations, balance.

    ``lots`` lists each stock cell's lots in the order they will leave it (FEFO, then FIFO).
    """
    if sku is not None:
        ledger.sku(sku)
    kinds = {r.location_id: r.kind.value for r in ledger.locations()}
    rows = ledger.stock(sku=sku)
    transfers = [t for t in ledger.transfers() if sku is None or t.sku == sku]
    reservations = [r for r in ledger.reservations() if sku is None or r.sku == sku]
    totals: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"on_hand": 0, "reserved": 0, "available": 0, "in_transit": 0, "by_condition": {}}
    )
    for row in rows:
        entry = totals[row.sku]
        entry["on_hand"] += row.on_hand
        entry["reserved"] += row.reserved
        entry["available"] += row.available
        by_condition = entry["by_condition"]
        by_condition[row.condition.value] = by_condition.get(row.condition.value, 0) + row.on_hand
    for t in transfers:
        totals[t.sku]["in_transit"] += t.qty
    return {
        "db": ledger.url.text,
        "stock": [
            {
                "sku": r.sku,
                "location": r.location_id,
                "location_kind": kinds.get(r.location_id),
                "condition": r.condition.value,
                "on_hand": r.on_hand,
                "reserved": r.reserved,
                "available": r.available,
            }
            for r in rows
        ],
        "lots": [
            {
                "sku": r.sku,
                "location": r.location_id,
                "condition": r.condition.value,
                "lot": r.lot.lot,
                "received_on": r.lot.received_on.isoformat(),
                "expires_on": None if r.lot.expires_on is None else r.lot.expires_on.isoformat(),
                "on_hand": r.on_hand,
            }
            for r in ledger.lot_stock(sku=sku)
        ],
        "totals": {k: totals[k] for k in sorted(totals)},
        "in_transit": [
            {
                "transfer_id": t.transfer_id,
                "sku": t.sku,
                "from": t.from_location,
                "to": t.to_location,
                "qty": t.qty,
                "condition": t.condition.value,
            }
            for t in transfers
        ],
        "open_reservations": len(reservations),
        "balance": ledger.balance_check().to_dict(),
    }


MAX_LOT_LINES = 40
"""More lots than this are only counted in the text report (all are in the data)."""


def describe_stock(report: dict[str, Any]) -> str:
    lines = [f"ledger {report['db']}"]
    if not report["totals"]:
        lines.append("  (no stock)")
    else:
        lines.append(
            f"  {'sku':<12} {'on hand':>8} {'reserved':>8} {'avail':>8} {'transit':>8}  conditions"
        )
        for sku, t in report["totals"].items():
            conditions = ", ".join(f"{c} {q}" for c, q in sorted(t["by_condition"].items()))
            lines.append(
                f"  {sku:<12} {t['on_hand']:>8} {t['reserved']:>8} {t['available']:>8}"
                f" {t['in_transit']:>8}  {conditions}"
            )
    lots = report.get("lots", [])
    if len(lots) > MAX_LOT_LINES:
        lines.append(
            f"  lots: {len(lots)} (too many to list here: report one SKU, or the JSON form)"
        )
    elif lots:
        lines.append(f"  lots ({len(lots)}), each location's in the order they leave it:")
        for lot in lots:
            expiry = f"expires {lot['expires_on']}" if lot["expires_on"] else "no expiry"
            lines.append(
                f"    {lot['sku']:<12} {lot['location']:<10} {lot['lot']:<16} {lot['on_hand']:>7}"
                f"  received {lot['received_on']}, {expiry}"
            )
    b = report["balance"]
    verdict = "balanced" if b["ok"] else "NOT BALANCED"
    lines.append(
        f"balance check: {verdict} — {b['movements']} movements, {b['on_hand']} on hand, "
        f"{b['reserved']} reserved, {b['in_transit']} in transit, "
        f"{report['open_reservations']} open reservations"
    )
    lines += [f"  problem: {p}" for p in b["problems"]]
    return "\n".join(lines)
