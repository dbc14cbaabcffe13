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
from sim.viewer.floor_render import save_floor_png
from warehouse.config import AppConfig
from warehouse.day import DaySettings, run_day
from wms.errors import InputError
from wms.layout import summarise


@dataclass(frozen=True, slots=True)
class DemoSettings:
    out_dir: Path
    day: DaySettings = field(default_factory=DaySettings)


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
    day = run_day(config, day_settings, ledger_path=out / "ledger.db")
    kpis = write_report(day.record, out, navigable=floor.navigable)
    save_floor_png(floor, out / "floor.png")
    report = {
        **{k: v for k, v in kpis.items() if k != "per_robot"},
        "speedup": round(day.record.sim_s / day.record.wall_s, 1) if day.record.wall_s else None,
        "mode": day_settings.mode.value,
        "floor": summarise(floor, seed=day_settings.seed).to_dict(),
        "wms": day.wms,
        "ledger": {k: v for k, v in day.ledger.items() if k != "path"},
        "fleet": day.fleet,
        "per_robot": kpis.get("per_robot", {}),
    }
    report["fleet"].pop("cycle_ms_p95", None)  # a timing: kept out of the seeded report
    (out / "report.json").write_text(json.dumps(report, indent=2, sort_keys=True))
    return report
