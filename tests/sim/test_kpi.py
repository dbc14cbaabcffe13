"""KPIs from a run record: hand-counted cases, and properties over generated records."""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.kpi import (
    BUSY,
    SampleTable,
    compute_kpis,
    energy_over_time,
    occupancy_heatmap,
    summary_line,
    throughput_over_time,
    waiting_heatmap,
)
from sim.record import OrderRecord, RobotActivity, RobotSample, RunParams, RunRecord

A = RobotActivity
TICK_S = 180.0

ACTIVITY_A = [A.IDLE, A.IDLE, A.MOVING, A.MOVING, A.MOVING]
ACTIVITY_A += [A.WAITING, A.WAITING, A.WORKING, A.WORKING, A.CHARGING]
BATTERY_A = [100.0 - i for i in range(9)] + [95.0]
"""Falls 1 % a tick for 8 ticks, then charges."""
ACTIVITY_B = [A.CARRYING] * 4 + [A.WAITING] + [A.ERROR] * 3 + [A.IDLE] * 2
BATTERY_B = [80.0] * 4 + [78.0] * 6


def _track(
    robot: str, activities: list[RobotActivity], battery: list[float], home: tuple[int, int]
):
    """One robot's ten samples: at ``home``, except WAITING ticks, spent at (1, 1)."""
    return [
        RobotSample(i * TICK_S, robot, (1, 1) if act is A.WAITING else home, act, battery[i])
        for i, act in enumerate(activities)
    ]


def hand_record(shuffle_seed: int | None = None) -> RunRecord:
    """2 robots x 10 ticks of 180 s (sim_s = 1800) on a 3 x 4 floor, and five orders.

    Orders (id, lines, released, cut-off, completed, short, carrier):
    o1 4  0   600  300 0 DHL    on time, cycle 300
    o2 2  100 600  700 1 DHL    late,    cycle 600
    o3 3  200 900  -   0 UPS    incomplete, cut-off passed: late
    o4 1  0   -    100 0 -      no cut-off, cycle 100
    o5 5  0   2000 -   0 -      incomplete, cut-off ahead: pending
    """
    samples = _track("a", ACTIVITY_A, BATTERY_A, (0, 0)) + _track(
        "b", ACTIVITY_B, BATTERY_B, (2, 3)
    )
    if shuffle_seed is not None:
        random.Random(shuffle_seed).shuffle(samples)
    orders = [
        OrderRecord("o1", 4, 0.0, 600.0, 300.0, carrier="DHL"),
        OrderRecord("o2", 2, 100.0, 600.0, 700.0, lines_short=1, carrier="DHL"),
        OrderRecord("o3", 3, 200.0, 900.0, None, carrier="UPS"),
        OrderRecord("o4", 1, 0.0, None, 100.0),
        OrderRecord("o5", 5, 0.0, 2000.0, None),
    ]
    return RunRecord(
        floor_shape=(3, 4),
        robots=("a", "b"),
        params=RunParams(seconds_per_tick=TICK_S, battery_kwh=1.5, grid_kg_co2e_per_kwh=0.233),
        samples=samples,
        orders=orders,
        energy_pct={"a": 40.0, "b": 60.0},
        empty_cells=30,
        loaded_cells=90,
        safety_violations=2,
        sim_s=1800.0,
        wall_s=3.25,
    )


def test_order_counts_and_rates_by_hand() -> None:
    """3 of 5 orders done in half an hour: 6 orders/h; 4 + (2 - 1) + 1 = 6 lines, 12 lines/h."""
    k = compute_kpis(hand_record())
    assert (k.orders_total, k.orders_completed) == (5, 3)
    assert (k.lines_total, k.lines_picked, k.lines_short) == (15, 6, 1)
    assert k.orders_per_hour == pytest.approx(6.0)
    assert k.lines_per_hour == pytest.approx(12.0)


def test_cycle_time_percentiles_by_hand() -> None:
    """Cycle times 100, 300, 600: p50 is 300, p90 interpolates 300 + 0.8 x 300 = 540."""
    k = compute_kpis(hand_record())
    assert k.cycle_time_s_p50 == pytest.approx(300.0)
    assert k.cycle_time_s_p90 == pytest.approx(540.0)


def test_on_time_per_cutoff_by_hand() -> None:
    """One on time, two late (one never finished), one pending and one without cut-off left out."""
    k = compute_kpis(hand_record())
    assert k.on_time_share == pytest.approx(1 / 3)
    table = [(c.cutoff_s, c.carrier, c.on_time, c.late, c.pending) for c in k.on_time_by_cutoff]
    assert table == [(600.0, "DHL", 1, 1, 0), (900.0, "UPS", 0, 1, 0), (2000.0, None, 0, 0, 1)]
    assert [c.share for c in k.on_time_by_cutoff] == [0.5, 0.0, None]


def test_completion_exactly_at_cutoff_is_on_time() -> None:
    """``completed_s == cutoff_s`` is on time; a second later is late."""
    record = hand_record()
    record.orders = [OrderRecord("x", 1, 0.0, 50.0, 50.0), OrderRecord("y", 1, 0.0, 50.0, 51.0)]
    assert compute_kpis(record).on_time_share == 0.5


def test_activity_shares_by_hand() -> None:
    """a: 7 busy, 2 waiting, 2 idle, 1 charging; b: 5 busy, 1 waiting, 3 error, 2 idle."""
    k = compute_kpis(hand_record())
    assert k.fleet.ticks == 20
    assert k.utilisation == pytest.approx(12 / 20)
    assert k.waiting_share == pytest.approx(3 / 20)
    assert k.charging_share == pytest.approx(1 / 20)
    assert k.fleet.idle_share == pytest.approx(4 / 20)
    assert k.fleet.error_share == pytest.approx(3 / 20)
    per_robot = dict(k.per_robot)
    assert per_robot["a"].utilisation == pytest.approx(0.7)
    assert per_robot["b"].utilisation == pytest.approx(0.5)
    assert per_robot["b"].error_share == pytest.approx(0.3)


def test_travel_energy_and_carry_through_by_hand() -> None:
    """30 empty of 120 cells; 100 % of 1.5 kWh used, x 0.233 kg/kWh; counters passed through."""
    k = compute_kpis(hand_record())
    assert k.empty_travel_share == pytest.approx(0.25)
    assert k.energy_kwh == pytest.approx(1.5)
    assert k.co2e_kg == pytest.approx(1.5 * 0.233)
    assert (k.safety_violations, k.sim_s, k.wall_s) == (2, 1800.0, 3.25)


def test_empty_record_gives_none_not_zero_division() -> None:
    """No samples, orders or travel: shares and percentiles are None, rates 0."""
    k = compute_kpis(RunRecord(floor_shape=(2, 2), robots=("a",)))
    assert k.utilisation is None and k.empty_travel_share is None and k.on_time_share is None
    assert k.cycle_time_s_p50 is None and k.cycle_time_s_p90 is None
    assert k.orders_per_hour == 0.0
    assert dict(k.per_robot)["a"].ticks == 0
    json.dumps(k.as_dict(), allow_nan=False)


def test_sample_order_does_not_matter() -> None:
    """Samples in any order give the same KPIs and the same energy curve (sorted per robot)."""
    base = hand_record()
    shuffled = hand_record(shuffle_seed=7)
    assert compute_kpis(base).as_dict() == compute_kpis(shuffled).as_dict()
    np.testing.assert_array_equal(energy_over_time(base).kwh, energy_over_time(shuffled).kwh)


def test_as_dict_carries_the_cli_contract_names_rounded() -> None:
    """The ``demo --json`` names are top level; floats have at most four decimals."""
    d = compute_kpis(hand_record()).as_dict()
    for name in ("orders_total", "orders_completed", "lines_short", "safety_violations"):
        assert isinstance(d[name], int)
    assert d["on_time_share"] == 0.3333
    assert d["co2e_kg"] == 0.3495
    assert d["utilisation"] == 0.6
    assert d["per_robot"]["a"]["waiting_share"] == 0.2
    assert d["on_time_by_cutoff"][2] == {
        "cutoff_s": 2000.0,
        "carrier": None,
        "on_time": 0,
        "late": 0,
        "pending": 1,
        "share": None,
    }


def test_throughput_buckets_by_hand() -> None:
    """10-minute buckets over 1800 s: o4 and o1 in the first (5 lines), o2 in the second."""
    series = throughput_over_time(hand_record(), bucket_s=600.0)
    np.testing.assert_array_equal(series.starts_s, [0.0, 600.0, 1200.0])
    np.testing.assert_array_equal(series.orders, [2, 1, 0])
    np.testing.assert_array_equal(series.lines, [5, 1, 0])


def test_throughput_keeps_a_completion_at_the_very_end() -> None:
    """A completion at exactly sim_s lands in the last bucket, not in a new one."""
    record = hand_record()
    record.orders = [OrderRecord("x", 1, 0.0, None, 1800.0)]
    np.testing.assert_array_equal(throughput_over_time(record, 600.0).orders, [0, 0, 1])


def test_throughput_refuses_a_non_positive_bucket() -> None:
    """A zero bucket would divide by zero: refused."""
    with pytest.raises(ValueError, match="bucket_s"):
        throughput_over_time(hand_record(), bucket_s=0.0)


def test_energy_curve_by_hand() -> None:
    """a falls 1 %/tick for 8 ticks, b 2 % at tick 4; charging adds nothing: 10 % of 1.5 kWh."""
    series = energy_over_time(hand_record())
    np.testing.assert_array_equal(series.t_s, np.arange(10) * TICK_S)
    expected_pct = [0, 1, 2, 3, 6, 7, 8, 9, 10, 10]
    np.testing.assert_allclose(series.kwh, np.array(expected_pct) / 100 * 1.5)


def test_heatmaps_by_hand() -> None:
    """Waits: a twice and b once at (1, 1); a else at (0, 0), b else at (2, 3)."""
    record = hand_record()
    waiting = waiting_heatmap(record)
    occupancy = occupancy_heatmap(record)
    assert waiting.shape == occupancy.shape == (3, 4)
    assert waiting[1, 1] == 3 and waiting.sum() == 3
    assert (occupancy[0, 0], occupancy[1, 1], occupancy[2, 3], occupancy.sum()) == (8, 3, 9, 20)


def test_sample_off_the_floor_is_refused() -> None:
    """A cell outside floor_shape is a broken record, named in the error."""
    record = hand_record()
    record.samples.append(RobotSample(0.0, "a", (3, 0), A.IDLE, 50.0))
    with pytest.raises(ValueError, match=r"off the floor: \(3, 0\)"):
        SampleTable.of(record)


def test_summary_line_names_the_headline_numbers() -> None:
    """One line with orders, rate, p90, on time, utilisation and violations."""
    line = summary_line(compute_kpis(hand_record()))
    assert "\n" not in line
    for part in ("3/5 orders", "6.0 orders/h", "p90 540 s", "on time 33%", "utilisation 60%"):
        assert part in line
    assert "2 safety violations" in line


def test_kpi_module_never_imports_matplotlib() -> None:
    """Importing sim.kpi leaves matplotlib unloaded, so the CLI stays quick."""
    code = "import sys, sim.kpi; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- properties over generated records -----------------------------------------------------------

ROBOT_NAMES = ("r0", "r1", "r2")
times = st.floats(0.0, 5000.0, allow_subnormal=False)
run_seconds = st.integers(0, 10_000).map(lambda half_seconds: half_seconds * 0.5)
"""Whole half seconds: a run lasts whole ticks, never 1e-300 s (a rate would overflow)."""


@st.composite
def records(draw: st.DrawFn) -> RunRecord:
    """Up to 3 robots x 12 ticks with random activities and cells; random orders and counters."""
    height, width = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    robots = ROBOT_NAMES[: draw(st.integers(1, 3))]
    ticks = draw(st.integers(0, 12))
    samples = [
        RobotSample(
            float(t),
            robot,
            (draw(st.integers(0, height - 1)), draw(st.integers(0, width - 1))),
            draw(st.sampled_from(list(RobotActivity))),
            draw(st.floats(0.0, 100.0)),
        )
        for t in range(ticks)
        for robot in robots
    ]
    orders = []
    for i in range(draw(st.integers(0, 8))):
        released = draw(times)
        done = draw(st.none() | st.floats(0.0, 3000.0))
        lines = draw(st.integers(1, 9))
        orders.append(
            OrderRecord(
                f"o{i}",
                lines,
                released,
                draw(st.none() | times),
                None if done is None else released + done,
                lines_short=draw(st.integers(0, lines)),
                carrier=draw(st.sampled_from([None, "DHL", "UPS"])),
            )
        )
    return RunRecord(
        floor_shape=(height, width),
        robots=robots,
        samples=samples,
        orders=orders,
        energy_pct={robot: draw(st.floats(0.0, 500.0)) for robot in robots},
        empty_cells=draw(st.integers(0, 100)),
        loaded_cells=draw(st.integers(0, 100)),
        sim_s=draw(run_seconds),
    )


def _shares(kpis_dict: dict) -> list[float]:
    names = ("utilisation", "waiting_share", "idle_share", "charging_share", "error_share")
    rows = [kpis_dict, *kpis_dict["per_robot"].values()]
    extra = [kpis_dict["on_time_share"], kpis_dict["empty_travel_share"]]
    extra += [c["share"] for c in kpis_dict["on_time_by_cutoff"]]
    return [v for v in [*(row[n] for row in rows for n in names), *extra] if v is not None]


@settings(max_examples=150, deadline=None)
@given(records())
def test_every_share_is_between_zero_and_one(record: RunRecord) -> None:
    """Every share in the dict, fleet, per robot, per cut-off, lies in [0, 1]."""
    assert all(0.0 <= share <= 1.0 for share in _shares(compute_kpis(record).as_dict()))


@settings(max_examples=150, deadline=None)
@given(records())
def test_activity_shares_partition_robot_time(record: RunRecord) -> None:
    """Utilisation + idle + charging + error is 1, and waiting is part of utilisation."""
    k = compute_kpis(record)
    for shares in [k.fleet, *(s for _, s in k.per_robot)]:
        if shares.ticks == 0:
            assert shares.utilisation is None
            continue
        parts = (shares.utilisation, shares.idle_share, shares.charging_share, shares.error_share)
        assert math.isclose(sum(parts), 1.0, abs_tol=1e-12)
        assert shares.waiting_share <= shares.utilisation
    busy = sum(s.activity in BUSY for s in record.samples)
    assert k.fleet.ticks == len(record.samples)
    if record.samples:
        assert k.utilisation == pytest.approx(busy / len(record.samples))


@settings(max_examples=150, deadline=None)
@given(records())
def test_percentiles_are_ordered_within_the_cycle_times(record: RunRecord) -> None:
    """min cycle ≤ p50 ≤ p90 ≤ max cycle, or both None with no completed order."""
    k = compute_kpis(record)
    cycles = [o.completed_s - o.released_s for o in record.orders if o.completed_s is not None]
    if not cycles:
        assert k.cycle_time_s_p50 is None and k.cycle_time_s_p90 is None
        return
    eps = 1e-9 * max(1.0, max(cycles))
    assert min(cycles) - eps <= k.cycle_time_s_p50 <= k.cycle_time_s_p90 + eps
    assert k.cycle_time_s_p90 <= max(cycles) + eps


@settings(max_examples=100, deadline=None)
@given(records())
def test_same_record_gives_byte_identical_json(record: RunRecord) -> None:
    """Computing twice gives equal dicts and identical JSON, with no NaN."""
    first = json.dumps(compute_kpis(record).as_dict(), allow_nan=False)
    second = json.dumps(compute_kpis(record).as_dict(), allow_nan=False)
    assert first == second


@settings(max_examples=100, deadline=None)
@given(records(), st.sampled_from([60.0, 900.0, 3600.0]))
def test_series_and_heatmaps_account_for_everything(record: RunRecord, bucket_s: float) -> None:
    """Buckets hold every completion; occupancy every robot-tick; the energy curve never falls."""
    k = compute_kpis(record)
    series = throughput_over_time(record, bucket_s)
    assert series.orders.sum() == k.orders_completed
    assert series.lines.sum() == k.lines_picked
    assert occupancy_heatmap(record).sum() == k.fleet.ticks
    waiting = sum(s.activity is A.WAITING for s in record.samples)
    assert waiting_heatmap(record).sum() == waiting
    energy = energy_over_time(record)
    assert np.all(np.diff(energy.kwh) >= 0) and np.all(np.diff(energy.t_s) > 0)
