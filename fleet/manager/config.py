"""The optional ``[fleet]`` config section: thresholds and timings of the manager.

A config without the section runs on these defaults. ``[[fleet.robots]]``
entries give a robot (or a ``fnmatch`` pattern of robot ids) its kind and
payload; robots that match none are ``default_kind``.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Annotated

from core.config import Percent, Positive, Where
from fleet.manager.model import RobotInfo, RobotKind


@dataclass(frozen=True, slots=True)
class RobotRule:
    """One ``[[fleet.robots]]`` entry: robots whose id matches ``id`` (an ``fnmatch``
    pattern) are of ``kind``; ``max_payload_kg`` None means the section's default."""

    id: str
    kind: RobotKind
    max_payload_kg: Annotated[float, Positive] | None = None


@dataclass(frozen=True, slots=True)
class FleetConfig:
    cycle_s: Annotated[float, Positive] = 0.2
    """How often the adapter runs a decision cycle (seconds of manager time)."""
    lookahead_cells: Annotated[int, Positive] = 2
    """A robot's released base reaches at most this many cells beyond where it last reported."""
    horizon_cells: Annotated[int, Positive] = 6
    """Unreleased nodes sent after the base, so the robot can see where it is going."""
    go_charge_pct: Annotated[float, Positive, Percent] = 25.0
    back_to_work_pct: Annotated[float, Positive, Percent] = 80.0
    reserve_pct: Annotated[float, Percent] = 10.0
    """No task is given that would leave less than this at the nearest charger."""
    pct_per_cell: Annotated[float, Positive] = 0.05
    """Energy estimate used by assignment (battery percent per cell driven)."""
    about_free_cells: Annotated[int, Positive] = 8
    """A busy robot with this little of its task left is offered for the next one."""
    seconds_per_cell: Annotated[float, Positive] = 1.0
    """Travel-time estimate used against due times."""
    resequence_solutions: Annotated[int, Positive] = 20
    """Work limit of one OR-Tools re-sequencing of a route when a robot takes it: solutions
    its descent may produce. A work limit, not a time limit, so the stop order (and every
    command after it) is the same on a loaded machine, in lockstep replays and live."""
    resequence_guard_ms: Annotated[int, Positive] = 1000
    """Wall-clock safety cap on one re-sequencing, so `warehouse serve`'s cycle stays
    bounded whatever the input. Generous on purpose (the work limit ends a search on a
    100-stop late route in ~0.2 s): it does not bind in normal operation and is not a
    tuning knob; a warning is logged when it binds, since that order may differ between
    runs."""
    pick_s_per_line: Annotated[float, Positive] = 4.0
    station_s: Annotated[float, Positive] = 10.0
    lift_s: Annotated[float, Positive] = 2.0
    reconnect_grace_s: Annotated[float, Positive] = 10.0
    """After a restart, a robot silent this long is treated as lost (its task requeued)."""
    planner: str = "guided"
    assigner: str = "ours"
    default_kind: RobotKind = RobotKind.AMR
    default_payload_kg: Annotated[float, Positive] = 50.0
    robots: tuple[RobotRule, ...] = ()

    def robot_info(self, robot_id: str) -> RobotInfo:
        for rule in self.robots:
            if fnmatch.fnmatchcase(robot_id, rule.id):
                payload = rule.max_payload_kg
                if payload is None:
                    payload = self.default_payload_kg
                return RobotInfo(robot_id, rule.kind, payload)
        return RobotInfo(robot_id, self.default_kind, self.default_payload_kg)

    def validate(self, where: Where) -> None:
        """Called by `core.config.load`: the planner and assigner exist, the charge
        thresholds are in order."""
        from fleet.dispatch.assign import assigner_names
        from fleet.traffic.registry import planner_names

        for key, value, known in (
            ("planner", self.planner, planner_names()),
            ("assigner", self.assigner, assigner_names()),
        ):
            if value not in known:
                raise (where / key).error(f"unknown {key} {value!r} ({', '.join(known)})")
        if self.go_charge_pct >= self.back_to_work_pct:
            raise (where / "go_charge_pct").error("must be below back_to_work_pct")
