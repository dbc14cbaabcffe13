"""``warehouse receive``: a receipts CSV with optional lot, receipt date and expiry columns.

Good files book every row in one transaction; every bad value exits 2 with one
line naming the file and the row, and leaves the database exactly as before.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from warehouse.cli import main
from wms.ledger import Ledger
from wms.ledger.demo import tiny_ledger
from wms.ledger.ledger import default_lot_code


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with tiny_ledger(url) as ledger:
        ledger.receive("A", "R1", 2, lot="K1", received_on="2026-10-01", expires_on="2026-12-31")
    return url


def write(tmp_path: Path, *lines: str) -> str:
    path = tmp_path / "receipts.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def snapshot(url: str) -> dict:
    with Ledger.open(url, must_exist=True) as ledger:
        return ledger.snapshot()


def test_receipts_with_and_without_lots(tmp_path: Path, db: str, capsys) -> None:
    path = write(
        tmp_path,
        "SKU,Location,Qty,Lot,Received_On,Expires_On",
        "A,R1,5,K2,2026-10-05,2026-11-20",
        "A,R1,3,,,",
        "B,R2,4,B-7,2026-10-02,",
        "A,R1,1,K1,,",
    )
    assert main(["receive", "--input", path, "--db", db, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["receipts"] == 4 and result["units"] == 13 and result["balance"]["ok"]
    with Ledger.open(db, must_exist=True) as ledger:
        day = default_lot_code(ledger.now().date())
        lots = {r.lot.lot: r.on_hand for r in ledger.lot_stock("A", "R1")}
        assert lots == {"K2": 5, "K1": 3, day: 3}
        assert [r.lot.lot for r in ledger.lot_stock("A", "R1")] == ["K2", "K1", day]  # FEFO
        ledger.pick("A", "R1", 6)
        assert {r.lot.lot: r.on_hand for r in ledger.lot_stock("A", "R1")} == {"K1": 2, day: 3}


def test_old_receipt_files_still_work(tmp_path: Path, db: str, capsys) -> None:
    assert (
        main(["receive", "--input", write(tmp_path, "sku,location,qty", "C,R1,7"), "--db", db]) == 0
    )
    assert "booked 1 receipts" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("rows", "row", "message"),
    [
        (["A,R1,5,K2,2026-10-05,2026-09-01"], 2, "expires 2026-09-01 before receipt"),
        (["A,R1,5,K2,05/10/2026,"], 2, "not a date"),
        (["A,R1,5,K2,2026-10-05,2026-02-30"], 2, "not a date"),
        (["A,R1,1,,,", "A,R1,5,K1,,2027-01-01"], 3, "K1' expires 2026-12-31"),
        (["A,R1,1,,,", "A,R1,5,K1,2026-10-02,"], 3, "was received 2026-10-01"),
        (["A,R1,five,K2,,"], 2, "not a whole number"),
        (["A,R1,0,K2,,"], 2, "positive whole number"),
        (["A,NOWHERE,1,,,"], 2, "not in the ledger"),
        (["A,R1,1," + "X" * 70 + ",,"], 2, "at most 64"),
        (["A,R1,1,K2,,", "A,R1"], 3, "has 2 fields"),
    ],
)
def test_bad_rows_name_the_file_and_row_and_book_nothing(
    tmp_path: Path, db: str, capsys, rows: list[str], row: int, message: str
) -> None:
    path = write(tmp_path, "sku,location,qty,lot,received_on,expires_on", *rows)
    before = snapshot(db)
    assert main(["receive", "--input", path, "--db", db]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert f"{path}:{row}:" in err and message in err, err
    assert snapshot(db) == before


@pytest.mark.parametrize(
    "content",
    ["", "sku,location\nA,R1\n", "sku,location,qty,best_before\nA,R1,1,2026-01-01\n", "\x00\xff"],
)
def test_not_a_receipts_file(tmp_path: Path, db: str, capsys, content: str) -> None:
    path = tmp_path / "receipts.csv"
    path.write_bytes(content.encode("latin-1"))
    before = snapshot(db)
    assert main(["receive", "--input", str(path), "--db", db]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(path) in err, err
    assert snapshot(db) == before


def test_a_receipt_outside_the_storage_zone_is_one_line_and_books_nothing(
    tmp_path: Path, db: str, capsys
) -> None:
    """A lithium SKU received into general storage: exit 2, one line naming the row, the
    class and the zone it needs; the whole file is refused, the ledger unchanged."""
    from wms.inventory_types import LocationKind, StorageClass
    from wms.layout import ZoneKind
    from wms.ledger import LocationRecord, SkuRecord

    with Ledger.open(db, must_exist=True) as ledger:
        ledger.add_skus([SkuRecord("LI", "cells", "electronics", 4.0, StorageClass.LITHIUM)])
        ledger.add_locations(
            [LocationRecord("CAGE", LocationKind.RESERVE, zone=ZoneKind.FIRE_SAFE)]
        )
    before = snapshot(db)
    path = write(tmp_path, "sku,location,qty", "LI,CAGE,5", "LI,R1,2")
    assert main(["receive", "--input", path, "--db", db]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "receipts.csv:3" in err[0] and "storage class lithium" in err[0]
    assert "fire_safe zone" in err[0]
    assert snapshot(db) == before
    good = write(tmp_path, "sku,location,qty", "LI,CAGE,5")
    assert main(["receive", "--input", good, "--db", db]) == 0
