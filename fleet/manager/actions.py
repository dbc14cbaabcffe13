"""The node actions a stop becomes, as a VDA 5050 `Action` (the vocabulary in docs/fleet.md).

``pick`` with ``lines`` (items into the tote) or ``loadId`` (lift a pod), ``drop``,
``stationWork`` and ``startCharging``; all HARD, with ``durationSeconds`` and
``taskId`` so a controller knows how long to stand and what for.
"""

from __future__ import annotations

from fleet.manager.config import FleetConfig
from fleet.manager.model import Stop, StopAction
from fleet.protocol.messages import Action, ActionParameter, BlockingType


def stop_action(config: FleetConfig, task_id: str, stop: Stop, action_id: str) -> Action:
    """The action for ``stop``; durations default from the config (per line, station, lift)."""
    params: list[ActionParameter] = []
    kind = "pick"
    duration = stop.duration_s
    if stop.action is StopAction.PICK_LINES or stop.action is StopAction.STATION:
        duration = duration or (
            config.pick_s_per_line * max(1, len(stop.lines))
            if stop.action is StopAction.PICK_LINES
            else config.station_s
        )
        params.append(ActionParameter("lines", len(stop.lines)))
        if stop.action is StopAction.STATION:
            kind = "stationWork"
    elif stop.action in (StopAction.LIFT, StopAction.DROP):
        kind = "pick" if stop.action is StopAction.LIFT else "drop"
        duration = duration or config.lift_s
        params.append(ActionParameter("loadId", stop.load_id or task_id))
    elif stop.action is StopAction.CHARGE:
        return Action("startCharging", action_id, BlockingType.HARD)
    params.append(ActionParameter("durationSeconds", float(duration)))
    params.append(ActionParameter("taskId", task_id))
    return Action(kind, action_id, BlockingType.HARD, action_parameters=tuple(params))
