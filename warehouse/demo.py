"""The demo: one working day of the whole system on the embedded default.

WMS → fleet manager → simulated controllers over real ZeroMQ, in lockstep →
picks confirmed in the ledger as robots finish them → KPIs, ``report.json`` and
charts in the run folder (`warehouse.day` does the day, `sim.charts` the report).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fleet.traffic.registry import planner_names
from sim.charts import write_report
from warehouse.config import AppConfig
from warehouse.day import DaySettings, run_day
from wms.errors import InputError
from wms.layout import summarise


@dataclass(frozen=True, slots=True)
class DemoSettings:
    out_dir: Path
    day: DaySettings = field(default_factory=DaySettings)
    view: bool = False
    screenshot: Path | None = None


def run_demo(config: AppConfig, settings: DemoSettings) -> dict[str, Any]:
    """The day on the config's floor; returns the report (also written as ``report.json``).

    Refused before any work starts: an unknown planner, a fleet larger than the free
    cells. The report's numbers depend only on the config and the seed, except the
    fields whose names end in ``wall_s``.
    """
    day_settings = settings.day
    if day_settings.planner not in planner_names():
        known = ", ".join(planner_names())
        raise InputError("--planner", f"unknown planner {day_settings.planner!r} (known: {known})")
    floor = config.floor
    free = int(floor.navigable.sum()) - len(floor.chargers)
    fleet = day_settings.amrs + day_settings.agvs
    if fleet > free:
        raise InputError("--robots", f"{fleet} robots do not fit on {free} free cells")
    out = settings.out_dir
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("ledger.db*"):
        stale.unlink()
    view = None
    if settings.view or settings.screenshot is not None:
        from warehouse.demo_view import DemoView  # pygame only when a view is asked for

        view = DemoView(floor, settings.view, settings.screenshot)
    try:
        day = run_day(
            config,
            day_settings,
            ledger_path=out / "ledger.db",
            on_tick=view.on_tick if view is not None else None,
        )
    finally:
        shot = view.finish() if view is not None else None
    kpis = write_report(day.record, out, navigable=floor.navigable)
    report = {
        **{k: v for k, v in kpis.items() if k != "per_robot"},
        "speedup": round(day.record.sim_s / day.record.wall_s, 1) if day.record.wall_s else None,
        "mode": day_settings.mode.value,
        "floor": summarise(floor, seed=day_settings.seed).to_dict(),
        "wms": day.wms,
        "ledger": {k: v for k, v in day.ledger.items() if k != "path"},
        "fleet": day.fleet,
        "returns": day.returns,
        "returns_handled": day.returns.get("booked", 0),
        "per_robot": kpis.get("per_robot", {}),
    }
    report["fleet"].pop("cycle_ms_p95", None)
    if shot is not None:
        report["screenshot"] = str(shot)  # a timing: kept out of the seeded report
    (out / "report.json").write_text(json.dumps(report, indent=2, sort_keys=True))
    return report
