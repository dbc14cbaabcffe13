"""``warehouse stock`` and ``warehouse returns``: contract keys, and every bad input exits 2
with one line and leaves the ledger database exactly as before."""

from __future__ import annotations

import contextlib
import io
import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from warehouse.cli import main
from wms.inventory_types import Condition
from wms.ledger import Ledger
from wms.ledger.demo import tiny_ledger
from wms.returns import DEFAULT_POLICY

HEADER = "return_id,sku,reason,packaging,cosmetic,functional,qty,missing_parts"
GOOD = "R1,A,unwanted_item,intact,as_new,pass,1,0"


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A file ledger where A and B have been sold (picked) and C never has."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with tiny_ledger(url) as ledger:
        for sku in ("A", "B", "C"):
            ledger.receive(sku, "R1", 20)
        ledger.pick("A", "R1", 3)
        ledger.pick("B", "R1", 2)
    return url


def snapshot(url: str) -> dict:
    with Ledger.open(url, must_exist=True) as ledger:
        return ledger.snapshot()


def write_csv(tmp_path: Path, *rows: str, header: str = HEADER) -> str:
    path = tmp_path / "returns.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return str(path)


def run_json(capsys, *argv: str) -> dict:
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_returns_are_graded_and_booked(tmp_path: Path, db: str, capsys) -> None:
    """Each return reports the contract keys and enters the ledger with its grade."""
    csv_path = write_csv(
        tmp_path,
        GOOD,
        "R2,B,defective,opened,light_wear,pass,1,0",
        "R3,A,unwanted_item,opened,moderate_wear,pass,2,0",
    )
    result = run_json(capsys, "returns", "--input", csv_path, "--db", db)
    rows = {r["return_id"]: r for r in result["returns"]}
    for row in rows.values():
        assert {"grade", "disposition", "destination", "recovered_value", "reasons"} <= set(row)
        assert row["reasons"]
    assert rows["R1"]["grade"] == "NEW" and rows["R1"]["destination"] == "R1"
    assert rows["R2"]["grade"] == "USED_VERY_GOOD"
    assert rows["R3"]["grade"] == "USED_GOOD" and rows["R3"]["destination"] == "RET"
    assert result["booked"] and result["balance"]["ok"]
    with Ledger.open(db, must_exist=True) as ledger:
        assert ledger.on_hand("A", "RET", Condition.USED_GOOD) == 2
        assert ledger.on_hand("A", "R1", Condition.NEW) == 18
        assert ledger.returned_qty("A") == 3


def test_a_return_is_booked_only_once(tmp_path: Path, db: str, capsys) -> None:
    """Booking the same file twice is refused the second time and changes nothing."""
    csv_path = write_csv(tmp_path, GOOD)
    assert main(["returns", "--input", csv_path, "--db", db]) == 0
    before = snapshot(db)
    capsys.readouterr()
    assert main(["returns", "--input", csv_path, "--db", db]) == 2
    assert "already booked" in capsys.readouterr().err
    assert snapshot(db) == before


def test_dry_run_books_nothing(tmp_path: Path, db: str, capsys) -> None:
    """--dry-run checks against the ledger and reports, but the database is unchanged."""
    before = snapshot(db)
    result = run_json(
        capsys, "returns", "--input", write_csv(tmp_path, GOOD), "--db", db, "--dry-run"
    )
    assert not result["booked"] and result["returns"][0]["grade"] == "NEW"
    assert snapshot(db) == before


def test_no_ledger_grades_from_the_csv(tmp_path: Path, capsys) -> None:
    """--no-ledger grades from category and new_price columns and names location kinds."""
    csv_path = write_csv(
        tmp_path,
        "R1,X,unwanted_item,opened,as_new,not_tested,1,0,hygiene,4.5",
        "R2,Y,unwanted_item,intact,as_new,not_tested,1,0,electronics,200",
        header=HEADER + ",category,new_price",
    )
    result = run_json(capsys, "returns", "--input", csv_path, "--no-ledger")
    first, second = result["returns"]
    assert first["grade"] == "UNSELLABLE" and first["destination"] == "dock"
    assert second["grade"] == "UNSELLABLE" and second["disposition"] == "refurbish"
    assert second["recovered_value"] > 0


BAD_ROWS = [
    ("unknown sku", ["R1,ZZZ,unwanted_item,intact,as_new,pass,1,0"], "ZZZ"),
    ("never sold", ["R1,C,unwanted_item,intact,as_new,pass,1,0"], "never sold"),
    ("more than sold", ["R1,A,unwanted_item,intact,as_new,pass,4,0"], "only 3"),
    ("negative qty", ["R1,A,unwanted_item,intact,as_new,pass,-1,0"], "qty"),
    ("non-numeric qty", ["R1,A,unwanted_item,intact,as_new,pass,two,0"], "qty"),
    ("zero qty", ["R1,A,unwanted_item,intact,as_new,pass,0,0"], "qty"),
    ("huge qty", ["R1,A,unwanted_item,intact,as_new,pass,99999999999999999999,0"], "qty"),
    ("negative missing parts", ["R1,A,unwanted_item,intact,as_new,pass,1,-2"], "missing_parts"),
    ("bad reason", ["R1,A,bored,intact,as_new,pass,1,0"], "reason"),
    ("bad packaging", ["R1,A,unwanted_item,shrinkwrapped,as_new,pass,1,0"], "packaging"),
    ("short row", ["R1,A,unwanted_item,intact"], "fields"),
    ("duplicate id", [GOOD, GOOD], "twice"),
    (
        "bad row after good rows",
        [
            GOOD,
            "R2,B,unwanted_item,intact,as_new,pass,1,0",
            "R3,C,unwanted_item,intact,as_new,pass,1,0",
        ],
        ":4",
    ),
]


@pytest.mark.parametrize(("case", "rows", "needle"), BAD_ROWS, ids=[c[0] for c in BAD_ROWS])
def test_bad_returns_row(
    tmp_path: Path, db: str, capsys, case: str, rows: list, needle: str
) -> None:
    """A bad row exits 2 with one line naming it, and nothing of the file is booked."""
    before = snapshot(db)
    code = main(["returns", "--input", write_csv(tmp_path, *rows), "--db", db])
    err = capsys.readouterr().err
    assert code == 2, case
    assert err.count("\n") == 1 and err.startswith("warehouse: error:") and needle in err
    assert "returns.csv:" in err
    assert snapshot(db) == before


def test_bad_returns_file_level_inputs(tmp_path: Path, db: str, capsys) -> None:
    """Missing file, bad header, bad price column, malformed policy, absent --db: exit 2."""
    before = snapshot(db)
    bad_policy = tmp_path / "bad.toml"
    bad_policy.write_text(
        DEFAULT_POLICY.read_text().replace("hygiene_seal = true", "hygiene_seal = 3"), "utf-8"
    )
    good_csv = write_csv(tmp_path, GOOD)
    price_csv = tmp_path / "price.csv"
    price_csv.write_text(f"{HEADER},new_price\n{GOOD},cheap\n", "utf-8")
    cases = [
        (["--input", str(tmp_path / "absent.csv"), "--db", db], "file not found"),
        (["--input", str(price_csv), "--db", db], "new_price"),
        (["--input", good_csv, "--db", db, "--policy", str(bad_policy)], "hygiene_seal"),
        (["--input", good_csv, "--db", db, "--policy", str(tmp_path / "nope.toml")], "nope.toml"),
        (["--input", good_csv, "--db", str(tmp_path / "missing.db")], "missing.db"),
        (["--input", good_csv, "--db", "postgresql://h/db"], "postgresql"),
        (["--input", good_csv, "--db", db, "--no-ledger"], "--no-ledger"),
    ]
    header_csv = tmp_path / "header.csv"
    header_csv.write_text("return_id,sku,colour\nR1,A,red\n", "utf-8")
    cases.append((["--input", str(header_csv), "--db", db], "colour"))
    for argv, needle in cases:
        code = main(["returns", *argv])
        err = capsys.readouterr().err
        assert code == 2, argv
        assert err.count("\n") == 1 and needle in err, err
    assert not (tmp_path / "missing.db").exists()
    assert snapshot(db) == before


def test_stock_reports_rows_and_balance(db: str, capsys) -> None:
    """warehouse stock lists stock by SKU, location and condition plus a passing balance check."""
    result = run_json(capsys, "stock", "--db", db)
    assert result["balance"]["ok"]
    assert {"sku": "A", "location": "R1", "condition": "NEW", "on_hand": 17}.items() <= next(
        r for r in result["stock"] if r["sku"] == "A"
    ).items()
    assert result["totals"]["C"]["on_hand"] == 20


def test_stock_exits_1_when_the_ledger_does_not_balance(tmp_path: Path, db: str, capsys) -> None:
    """A database edited behind the ledger's back fails the balance check (exit 1)."""
    conn = sqlite3.connect(tmp_path / "ledger.db")
    conn.execute("UPDATE stock SET on_hand = on_hand + 1 WHERE sku = 'C'")
    conn.commit()
    conn.close()
    assert main(["stock", "--db", db]) == 1
    assert "NOT BALANCED" in capsys.readouterr().out


def test_stock_bad_inputs(tmp_path: Path, db: str, capsys) -> None:
    """Unknown SKU filter, absent database, seeding a non-empty ledger: exit 2, one line."""
    before = snapshot(db)
    for argv in (
        ["stock", "--db", db, "--sku", "ZZZ"],
        ["stock", "--db", str(tmp_path / "absent.db")],
        ["stock", "--db", db, "--seed-demo"],
    ):
        assert main(argv) == 2, argv
        assert capsys.readouterr().err.count("\n") == 1
    assert snapshot(db) == before


def test_default_ledger_is_seeded_only_when_asked(tmp_path: Path, monkeypatch, capsys) -> None:
    """Without --db and no ledger yet: exit 2 pointing at --seed-demo, nothing invented.

    ``stock --seed-demo`` then writes the demo history into the default ledger under
    runs/, and later commands reuse it.
    """
    monkeypatch.chdir(tmp_path)
    assert main(["stock"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--seed-demo" in err
    assert not (tmp_path / "runs" / "ledger.db").exists()
    first = run_json(capsys, "stock", "--seed-demo")
    assert (tmp_path / "runs" / "ledger.db").exists()
    assert first["balance"]["ok"] and first["balance"]["movements"] > 1000
    assert first["in_transit"] and first["open_reservations"] > 0
    second = run_json(capsys, "stock")
    assert second["balance"] == first["balance"]


def test_replenish_puts_top_ups_in_transit(tmp_path: Path, db: str, capsys) -> None:
    """warehouse replenish dispatches top-ups for a wave; a repeat release adds none."""
    with Ledger.open(db, must_exist=True) as ledger:
        ledger.move("A", "R1", "F1", 6)
        ledger.receive("A", "R1", 50)
    demand = tmp_path / "demand.csv"
    demand.write_text("sku,qty\nA,4\n", "utf-8")
    first = run_json(capsys, "replenish", "--db", db, "--demand", str(demand))
    task = next(t for t in first["tasks"] if t["sku"] == "A")
    assert (task["from"], task["to"], task["qty"]) == ("R1", "F1", 18)
    assert "A" not in first["shortfalls"]
    assert first["balance"]["ok"] and first["dispatched"]
    second = run_json(capsys, "replenish", "--db", db, "--demand", str(demand))
    assert not [t for t in second["tasks"] if t["sku"] == "A"]
    face = next(s for s in second["slots"] if s["location"] == "F1")
    assert face["position"] == 6 - 4 + 18


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("sku,qty\nZZZ,3\n", "ZZZ"),
        ("sku,qty\nA,-3\n", "qty"),
        ("sku,qty\nA,lots\n", "qty"),
        ("sku,units\nA,3\n", "header"),
    ],
)
def test_replenish_bad_demand(tmp_path: Path, db: str, capsys, text: str, needle: str) -> None:
    """Bad wave demand exits 2 with one line and the ledger is unchanged."""
    demand = tmp_path / "demand.csv"
    demand.write_text(text, "utf-8")
    before = snapshot(db)
    assert main(["replenish", "--db", db, "--demand", str(demand)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err
    assert snapshot(db) == before


def test_ageing_report_keys(db: str, capsys) -> None:
    """warehouse ageing reports buckets, slow movers and clearance candidates."""
    result = run_json(capsys, "ageing", "--db", db)
    assert {"buckets", "slow_movers", "clearance_candidates", "skus"} <= set(result)
    assert sum(b["units"] for b in result["buckets"].values()) == 20 * 3 - 5
    assert main(["ageing", "--db", db + ".absent"]) == 2


def test_ledger_bench_runs_small(capsys) -> None:
    """The ledger bench runs end to end and its baseline agrees with the ledger."""
    result = run_json(
        capsys,
        "bench",
        "ledger",
        "--ops",
        "40",
        "--history",
        "300",
        "--skus",
        "5",
        "--repeats",
        "1",
    )
    assert result["commits"]["ratio"] > 0
    assert result["availability"]["movements"] >= 300


def test_config_names_the_ledger(tmp_path: Path, db: str, capsys) -> None:
    """[wms.ledger] url in the config selects the database; unknown keys there are errors."""
    from warehouse.config import DEFAULT_CONFIG

    base = DEFAULT_CONFIG.read_text("utf-8")
    config = tmp_path / "site.toml"
    config.write_text(base + f'\n[wms.ledger]\nurl = "{db}"\n', "utf-8")
    result = run_json(capsys, "stock", "--config", str(config))
    assert result["db"] == db and result["totals"]["C"]["on_hand"] == 20
    config.write_text(base + f'\n[wms.ledger]\nurll = "{db}"\n', "utf-8")
    assert main(["stock", "--config", str(config)]) == 2
    assert "wms.ledger.urll" in capsys.readouterr().err


def mostly(valid: list[str], invalid: list[str]) -> st.SearchStrategy[str]:
    """A valid cell 29 times in 30, so whole files often book and others fail part-way."""
    return st.sampled_from(valid * (29 * len(invalid)) + invalid * len(valid))


CELLS = {
    "return_id": mostly(["R1", "R2", "R3", "R4"], ["", " "]),
    "sku": mostly(["A", "B"], ["C", "ZZZ", ""]),
    "reason": mostly(["defective", "UNWANTED_ITEM", "missing-parts"], ["bored", ""]),
    "packaging": mostly(["intact", "opened", "damaged"], ["wet"]),
    "cosmetic": mostly(["as_new", "heavy wear", "damaged"], ["scratched"]),
    "functional": mostly(["pass", "fail", "not_tested"], ["maybe"]),
    "qty": mostly(["1", ""], ["2", "-1", "0", "1.5", "x", "100"]),
    "missing_parts": mostly(["0", "1", ""], ["-1", "many"]),
}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.fixed_dictionaries(CELLS), min_size=1, max_size=3), st.data())
def test_fuzzed_returns_never_crash_or_half_book(tmp_path_factory, rows, data) -> None:
    """Any mix of good and bad cells: exit 0, or exit 2 with one line and nothing booked."""
    workdir = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite:///{workdir / 'ledger.db'}"
    with tiny_ledger(url) as ledger:
        for sku in ("A", "B", "C"):
            ledger.receive(sku, "R1", 20)
        ledger.pick("A", "R1", 3)
        ledger.pick("B", "R1", 2)
    columns = data.draw(st.permutations(list(CELLS)))
    text = (
        ",".join(columns) + "\n" + "".join(",".join(row[c] for c in columns) + "\n" for row in rows)
    )
    path = workdir / "returns.csv"
    path.write_text(text, "utf-8")
    before = snapshot(url)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["returns", "--input", str(path), "--db", url])
    event("booked" if code == 0 else "refused")
    if code == 0:
        with Ledger.open(url, must_exist=True) as ledger:
            assert ledger.balance_check().ok
            assert sum(m.kind.value == "return-in" for m in ledger.movements()) == len(rows)
    else:
        assert code == 2 and err.getvalue().count("\n") == 1
        assert snapshot(url) == before
