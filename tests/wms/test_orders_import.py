"""Orders: CSV import in both formats, bad rows, the synthetic generator."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from wms.catalog import derived_catalog, synthetic_catalog
from wms.errors import InputError
from wms.orders import (
    Order,
    OrderLine,
    OrderProfile,
    OversizeOrderError,
    Priority,
    Tote,
    generate_orders,
    read_orders_csv,
    tote_loads,
)

CATALOG = synthetic_catalog(50, seed=1)
UCI_HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"


def write(tmp_path: Path, text: str, name: str = "orders.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_own_format_groups_lines_by_order(tmp_path: Path) -> None:
    """Rows with one order_id become one order; repeated SKUs merge; priority parses."""
    path = write(
        tmp_path,
        "order_id,sku,qty,due,priority\n"
        "A,SKU-0001,2,2026-01-05 16:00,same-day\n"
        "A,SKU-0002,1,2026-01-05 16:00,same-day\n"
        "A,SKU-0001,1,2026-01-05 16:00,same-day\n"
        "B,SKU-0003,1,2026-01-06,standard\n",
    )
    book = read_orders_csv(path, CATALOG)
    assert [o.order_id for o in book.orders] == ["A", "B"]
    a = book.orders[0]
    assert a.priority is Priority.SAME_DAY
    assert a.due == datetime(2026, 1, 5, 16, 0)
    assert {line.sku: line.qty for line in a.lines} == {"SKU-0001": 3, "SKU-0002": 1}
    assert a.origin.endswith(":2")


def test_uci_invoices_become_orders_and_skips_are_counted(tmp_path: Path) -> None:
    """A UCI invoice is an order; cancelled invoices and non-positive rows are skipped, counted."""
    path = write(
        tmp_path,
        UCI_HEADER + "536365,85123A,HEART,6,2010-12-01 08:26:00,2.55,17850,UK\n"
        "536365,71053,LANTERN,6,2010-12-01 08:26:00,3.39,17850,UK\n"
        "C536379,D,Discount,-1,2010-12-01 09:41:00,27.5,14527,UK\n"
        "536380,22961,JAM,0,2010-12-01 09:41:00,1.45,14527,UK\n"
        "536381,22961,JAM,-3,12/1/2010 9:41,1.45,14527,UK\n"
        "536382,22961,JAM,4,12/1/2010 17:41,1.45,14527,UK\n",
    )
    book = read_orders_csv(path, CATALOG)
    assert [o.order_id for o in book.orders] == ["536365", "536382"]
    assert book.skipped_cancelled == 1
    assert book.skipped_non_positive == 2
    assert book.catalog.synthetic
    assert set(book.catalog) == {"85123A", "71053", "22961"}
    assert book.catalog["85123A"].unit_price == 2.55
    assert book.orders[0].due == datetime(2010, 12, 1, 16, 0)
    assert book.orders[1].due == datetime(2010, 12, 2, 16, 0)


def test_derived_catalogue_is_deterministic_per_stock_code() -> None:
    """The same stock code gets the same synthetic dimensions whatever else is in the file."""
    one = derived_catalog(["85123A", "71053"])
    two = derived_catalog(["99999", "85123A"])
    assert one["85123A"] == two["85123A"]
    assert one["85123A"] != one["71053"]


@pytest.mark.parametrize(
    ("row", "needle"),
    [
        ("A,NOPE,1,2026-01-05,standard", "unknown SKU 'NOPE'"),
        ("A,SKU-0001,-2,2026-01-05,standard", "must be positive"),
        ("A,SKU-0001,two,2026-01-05,standard", "not a number"),
        ("A,SKU-0001,1.5,2026-01-05,standard", "whole number"),
        ("A,SKU-0001,1,tomorrow,standard", "does not parse"),
        ("A,SKU-0001,1,2026-01-05,urgent", "unknown priority"),
        ("A,SKU-0001,1,2026-01-06,standard", "different due date"),
        ("A,SKU-0001", "2 fields, the header has 5"),
    ],
)
def test_a_bad_row_refuses_its_order_naming_file_and_row(
    tmp_path: Path, row: str, needle: str
) -> None:
    """A bad row puts its order in the exceptions with file:row and reason; the rest is read."""
    path = write(
        tmp_path,
        "order_id,sku,qty,due,priority\nA,SKU-0002,1,2026-01-05,standard\n"
        + row
        + "\nB,SKU-0003,1,2026-01-05,standard\n",
    )
    book = read_orders_csv(path, CATALOG)
    assert [o.order_id for o in book.orders] == ["B"]
    assert [e.order_id for e in book.exceptions] == ["A"]
    assert book.exceptions[0].reason.startswith(f"{path}:3: ")
    assert needle in book.exceptions[0].reason
    assert book.orders_in == 2


def test_a_row_without_an_order_id_is_listed_alone(tmp_path: Path) -> None:
    """A row with no order id to blame is a rejected row naming file:row; orders go on."""
    path = write(
        tmp_path,
        "order_id,sku,qty,due,priority\n,SKU-0002,1,2026-01-05,standard\n"
        "B,SKU-0003,1,2026-01-05,standard\n",
    )
    book = read_orders_csv(path, CATALOG)
    assert [o.order_id for o in book.orders] == ["B"] and not book.exceptions
    assert book.rejected_rows == (f"{path}:2: empty order_id",)


def test_a_file_with_no_plannable_order_is_one_error(tmp_path: Path) -> None:
    """Every order refused: one InputError naming the file and the first reason."""
    path = write(tmp_path, "order_id,sku,qty,due,priority\nA,NOPE,1,2026-01-05,standard\n")
    with pytest.raises(InputError, match=r"no order in the file can be planned.*unknown SKU"):
        read_orders_csv(path, CATALOG)


def test_uci_non_numeric_quantity_refuses_the_invoice(tmp_path: Path) -> None:
    """A UCI quantity that is not a number refuses its invoice (not a silent skip)."""
    path = write(
        tmp_path,
        UCI_HEADER
        + "536365,85123A,HEART,six,2010-12-01 08:26:00,2.55,1,UK\n"
        + "536366,71053,LANTERN,1,2010-12-01 08:28:00,3.39,1,UK\n",
    )
    book = read_orders_csv(path, CATALOG)
    assert [o.order_id for o in book.orders] == ["536366"]
    assert book.exceptions[0].order_id == "536365"
    assert f"{path}:2: quantity 'six' is not a number" == book.exceptions[0].reason


def test_order_bigger_than_a_tote_is_split_over_totes() -> None:
    """An order too big for one tote becomes tote loads that hold every unit, none over the tote."""
    tote = Tote(volume_l=40, max_weight_kg=15)
    order = Order("B", (OrderLine("SKU-0001", 500), OrderLine("SKU-0002", 3)), datetime(2026, 1, 5))
    loads = tote_loads(order, CATALOG, tote)
    assert len(loads) > 1
    assert all(load.split_from == "B" and load.customer_id == "B" for load in loads)
    assert [load.order_id for load in loads] == [f"B/T{k}" for k in range(1, len(loads) + 1)]
    for load in loads:
        assert tote.holds(load.volume_l(CATALOG), load.weight_kg(CATALOG))
    units: dict[str, int] = {}
    for load in loads:
        for line in load.lines:
            units[line.sku] = units.get(line.sku, 0) + line.qty
    assert units == {"SKU-0001": 500, "SKU-0002": 3}


def test_a_unit_no_tote_holds_is_refused() -> None:
    """A single unit larger than the tote cannot be split: OversizeOrderError naming the SKU."""
    order = Order("C", (OrderLine("SKU-0001", 1),), datetime(2026, 1, 5), origin="f.csv:7")
    with pytest.raises(OversizeOrderError, match=r"f\.csv:7: order C: one unit of SKU-0001"):
        tote_loads(order, CATALOG, Tote(volume_l=0.001, max_weight_kg=15))


def test_unknown_header_is_refused(tmp_path: Path) -> None:
    """A CSV in neither format says which columns it expected."""
    path = write(tmp_path, "a,b,c\n1,2,3\n")
    with pytest.raises(InputError, match="unknown header"):
        read_orders_csv(path, CATALOG)


def test_generator_is_seeded_skewed_and_shaped() -> None:
    """Same seed same orders; popularity skewed; lines per order realistic; due after arrival."""
    catalog = synthetic_catalog(200)
    profile = OrderProfile(orders=800)
    first = generate_orders(catalog, profile, seed=3)
    assert first == generate_orders(catalog, profile, seed=3)
    assert first != generate_orders(catalog, profile, seed=4)
    counts: dict[str, int] = {}
    for order in first:
        assert order.arrival is not None and order.due > order.arrival
        assert 1 <= len(order.lines) <= profile.max_lines
        assert len({line.sku for line in order.lines}) == len(order.lines)
        for line in order.lines:
            counts[line.sku] = counts.get(line.sku, 0) + 1
    lines = sum(counts.values())
    assert 2.0 <= lines / len(first) <= 3.0
    top = sorted(counts.values(), reverse=True)[: len(catalog) // 10]
    assert sum(top) / lines > 0.3
    arrivals = [o.arrival for o in first]
    assert arrivals == sorted(arrivals)


def test_measured_catalogue_csv_loads_and_rejects_bad_rows(tmp_path: Path) -> None:
    """A catalogue CSV gives measured SKUs; a non-numeric or non-positive size names the row."""
    from wms.catalog import read_catalog_csv

    header = "sku,length_cm,width_cm,height_cm,weight_kg,category,unit_price\n"
    good = write(
        tmp_path, header + "MUG,10,8,9,0.3,kitchen,4.5\nPEN,14,1,1,0.01,stationery,\n", "skus.csv"
    )
    catalog = read_catalog_csv(good)
    assert not catalog.synthetic
    assert catalog["MUG"].volume_l == pytest.approx(0.72)
    assert catalog["PEN"].unit_price is None
    bad = write(tmp_path, header + "MUG,10,8,9,0.3,kitchen,4.5\nBAD,10,x,9,0.3,home,1\n", "b.csv")
    with pytest.raises(InputError, match=r"b\.csv:3: width_cm 'x' is not a number"):
        read_catalog_csv(bad)
    zero = write(tmp_path, header + "Z,10,8,0,0.3,home,1\n", "z.csv")
    with pytest.raises(InputError, match=r"z\.csv:2: height_cm must be positive"):
        read_catalog_csv(zero)
