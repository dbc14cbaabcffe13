"""KPIs of one simulated run, computed from its `RunRecord` (pure: numpy only, no I/O).

Everything here is a function of the record alone, so the same record always
gives the same `Kpis` and byte-identical `Kpis.as_dict()` JSON; the demo's
``--json``, the what-if runs and the report all read the same numbers. The
viewer and `sim.charts` use the series and heatmaps below; this module never
imports matplotlib, so the CLI can print KPIs without paying for it.

Conventions:

- A *robot-tick* is one `RobotSample` (the world writes one per robot per tick);
  every share of robot time is a share of robot-ticks.
- Rates (orders and lines per hour) are over the run's simulated time
  ``record.sim_s``, not to the last completion: a fleet that idles after its
  last order has still spent that time, and the what-if compares runs of the
  same day. With ``sim_s == 0`` a rate is 0.0.
- A share with nothing to divide by is ``None`` (``null`` in JSON), never 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.record import OrderRecord, RobotActivity, RunRecord

BUSY = frozenset(
    {RobotActivity.MOVING, RobotActivity.CARRYING, RobotActivity.WORKING, RobotActivity.WAITING}
)
"""Activities that count as utilised: the robot has a task (waiting with one is congestion)."""

ACTIVITIES: tuple[RobotActivity, ...] = tuple(RobotActivity)
"""Column order of `SampleTable.activity` codes."""

_CODE = {activity: code for code, activity in enumerate(ACTIVITIES)}
_BUSY_CODES = np.array([_CODE[a] for a in ACTIVITIES if a in BUSY], dtype=np.int8)

DECIMALS = 4
"""Floats in `Kpis.as_dict` are rounded to this many decimals (0.01 % of a share, 0.1 ms)."""


@dataclass(frozen=True, slots=True, eq=False)
class SampleTable:
    """The record's samples as columns, sorted by robot then time (build once, reuse).

    ``robot`` indexes ``robots``; ``activity`` indexes `ACTIVITIES`. Building it is
    the only per-sample Python loop; every KPI, series and heatmap is numpy over it.
    """

    robots: tuple[str, ...]
    robot: np.ndarray
    """int32 [N]"""
    t_s: np.ndarray
    """float64 [N]"""
    row: np.ndarray
    """int32 [N]"""
    col: np.ndarray
    """int32 [N]"""
    activity: np.ndarray
    """int8 [N]"""
    battery_pct: np.ndarray
    """float64 [N]"""

    @classmethod
    def of(cls, record: RunRecord) -> SampleTable:
        """Columns of ``record.samples``; robots are ``record.robots`` then any others, sorted.

        Raises `ValueError` for a sample outside ``record.floor_shape``.
        """
        seen = {s.robot for s in record.samples}
        robots = tuple(record.robots) + tuple(sorted(seen - set(record.robots)))
        index = {robot: i for i, robot in enumerate(robots)}
        samples = record.samples
        robot = np.fromiter((index[s.robot] for s in samples), np.int32, len(samples))
        t_s = np.fromiter((s.t_s for s in samples), np.float64, len(samples))
        order = np.lexsort((t_s, robot))
        row = np.fromiter((s.cell[0] for s in samples), np.int32, len(samples))
        col = np.fromiter((s.cell[1] for s in samples), np.int32, len(samples))
        height, width = record.floor_shape
        outside = (row < 0) | (row >= height) | (col < 0) | (col >= width)
        if outside.any():
            bad = samples[int(np.flatnonzero(outside)[0])]
            raise ValueError(f"sample of {bad.robot} at t={bad.t_s} is off the floor: {bad.cell}")
        activity = np.fromiter((_CODE[s.activity] for s in samples), np.int8, len(samples))
        battery = np.fromiter((s.battery_pct for s in samples), np.float64, len(samples))
        return cls(
            robots,
            robot[order],
            t_s[order],
            row[order],
            col[order],
            activity[order],
            battery[order],
        )

    def activity_counts(self) -> np.ndarray:
        """int64 [robots, activities]: robot-ticks of each robot in each activity."""
        flat = self.robot.astype(np.int64) * len(ACTIVITIES) + self.activity
        counts = np.bincount(flat, minlength=len(self.robots) * len(ACTIVITIES))
        return counts.reshape(len(self.robots), len(ACTIVITIES))


@dataclass(frozen=True, slots=True)
class ActivityShares:
    """Shares of robot-ticks by activity; the five fields sum to 1 (``None``: no ticks)."""

    ticks: int
    utilisation: float | None
    """MOVING, CARRYING, WORKING or WAITING: the robot has a task."""
    waiting_share: float | None
    """WAITING alone (part of utilisation): congestion or a held base."""
    idle_share: float | None
    charging_share: float | None
    error_share: float | None

    @classmethod
    def of(cls, counts: np.ndarray) -> ActivityShares:
        """From int counts in `ACTIVITIES` order."""
        ticks = int(counts.sum())

        def share(*activities: RobotActivity) -> float | None:
            part = sum(int(counts[_CODE[a]]) for a in activities)
            return part / ticks if ticks else None

        return cls(
            ticks,
            share(*BUSY),
            share(RobotActivity.WAITING),
            share(RobotActivity.IDLE),
            share(RobotActivity.CHARGING),
            share(RobotActivity.ERROR),
        )


@dataclass(frozen=True, slots=True)
class CutoffShare:
    """On-time performance of the orders sharing one carrier cut-off.

    ``on_time``: completed at or before ``cutoff_s``. ``late``: completed after it,
    or not completed although the run reached the cut-off (``cutoff_s <= sim_s``).
    ``pending``: not completed, cut-off still ahead when the run stopped; not
    counted in ``share``.
    """

    cutoff_s: float
    carrier: str | None
    on_time: int
    late: int
    pending: int

    @property
    def share(self) -> float | None:
        decided = self.on_time + self.late
        return self.on_time / decided if decided else None


@dataclass(frozen=True, slots=True)
class Kpis:
    """The run's headline numbers; see the module docstring for the conventions."""

    orders_total: int
    orders_completed: int
    lines_total: int
    lines_picked: int
    """Lines of completed orders minus their short lines."""
    lines_short: int
    """Short lines over all orders."""
    orders_per_hour: float
    lines_per_hour: float
    cycle_time_s_p50: float | None
    """Released → completed, completed orders only (linear-interpolated percentile)."""
    cycle_time_s_p90: float | None
    on_time_share: float | None
    """On time / (on time + late) over every order with a cut-off (see `CutoffShare`)."""
    on_time_by_cutoff: tuple[CutoffShare, ...]
    """One per (cut-off, carrier), earliest cut-off first."""
    fleet: ActivityShares
    per_robot: tuple[tuple[str, ActivityShares], ...]
    empty_travel_share: float | None
    """Empty cells driven / all cells driven."""
    energy_kwh: float
    """Battery percent used by all robots / 100 × battery capacity."""
    co2e_kg: float
    safety_violations: int
    sim_s: float
    wall_s: float
    """Wall-clock seconds of the run: the only field two runs of one seed may differ in."""

    @property
    def utilisation(self) -> float | None:
        return self.fleet.utilisation

    @property
    def waiting_share(self) -> float | None:
        return self.fleet.waiting_share

    @property
    def charging_share(self) -> float | None:
        return self.fleet.charging_share

    def as_dict(self) -> dict[str, Any]:
        """Flat JSON-ready dict, fixed key order, floats rounded to `DECIMALS`.

        The names match the ``warehouse demo --json`` contract (``utilisation``,
        ``cycle_time_s_p90``, ...); per-robot and per-cut-off detail are nested.
        """
        fleet = _shares_dict(self.fleet)
        out: dict[str, Any] = {
            "orders_total": self.orders_total,
            "orders_completed": self.orders_completed,
            "lines_total": self.lines_total,
            "lines_picked": self.lines_picked,
            "lines_short": self.lines_short,
            "orders_per_hour": self.orders_per_hour,
            "lines_per_hour": self.lines_per_hour,
            "cycle_time_s_p50": self.cycle_time_s_p50,
            "cycle_time_s_p90": self.cycle_time_s_p90,
            "on_time_share": self.on_time_share,
            "on_time_by_cutoff": [
                {
                    "cutoff_s": c.cutoff_s,
                    "carrier": c.carrier,
                    "on_time": c.on_time,
                    "late": c.late,
                    "pending": c.pending,
                    "share": c.share,
                }
                for c in self.on_time_by_cutoff
            ],
            "robot_ticks": fleet.pop("ticks"),
            **fleet,
            "per_robot": {robot: _shares_dict(shares) for robot, shares in self.per_robot},
            "empty_travel_share": self.empty_travel_share,
            "energy_kwh": self.energy_kwh,
            "co2e_kg": self.co2e_kg,
            "safety_violations": self.safety_violations,
            "sim_s": self.sim_s,
            "wall_s": self.wall_s,
        }
        return _rounded(out)


def _shares_dict(shares: ActivityShares) -> dict[str, Any]:
    return {
        "ticks": shares.ticks,
        "utilisation": shares.utilisation,
        "waiting_share": shares.waiting_share,
        "idle_share": shares.idle_share,
        "charging_share": shares.charging_share,
        "error_share": shares.error_share,
    }


def _rounded(value: Any) -> Any:
    """Floats rounded (``-0.0`` → ``0.0``) through dicts and lists; NaN/inf are refused."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"non-finite KPI value {value}")
        return round(value, DECIMALS) + 0.0
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_rounded(item) for item in value]
    return value


def _per_hour(count: int, sim_s: float) -> float:
    return count * 3600.0 / sim_s if sim_s > 0 else 0.0


def cycle_times_s(orders: Iterable[OrderRecord]) -> np.ndarray:
    """float64: released → completed of each completed order, in record order."""
    return np.array(
        [o.completed_s - o.released_s for o in orders if o.completed_s is not None],
        dtype=np.float64,
    )


def on_time_by_cutoff(orders: Iterable[OrderRecord], sim_s: float) -> tuple[CutoffShare, ...]:
    """Orders with a cut-off grouped by (cut-off, carrier); orders without one are left out."""
    tally: dict[tuple[float, str | None], list[int]] = {}
    for o in orders:
        if o.cutoff_s is None:
            continue
        counts = tally.setdefault((o.cutoff_s, o.carrier), [0, 0, 0])
        if o.completed_s is not None:
            counts[0 if o.completed_s <= o.cutoff_s else 1] += 1
        else:
            counts[1 if o.cutoff_s <= sim_s else 2] += 1
    keys = sorted(tally, key=lambda key: (key[0], key[1] or ""))
    return tuple(CutoffShare(cutoff, carrier, *tally[cutoff, carrier]) for cutoff, carrier in keys)


def compute_kpis(record: RunRecord, table: SampleTable | None = None) -> Kpis:
    """Every KPI of ``record``; pass ``table`` when the caller already built it."""
    table = table if table is not None else SampleTable.of(record)
    orders = record.orders
    completed = [o for o in orders if o.completed_s is not None]
    cycles = cycle_times_s(orders)
    p50, p90 = (float(p) for p in np.percentile(cycles, [50, 90])) if cycles.size else (None, None)
    cutoffs = on_time_by_cutoff(orders, record.sim_s)
    on_time = sum(c.on_time for c in cutoffs)
    decided = on_time + sum(c.late for c in cutoffs)
    counts = table.activity_counts()
    lines_picked = sum(o.lines - o.lines_short for o in completed)
    driven = record.empty_cells + record.loaded_cells
    energy_kwh = sum(record.energy_pct.values()) / 100.0 * record.params.battery_kwh
    return Kpis(
        orders_total=len(orders),
        orders_completed=len(completed),
        lines_total=sum(o.lines for o in orders),
        lines_picked=lines_picked,
        lines_short=sum(o.lines_short for o in orders),
        orders_per_hour=_per_hour(len(completed), record.sim_s),
        lines_per_hour=_per_hour(lines_picked, record.sim_s),
        cycle_time_s_p50=p50,
        cycle_time_s_p90=p90,
        on_time_share=on_time / decided if decided else None,
        on_time_by_cutoff=cutoffs,
        fleet=ActivityShares.of(counts.sum(axis=0)),
        per_robot=tuple(
            (robot, ActivityShares.of(counts[i])) for i, robot in enumerate(table.robots)
        ),
        empty_travel_share=record.empty_cells / driven if driven else None,
        energy_kwh=energy_kwh,
        co2e_kg=energy_kwh * record.params.grid_kg_co2e_per_kwh,
        safety_violations=record.safety_violations,
        sim_s=record.sim_s,
        wall_s=record.wall_s,
    )


# --- series and heatmaps (the viewer and the charts) ---------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class Throughput:
    """Completions per time bucket: bucket ``i`` is ``[starts_s[i], starts_s[i] + bucket_s)``."""

    bucket_s: float
    starts_s: np.ndarray
    """float64 [B]"""
    orders: np.ndarray
    """int64 [B]: orders completed in the bucket."""
    lines: np.ndarray
    """int64 [B]: lines picked by those orders (lines minus short lines)."""


def throughput_over_time(record: RunRecord, bucket_s: float = 900.0) -> Throughput:
    """Orders and lines completed per ``bucket_s`` of simulated time, from 0 to the run's end.

    The buckets cover ``max(sim_s, last completion)``, at least one bucket; a
    completion exactly at the end lands in the last bucket.
    """
    if bucket_s <= 0:
        raise ValueError(f"bucket_s must be positive, got {bucket_s}")
    done = [o for o in record.orders if o.completed_s is not None]
    times = np.array([o.completed_s for o in done], dtype=np.float64)
    end = max(record.sim_s, float(times.max()) if times.size else 0.0)
    buckets = max(1, math.ceil(end / bucket_s))
    index = np.clip((times // bucket_s).astype(np.int64), 0, buckets - 1)
    lines = np.array([o.lines - o.lines_short for o in done], dtype=np.float64)
    return Throughput(
        bucket_s,
        np.arange(buckets, dtype=np.float64) * bucket_s,
        np.bincount(index, minlength=buckets).astype(np.int64),
        np.bincount(index, weights=lines, minlength=buckets).astype(np.int64),
    )


@dataclass(frozen=True, slots=True, eq=False)
class EnergySeries:
    """Cumulative energy drawn from the batteries at each sampled time."""

    t_s: np.ndarray
    """float64 [T], increasing."""
    kwh: np.ndarray
    """float64 [T], non-decreasing."""


def energy_over_time(record: RunRecord, table: SampleTable | None = None) -> EnergySeries:
    """Cumulative kWh from the drops of each robot's sampled battery percent.

    The record keeps only the per-robot total (``energy_pct``, which `Kpis.energy_kwh`
    uses), so the curve is rebuilt from the samples: every fall in battery percent
    between a robot's consecutive samples, at the later sample's time. Energy used
    while charging does not show as a fall, so the curve can end below
    ``energy_kwh`` for a fleet that charged; it shows when energy went, not how much.
    """
    table = table if table is not None else SampleTable.of(record)
    if not len(table.t_s):
        return EnergySeries(np.zeros(0), np.zeros(0))
    same_robot = table.robot[1:] == table.robot[:-1]
    drop = np.where(same_robot, np.maximum(table.battery_pct[:-1] - table.battery_pct[1:], 0), 0)
    times, inverse = np.unique(table.t_s, return_inverse=True)
    per_time = np.bincount(inverse[1:], weights=drop, minlength=len(times))
    return EnergySeries(times, np.cumsum(per_time) / 100.0 * record.params.battery_kwh)


def _cell_counts(
    record: RunRecord, table: SampleTable | None, activities: Sequence[RobotActivity] | None
) -> np.ndarray:
    table = table if table is not None else SampleTable.of(record)
    height, width = record.floor_shape
    keep = (
        np.isin(table.activity, [_CODE[a] for a in activities])
        if activities is not None
        else slice(None)
    )
    flat = table.row[keep].astype(np.int64) * width + table.col[keep]
    return np.bincount(flat, minlength=height * width).reshape(height, width)


def occupancy_heatmap(record: RunRecord, table: SampleTable | None = None) -> np.ndarray:
    """int64 [H, W]: robot-ticks spent in each cell, whatever the robot was doing."""
    return _cell_counts(record, table, None)


def waiting_heatmap(record: RunRecord, table: SampleTable | None = None) -> np.ndarray:
    """int64 [H, W]: robot-ticks a WAITING robot stood in each cell (the congestion map)."""
    return _cell_counts(record, table, (RobotActivity.WAITING,))


def _percent(share: float | None) -> str:
    return "n/a" if share is None else f"{share:.0%}"


def _seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} s"


def summary_line(kpis: Kpis) -> str:
    """One line for the CLI: orders, rates, cycle time, on time, fleet shares, energy, safety."""
    return (
        f"{kpis.orders_completed}/{kpis.orders_total} orders, "
        f"{kpis.lines_picked}/{kpis.lines_total} lines ({kpis.lines_short} short) "
        f"in {kpis.sim_s / 3600:.2f} h: "
        f"{kpis.orders_per_hour:.1f} orders/h, {kpis.lines_per_hour:.1f} lines/h; "
        f"cycle p50 {_seconds(kpis.cycle_time_s_p50)}, p90 {_seconds(kpis.cycle_time_s_p90)}; "
        f"on time {_percent(kpis.on_time_share)}; "
        f"utilisation {_percent(kpis.utilisation)}, waiting {_percent(kpis.waiting_share)}, "
        f"charging {_percent(kpis.charging_share)}; "
        f"{kpis.energy_kwh:.2f} kWh ({kpis.co2e_kg:.2f} kg CO2e); "
        f"{kpis.safety_violations} safety violations"
    )
