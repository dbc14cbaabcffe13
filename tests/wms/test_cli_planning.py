"""``warehouse slot`` and ``warehouse wave``: the JSON contract and one-line errors on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from warehouse.cli import main
from warehouse.config import DEFAULT_CONFIG
from wms.inventory_types import STORAGE_KINDS, StorageClass
from wms.layout import ZoneKind
from wms.ledger import Ledger

HEADER = "order_id,sku,qty,due,priority\n"
GOOD = "A,SKU-0001,1,2026-01-05 16:00,same_day\nB,SKU-0002,2,2026-01-05 16:00,standard\n"


def small_config(tmp_path: Path, extra: str = "") -> Path:
    """The default floor with a small synthetic stream, so CLI tests stay fast."""
    text = DEFAULT_CONFIG.read_text(encoding="utf-8")
    text = text.replace("orders = 2000", "orders = 120")
    path = tmp_path / "small.toml"
    path.write_text(text + extra, encoding="utf-8")
    return path


def run_json(capsys, *argv: str) -> dict:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_slot_json_contract(tmp_path: Path, capsys) -> None:
    """slot --json has assignments (sku -> location) and both travel figures."""
    result = run_json(capsys, "slot", "--config", str(small_config(tmp_path)), "--json")
    assert len(result["assignments"]) == 400
    assert len(set(result["assignments"].values())) == 400
    assert result["expected_travel_per_line"] <= 0.75 * result["baseline_random_travel_per_line"]
    assert result["reslotting"]["moves"]


def test_wave_json_contract_with_paths(tmp_path: Path, capsys) -> None:
    """wave --json --paths has waves/batches/orders/route/path and the four totals."""
    orders = tmp_path / "orders.csv"
    orders.write_text(HEADER + GOOD, encoding="utf-8")
    result = run_json(
        capsys,
        "wave",
        "--config",
        str(small_config(tmp_path)),
        "--orders",
        str(orders),
        "--json",
        "--paths",
    )
    for key in (
        "travel",
        "baseline_single_order_sshape_travel",
        "baseline_single_order_best_heuristic_travel",
        "baseline_batched_sshape_travel",
        "baseline_batched_largest_gap_travel",
        "baseline_batched_combined_travel",
        "lower_bound",
        "orders_in",
        "orders_planned",
    ):
        assert isinstance(result[key], int)
    assert result["exceptions"] == [] and result["orders_in"] == 2
    batches = [b for w in result["waves"] for b in w["batches"]]
    assert sorted(o for b in batches for o in b["orders"]) == ["A", "B"]
    for b in batches:
        assert b["path"][0] == b["path"][-1] == b["route"][0] == b["route"][-1]
        assert len(b["path"]) - 1 == b["travel"]
    assert sum(b["travel"] for b in batches) == result["travel"]


def test_wave_without_orders_uses_the_seeded_generator(tmp_path: Path, capsys) -> None:
    """No --orders: the synthetic stream, the same for the same seed."""
    config = str(small_config(tmp_path))
    first = run_json(capsys, "wave", "--config", config, "--json", "--seed", "4")
    second = run_json(capsys, "wave", "--config", config, "--json", "--seed", "4")
    assert first["orders"]["orders"] == 120
    assert first["travel"] == second["travel"]
    assert first["travel"] <= 0.6 * first["baseline_single_order_sshape_travel"]


BAD_ROWS = {
    "unknown_sku": ("C,NOPE,1,2026-01-05,standard\n", "unknown SKU"),
    "negative_qty": ("C,SKU-0001,-1,2026-01-05,standard\n", "must be positive"),
    "non_numeric_qty": ("C,SKU-0001,lots,2026-01-05,standard\n", "not a number"),
    "bad_date": ("C,SKU-0001,1,05/13/2026 25:99,standard\n", "does not parse"),
    "bad_priority": ("C,SKU-0001,1,2026-01-05,whenever\n", "unknown priority"),
}


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_a_bad_order_row_is_an_exception_and_the_day_goes_on(
    tmp_path: Path, capsys, case: str
) -> None:
    """A bad row: its order is an exception naming file:row and the reason; A and B are planned."""
    row, needle = BAD_ROWS[case]
    orders = tmp_path / "orders.csv"
    orders.write_text(HEADER + GOOD + row, encoding="utf-8")
    result = run_json(
        capsys, "wave", "--config", str(small_config(tmp_path)), "--orders", str(orders), "--json"
    )
    assert result["orders_in"] == 3 and result["orders_planned"] == 2
    assert [e["order"] for e in result["exceptions"]] == ["C"]
    reason = result["exceptions"][0]["reason"]
    assert f"{orders}:4" in reason and needle in reason
    assert result["orders_planned"] + len(result["exceptions"]) == result["orders_in"]


def test_an_oversized_order_is_split_over_totes_in_one_batch(tmp_path: Path, capsys) -> None:
    """An order needing several totes is planned as a multi-tote order, all its totes in a batch."""
    orders = tmp_path / "orders.csv"
    orders.write_text(HEADER + GOOD + "C,SKU-0002,300,2026-01-05,standard\n", encoding="utf-8")
    result = run_json(
        capsys, "wave", "--config", str(small_config(tmp_path)), "--orders", str(orders), "--json"
    )
    assert result["orders_planned"] == 3 and result["exceptions"] == []
    assert result["multi_tote_orders"] == ["C"]
    [batch] = [b for w in result["waves"] for b in w["batches"] if "C" in b["orders"]]
    totes = [t for t in batch["totes"] if t.startswith("C/")]
    assert len(totes) > 1
    assert sum(p["qty"] for p in batch["picks"] if p["order"] == "C") == 300


@pytest.mark.parametrize("command", ["slot", "wave"])
def test_a_file_with_nothing_plannable_exits_2(tmp_path: Path, capsys, command: str) -> None:
    """Every order refused: exit 2, one line naming the file and the first reason."""
    orders = tmp_path / "orders.csv"
    orders.write_text(HEADER + BAD_ROWS["unknown_sku"][0], encoding="utf-8")
    code = main([command, "--config", str(small_config(tmp_path)), "--orders", str(orders)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{orders}:2" in err and "unknown SKU" in err


@pytest.mark.parametrize(
    ("setup", "needle"),
    [
        ("missing_orders", "file not found"),
        ("bad_header", "unknown header"),
        ("unknown_config_key", "wms.picking.tote_size"),
        ("bad_config_value", "wms.picking.totes_per_batch"),
        ("bad_current", "unknown location"),
    ],
)
def test_other_bad_inputs_exit_2(tmp_path: Path, capsys, setup: str, needle: str) -> None:
    """Missing files, unknown headers, bad [wms.*] keys or values, bad current slotting: exit 2."""
    config = small_config(tmp_path)
    orders = tmp_path / "orders.csv"
    orders.write_text(HEADER + GOOD, encoding="utf-8")
    argv = ["slot", "--config", str(config), "--orders", str(orders)]
    if setup == "missing_orders":
        argv[-1] = str(tmp_path / "nope.csv")
    elif setup == "bad_header":
        orders.write_text("x,y\n1,2\n", encoding="utf-8")
    elif setup == "unknown_config_key":
        config.write_text(
            config.read_text().replace("[wms.picking]", "[wms.picking]\ntote_size = 3")
        )
    elif setup == "bad_config_value":
        config.write_text(config.read_text().replace("totes_per_batch = 8", "totes_per_batch = 0"))
    else:
        current = tmp_path / "current.csv"
        current.write_text("sku,location\nSKU-0001,L999-999N\n", encoding="utf-8")
        argv += ["--current", str(current)]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert needle in err


def test_too_small_floor_is_one_line(tmp_path: Path, capsys) -> None:
    """More SKUs than storage locations: exit 2 with a message suggesting a bigger layout."""
    text = small_config(tmp_path).read_text().replace("skus = 400", "skus = 1000")
    config = tmp_path / "many.toml"
    config.write_text(text)
    code = main(["wave", "--config", str(config)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "bigger layout" in err


def test_reslotting_from_a_current_slotting_file(tmp_path: Path, capsys) -> None:
    """--current reads sku,location and plans moves from it; none when it is already optimal."""
    config = str(small_config(tmp_path))
    best = run_json(capsys, "slot", "--config", config, "--json")
    current = tmp_path / "current.csv"
    rows = "".join(f"{sku},{loc}\n" for sku, loc in best["assignments"].items())
    current.write_text("sku,location\n" + rows)
    again = run_json(capsys, "slot", "--config", config, "--json", "--current", str(current))
    assert again["reslotting"]["moves"] == []
    assert again["reslotting"]["from"] == str(current)


@pytest.mark.parametrize(
    ("row", "needle"),
    [
        ("536365,85123A,HEART,six,2010-12-01 08:26:00,2.55,1,UK", "not a number"),
        ("536365,85123A,HEART,6,yesterday,2.55,1,UK", "does not parse"),
    ],
)
def test_bad_uci_rows_are_exceptions(tmp_path: Path, capsys, row: str, needle: str) -> None:
    """UCI rows with a bad quantity or date refuse their invoice, naming file:row; 536364 plans."""
    orders = tmp_path / "retail.csv"
    orders.write_text(
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        "536364,71053,LANTERN,1,2010-12-01 08:26:00,3.39,1,UK\n" + row + "\n",
        encoding="utf-8",
    )
    result = run_json(
        capsys, "wave", "--config", str(small_config(tmp_path)), "--orders", str(orders), "--json"
    )
    assert result["orders_planned"] == 1
    [exception] = result["exceptions"]
    assert exception["order"] == "536365"
    assert f"{orders}:3" in exception["reason"] and needle in exception["reason"]


def test_bench_picking_reports_both_searches(tmp_path: Path, capsys) -> None:
    """warehouse bench picking gives plan figures with baselines and bound, and slotting figures."""
    config = str(small_config(tmp_path))
    result = run_json(
        capsys, "bench", "picking", "--config", config, "--json", "--repeats", "1", "--gls-ms", "2"
    )
    descent, gls = result["plans"]
    assert descent["route_search"] == "descent" and gls["route_search"] == "GLS 2 ms"
    for plan in result["plans"]:
        assert plan["lower_bound"] <= plan["travel"]
        assert plan["travel"] <= plan["baseline_batched_best_heuristic_travel"]
        assert plan["ratio_to_single_order_sshape"] <= 0.6
    assert result["slotting"]["saving_vs_random"] >= 0.25


def test_example_orders_file_plans(capsys) -> None:
    """The shipped example in our CSV format plans on the default config."""
    example = DEFAULT_CONFIG.parent / "orders_example.csv"
    result = run_json(capsys, "wave", "--orders", str(example), "--json")
    assert result["orders"]["orders"] == 6
    assert result["waves"][0]["priority"] == "same_day"


def test_storage_class_without_its_zone_is_one_line(tmp_path: Path, capsys) -> None:
    """Lithium SKU, no fire-safe zone: exit 2 naming the class; with the zone, slotted
    inside, released into a ledger that keeps it there."""
    catalog = tmp_path / "skus.csv"
    catalog.write_text(
        "sku,length_cm,width_cm,height_cm,weight_kg,category,storage_class\n"
        "CELL,10,5,5,0.4,electronics,lithium\nMUG,10,8,9,0.3,kitchen,\n",
        encoding="utf-8",
    )
    config = small_config(tmp_path)
    config.write_text(
        config.read_text().replace("[wms.orders]", '[wms.orders]\ncatalog = "skus.csv"'),
        encoding="utf-8",
    )
    orders = tmp_path / "orders.csv"
    orders.write_text(HEADER + "A,CELL,1,2026-01-05,standard\nB,MUG,1,2026-01-05,standard\n")
    code = main(["wave", "--config", str(config), "--orders", str(orders)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "storage class lithium" in err and "fire_safe" in err
    zone = (
        '\n[[floor.zones]]\nname = "cage"\nkind = "fire_safe"\n'
        "polygon = [[3, 20], [13, 20], [13, 31], [3, 31]]\n"
    )
    text = config.read_text()
    config.write_text(text.replace("[[floor.zones]]", zone.strip() + "\n\n[[floor.zones]]", 1))
    result = run_json(capsys, "slot", "--config", str(config), "--orders", str(orders), "--json")
    cell = result["assignments"]["CELL"]
    row, col = int(cell[1:4]), int(cell[5:8])
    assert 3 <= row <= 13 and 3 <= col <= 12  # the rack cell is inside the fire-safe zone
    mug = result["assignments"]["MUG"]
    assert not (3 <= int(mug[1:4]) <= 13 and 3 <= int(mug[5:8]) <= 12)
    # Released into a new ledger: the ledger knows the class and the zone, holds every
    # unit of CELL in the cage, and refuses a receipt of it into general storage.
    db = f"sqlite:///{tmp_path / 'ledger.db'}"
    args = ["wave", "--config", str(config), "--orders", str(orders), "--release", db]
    assert main(args) == 0
    capsys.readouterr()
    with Ledger.open(db, must_exist=True) as ledger:
        assert ledger.sku("CELL").storage_class is StorageClass.LITHIUM
        held = [r for r in ledger.stock(sku="CELL")]
        assert held
        assert all(ledger.location(r.location_id).zone is ZoneKind.FIRE_SAFE for r in held)
        general = next(
            r.location_id for r in ledger.locations() if r.kind in STORAGE_KINDS and r.zone is None
        )
    receipts = tmp_path / "receipts.csv"
    receipts.write_text(f"sku,location,qty\nCELL,{general},3\n", encoding="utf-8")
    assert main(["receive", "--input", str(receipts), "--db", db]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "storage class lithium" in err
