"""The optional ``[fleet]`` config section: thresholds and timings of the manager.

A config without the section runs on these defaults. ``[[fleet.robots]]``
entries give a robot (or a ``fnmatch`` pattern of robot ids) its kind and
payload; robots that match none are ``default_kind``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from fleet.manager.model import RobotInfo, RobotKind
from wms.config_tables import check_keys, get_float, get_int, get_str, require_table
from wms.errors import InputError


@dataclass(frozen=True, slots=True)
class RobotRule:
    pattern: str
    kind: RobotKind
    max_payload_kg: float


@dataclass(frozen=True, slots=True)
class FleetConfig:
    cycle_s: float = 0.2
    """How often the adapter runs a decision cycle (seconds of manager time)."""
    lookahead_cells: int = 2
    """A robot's released base reaches at most this many cells beyond where it last reported."""
    horizon_cells: int = 6
    """Unreleased nodes sent after the base, so the robot can see where it is going."""
    go_charge_pct: float = 25.0
    back_to_work_pct: float = 80.0
    reserve_pct: float = 10.0
    """No task is given that would leave less than this at the nearest charger."""
    pct_per_cell: float = 0.05
    """Energy estimate used by assignment (battery percent per cell driven)."""
    about_free_cells: int = 8
    """A busy robot with this little of its task left is offered for the next one."""
    seconds_per_cell: float = 1.0
    """Travel-time estimate used against due times."""
    resequence_ms: int = 20
    """Time limit of one OR-Tools re-sequencing of a route when a robot takes it."""
    pick_s_per_line: float = 4.0
    station_s: float = 10.0
    lift_s: float = 2.0
    reconnect_grace_s: float = 10.0
    """After a restart, a robot silent this long is treated as lost (its task requeued)."""
    planner: str = "guided"
    assigner: str = "ours"
    default_kind: RobotKind = RobotKind.AMR
    default_payload_kg: float = 50.0
    robots: tuple[RobotRule, ...] = ()

    def robot_info(self, robot_id: str) -> RobotInfo:
        for rule in self.robots:
            if fnmatch.fnmatchcase(robot_id, rule.pattern):
                return RobotInfo(robot_id, rule.kind, rule.max_payload_kg)
        return RobotInfo(robot_id, self.default_kind, self.default_payload_kg)

    @classmethod
    def from_section(cls, section: Mapping[str, Any], where: str = "fleet") -> FleetConfig:
        names = [f.name for f in fields(cls)]
        check_keys(section, names, where)
        defaults = cls()
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name in ("robots", "default_kind", "planner", "assigner"):
                continue
            default = getattr(defaults, f.name)
            if isinstance(default, int):
                values[f.name] = get_int(section, f.name, where, default)
            else:
                values[f.name] = get_float(section, f.name, where, default)
            if values[f.name] <= 0 and f.name != "reserve_pct":
                raise InputError(f"{where}.{f.name}", "must be positive")
        for name in ("planner", "assigner"):
            values[name] = get_str(section, name, where, getattr(defaults, name))
        from fleet.traffic.registry import planner_names

        if values["planner"] not in planner_names():
            known = ", ".join(planner_names())
            raise InputError(f"{where}.planner", f"unknown planner {values['planner']!r} ({known})")
        from fleet.dispatch.assign import assigner_names

        if values["assigner"] not in assigner_names():
            known = ", ".join(assigner_names())
            raise InputError(
                f"{where}.assigner", f"unknown assigner {values['assigner']!r} ({known})"
            )
        values["default_kind"] = _kind(
            get_str(section, "default_kind", where, defaults.default_kind.value),
            f"{where}.default_kind",
        )
        for pct in ("go_charge_pct", "back_to_work_pct", "reserve_pct"):
            if not 0 <= values[pct] <= 100:
                raise InputError(f"{where}.{pct}", "must be a percentage 0..100")
        if values["go_charge_pct"] >= values["back_to_work_pct"]:
            raise InputError(f"{where}.go_charge_pct", "must be below back_to_work_pct")
        rules = []
        raw = section.get("robots", [])
        if not isinstance(raw, list):
            raise InputError(f"{where}.robots", "must be an array of tables ([[fleet.robots]])")
        for i, item in enumerate(raw):
            at = f"{where}.robots[{i}]"
            table = require_table(item, at)
            check_keys(table, ["id", "kind", "max_payload_kg"], at)
            rules.append(
                RobotRule(
                    get_str(table, "id", at),
                    _kind(get_str(table, "kind", at), f"{at}.kind"),
                    get_float(table, "max_payload_kg", at, values["default_payload_kg"]),
                )
            )
        return cls(**values, robots=tuple(rules))


def _kind(value: str, where: str) -> RobotKind:
    try:
        return RobotKind(value)
    except ValueError:
        known = ", ".join(k.value for k in RobotKind)
        raise InputError(where, f"unknown robot kind {value!r} (known: {known})") from None
