"""Released waves drive the ledger: replenishment triggers, reservations, picks."""

from __future__ import annotations

from dataclasses import replace

import pytest

from warehouse.config import load_config
from wms import planning
from wms.ledger import Ledger
from wms.release import complete_wave, release_wave, run_waves, stock_for_plan, wave_demand


@pytest.fixture(scope="module")
def small_plan():
    app = load_config(None)
    config = app.wms
    planning_config = replace(config.planning, profile=replace(config.planning.profile, orders=150))
    book = planning.load_order_book(planning_config, None, seed=3)
    model = planning.floor_model(app.floor)
    outcome = planning.slot_book(book, model, planning_config.slotting)
    picking = replace(planning_config.picking, wave_max_orders=40)
    plan = planning.plan_book(
        book.orders, book.catalog, outcome, model, picking, with_baselines=False
    )
    return app.floor, book, plan, config.replenishment


def test_every_line_is_picked_and_the_ledger_balances(small_plan) -> None:
    """Running all waves picks every planned line (or reports it short); movements balance."""
    floor, book, plan, params = small_plan
    ledger = Ledger.open(":memory:")
    stock_for_plan(ledger, floor, book.catalog, plan)
    report = run_waves(ledger, plan, params)
    lines = sum(len(b.picks) for b in plan.batches)
    assert report.waves == len(plan.waves) > 1
    assert report.lines_picked + report.lines_short == lines
    assert report.lines_short == 0
    assert report.units_picked == sum(wave_demand(plan.batches).values())
    assert report.balanced
    assert ledger.reservations() == []


def test_release_triggers_replenishment_and_reserves(small_plan) -> None:
    """Releasing a wave puts top-ups in transit and reserves the wave's picks."""
    floor, book, plan, params = small_plan
    ledger = Ledger.open(":memory:")
    stock_for_plan(ledger, floor, book.catalog, plan)
    for wave in plan.waves:
        first = release_wave(ledger, wave, params)
        if first.replenishment.tasks:
            break
        complete_wave(ledger, first)
    assert first.replenishment.tasks, "waves that drain faces must trigger top-ups"
    assert all(t.transfer_id is not None for t in first.replenishment.tasks)
    in_transit = sum(t.qty for t in ledger.transfers())
    assert in_transit == sum(t.qty for t in first.replenishment.tasks)
    reserved = sum(r.qty for r in ledger.reservations())
    assert reserved == first.reserved_units > 0
    assert complete_wave(ledger, first).short_picks == ()
    assert ledger.balance_check().ok


def test_wave_release_cli_triggers_replenishment(tmp_path) -> None:
    """`warehouse wave --release DB` reserves picks and puts top-ups in transit."""
    import json

    from tests.helpers import run_cli

    db = tmp_path / "ledger.db"
    first = run_cli("wave", "--count", "200", "--release", str(db), "--json")
    assert first.returncode == 0, first.stderr
    release = json.loads(first.stdout)["release"]
    assert release["balanced"]
    assert sum(w["reserved_lines"] for w in release["waves"]) > 0
    second = run_cli("wave", "--count", "200", "--release", str(db), "--json")
    assert second.returncode == 0, second.stderr
    again = json.loads(second.stdout)["release"]
    assert sum(len(w["replenishment"]) for w in again["waves"]) > 0


def test_orders_the_ledger_cannot_cover_are_exceptions(tmp_path) -> None:
    """Released into a stocked ledger: an order for a SKU it lacks is "no stock at release"."""
    import json

    from tests.helpers import run_cli

    db = tmp_path / "ledger.db"
    assert run_cli("wave", "--count", "50", "--release", str(db)).returncode == 0
    with Ledger.open(str(db)) as ledger:
        stocked = sorted(record.sku for record in ledger.skus())
    unstocked = next(f"SKU-{i:04d}" for i in range(1, 401) if f"SKU-{i:04d}" not in stocked)
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "order_id,sku,qty,due,priority\n"
        f"A,{stocked[0]},1,2026-01-05 16:00,standard\n"
        f"B,{unstocked},1,2026-01-05 16:00,standard\n",
        encoding="utf-8",
    )
    result = run_cli("wave", "--orders", str(orders), "--release", str(db), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["orders_planned"] == 1 and report["orders_in"] == 2
    [exception] = report["exceptions"]
    assert exception["order"] == "B" and "no stock at release" in exception["reason"]
    assert report["release"]["balanced"]
