"""The run report: `report.json` and PNG charts of a `RunRecord` (matplotlib, Agg only).

The Agg backend is selected before anything else of matplotlib is loaded, and
figures are plain `matplotlib.figure.Figure` objects drawn on an Agg canvas,
never pyplot's global figure manager: no window can open, nothing leaks
between charts, and the what-if can draw in worker processes. All numbers
come from `sim.kpi`; this module only draws and writes files.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter

from sim.kpi import (
    ACTIVITIES,
    Kpis,
    SampleTable,
    compute_kpis,
    cycle_times_s,
    energy_over_time,
    occupancy_heatmap,
    throughput_over_time,
    waiting_heatmap,
)
from sim.record import RobotActivity, RunRecord
from sim.viewer.floor_render import WALL_COLOUR

ACTIVITY_COLOURS: dict[RobotActivity, str] = {
    RobotActivity.MOVING: "#4c9be8",
    RobotActivity.CARRYING: "#1f5fa8",
    RobotActivity.WORKING: "#2ca02c",
    RobotActivity.WAITING: "#f0a030",
    RobotActivity.IDLE: "#c8c8c8",
    RobotActivity.CHARGING: "#9467bd",
    RobotActivity.ERROR: "#d62728",
}
"""Stacking order and colour of each activity in the utilisation chart (busy ones first)."""

CHART_FILES = {
    "throughput": "throughput.png",
    "cycle_time": "cycle_time.png",
    "utilisation": "utilisation.png",
    "heatmap_waiting": "heatmap_waiting.png",
    "heatmap_occupancy": "heatmap_occupancy.png",
    "energy": "energy.png",
}
"""Chart name → file name in the run folder (listed in report.json under ``charts``)."""

REPORT_FILE = "report.json"
DPI = 100
_WIDE = (8.0, 4.5)
_WALL = tuple(channel / 255 for channel in WALL_COLOUR)


def _figure(size: tuple[float, float] = _WIDE) -> Figure:
    figure = Figure(figsize=size, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _save(figure: Figure, path: Path) -> None:
    figure.savefig(path, dpi=DPI, metadata={"Software": None})


def _hours(seconds: np.ndarray | float) -> np.ndarray | float:
    return np.asarray(seconds, dtype=np.float64) / 3600.0


def _no_data(axes: Any, what: str) -> None:
    axes.text(
        0.5, 0.5, f"no {what} in this run", ha="center", va="center", transform=axes.transAxes
    )


def throughput_chart(record: RunRecord, path: Path, bucket_s: float = 900.0) -> None:
    """Bars of orders completed per ``bucket_s``, against simulated hours."""
    series = throughput_over_time(record, bucket_s)
    figure = _figure()
    axes = figure.add_subplot()
    axes.bar(
        _hours(series.starts_s),
        series.orders,
        width=_hours(bucket_s) * 0.9,
        align="edge",
        color=ACTIVITY_COLOURS[RobotActivity.CARRYING],
    )
    minutes = f"{bucket_s / 60:g} min"
    axes.set(
        title=f"Throughput: orders completed per {minutes}",
        xlabel="simulated time (h)",
        ylabel=f"orders completed / {minutes}",
    )
    axes.yaxis.get_major_locator().set_params(integer=True)
    _save(figure, path)


def cycle_time_chart(record: RunRecord, kpis: Kpis, path: Path) -> None:
    """Histogram of released → completed minutes of completed orders, p50 and p90 marked."""
    minutes = cycle_times_s(record.orders) / 60.0
    figure = _figure()
    axes = figure.add_subplot()
    axes.set(
        title="Order cycle time (released → completed)",
        xlabel="cycle time (min)",
        ylabel="orders",
    )
    if not minutes.size:
        _no_data(axes, "completed orders")
        _save(figure, path)
        return
    axes.hist(minutes, bins=min(40, max(5, minutes.size // 5)), color="#8fb8de", edgecolor="white")
    for label, value, style in (
        ("p50", kpis.cycle_time_s_p50, "--"),
        ("p90", kpis.cycle_time_s_p90, ":"),
    ):
        assert value is not None  # some order completed
        axes.axvline(
            value / 60.0, color="black", linestyle=style, label=f"{label} {value / 60:.1f} min"
        )
    axes.legend(loc="best")
    axes.yaxis.get_major_locator().set_params(integer=True)
    _save(figure, path)


def utilisation_chart(record: RunRecord, table: SampleTable, kpis: Kpis, path: Path) -> None:
    """Per robot, a bar of its ticks split by activity; the busy part is its utilisation."""
    counts = table.activity_counts()
    ticks = np.maximum(counts.sum(axis=1, keepdims=True), 1)
    shares = counts / ticks
    figure = _figure((max(6.0, min(16.0, 2.0 + 0.25 * len(table.robots))), 4.5))
    axes = figure.add_subplot()
    positions = np.arange(len(table.robots))
    bottom = np.zeros(len(table.robots))
    for activity, colour in ACTIVITY_COLOURS.items():
        column = shares[:, ACTIVITIES.index(activity)]
        axes.bar(positions, column, bottom=bottom, color=colour, label=activity.value, width=0.8)
        bottom += column
    overall = "n/a" if kpis.utilisation is None else f"{kpis.utilisation:.0%}"
    axes.set(
        title=f"Robot time by activity (fleet utilisation {overall})",
        xlabel="robot",
        ylabel="share of robot time",
        ylim=(0, 1),
    )
    if len(table.robots) <= 40:
        axes.set_xticks(positions, table.robots, rotation=90 if len(table.robots) > 10 else 0)
    else:
        axes.set_xticks([])
    axes.yaxis.set_major_formatter(PercentFormatter(1.0))
    axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
    _save(figure, path)


def heatmap_chart(
    counts: np.ndarray, navigable: np.ndarray | None, title: str, unit: str, path: Path
) -> None:
    """``counts`` [H, W] on the floor grid (row 0 at the top, as in the ``.map``); walls grey."""
    height, width = counts.shape
    inches_per_cell = min(12.0 / width, 8.0 / height, 0.5)
    figure = _figure(
        (max(5.0, width * inches_per_cell + 2.0), max(3.5, height * inches_per_cell + 1.2))
    )
    axes = figure.add_subplot()
    walls = np.zeros(counts.shape, dtype=bool) if navigable is None else ~np.asarray(navigable)
    if walls.shape != counts.shape:
        raise ValueError(f"navigable mask {walls.shape} does not match the floor {counts.shape}")
    cmap = matplotlib.colormaps["YlOrRd"].with_extremes(bad=_WALL)
    image = axes.imshow(
        np.ma.masked_array(counts, mask=walls),
        cmap=cmap,
        vmin=0,
        vmax=max(1, int(counts.max())),
        interpolation="nearest",
    )
    figure.colorbar(image, ax=axes, label=unit, shrink=0.8)
    axes.set(title=title, xlabel="column", ylabel="row (0 = north)")
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.yaxis.get_major_locator().set_params(integer=True)
    if navigable is not None:
        figure.legend(
            handles=[Patch(color=_WALL, label="not navigable")], loc="outside lower right"
        )
    _save(figure, path)


def energy_chart(record: RunRecord, table: SampleTable, kpis: Kpis, path: Path) -> None:
    """Cumulative kWh drawn over simulated hours, with the run's metered total as a line."""
    series = energy_over_time(record, table)
    figure = _figure()
    axes = figure.add_subplot()
    axes.plot(_hours(series.t_s), series.kwh, color="#1f5fa8", label="from sampled battery drops")
    axes.axhline(
        kpis.energy_kwh,
        color="#555555",
        linestyle="--",
        label=f"run total {kpis.energy_kwh:.2f} kWh ({kpis.co2e_kg:.2f} kg CO2e)",
    )
    axes.set(
        title="Energy used by the fleet (cumulative)",
        xlabel="simulated time (h)",
        ylabel="energy (kWh)",
    )
    axes.set_ylim(
        bottom=0, top=max(kpis.energy_kwh, float(series.kwh.max(initial=0.0))) * 1.15 + 1e-3
    )
    axes.legend(loc="lower right")
    _save(figure, path)


def write_report(
    record: RunRecord,
    out_dir: Path | str,
    *,
    navigable: np.ndarray | None = None,
    bucket_s: float = 900.0,
) -> dict[str, Any]:
    """Write `REPORT_FILE` and every chart of `CHART_FILES` into ``out_dir``; return the JSON.

    The JSON is the flat `Kpis.as_dict` plus ``throughput_bucket_s`` and ``charts``
    (chart name → file name relative to ``out_dir``), so it is as deterministic as
    the KPIs. ``navigable`` (bool [H, W], e.g. ``Floor.navigable``) greys out the
    walls on the heatmaps. ``out_dir`` is created if missing.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table = SampleTable.of(record)
    kpis = compute_kpis(record, table)
    heatmaps: dict[str, tuple[np.ndarray, str, str]] = {
        "heatmap_waiting": (
            waiting_heatmap(record, table),
            "Congestion: where robots waited",
            "robot-ticks waiting",
        ),
        "heatmap_occupancy": (
            occupancy_heatmap(record, table),
            "Occupancy: where robots were",
            "robot-ticks",
        ),
    }
    drawers: dict[str, Callable[[Path], None]] = {
        "throughput": lambda p: throughput_chart(record, p, bucket_s),
        "cycle_time": lambda p: cycle_time_chart(record, kpis, p),
        "utilisation": lambda p: utilisation_chart(record, table, kpis, p),
        **{
            name: (lambda p, args=args: heatmap_chart(args[0], navigable, args[1], args[2], p))
            for name, args in heatmaps.items()
        },
        "energy": lambda p: energy_chart(record, table, kpis, p),
    }
    for name, file_name in CHART_FILES.items():
        drawers[name](out / file_name)
    report = {**kpis.as_dict(), "throughput_bucket_s": bucket_s, "charts": dict(CHART_FILES)}
    (out / REPORT_FILE).write_text(json.dumps(report, indent=2, allow_nan=False) + "\n")
    return report
