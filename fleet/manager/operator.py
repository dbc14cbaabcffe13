"""Operator requests (`fleet.control`) applied to the decision core.

One function per request type, each a plain call on `FleetCore`; a request the
core refuses raises `ControlRefused` with the core's one-line reason, so the
operator sees why and nothing changed. Runs on the manager's cycle thread
(`ManagerService.call`).
"""

from __future__ import annotations

import itertools
from typing import Any

from fleet.control.protocol import (
    AddTask,
    CancelTask,
    ControlRefused,
    Drain,
    EStop,
    EStopRelease,
    ListRobots,
    ListTasks,
    Pause,
    Request,
    Resume,
    SetPriority,
    Undrain,
)
from fleet.manager.core import FleetCore, ManagerRefused
from fleet.manager.model import Stop, StopAction, TaskKind, TaskSpec
from wms.layout import Cell

_ids = itertools.count(1)


def stops_for(kind: TaskKind, cells: tuple[Cell, ...]) -> tuple[Stop, ...]:
    """The stop actions an operator's task of this kind implies.

    ``move`` and ``park``: go there. ``pick_route``: pick at every stop.
    ``move_pod``: lift the pod at the first cell, work at the station (second),
    put it down at the last cell (back where it came from when only two are
    given). ``putaway``, ``replenish``, ``return_to_inspection``: pick up at the
    first, drop at the last. ``charge``: charge at the cell.
    """
    if kind is TaskKind.PICK_ROUTE:
        return tuple(Stop(c, StopAction.PICK_LINES) for c in cells)
    if kind is TaskKind.MOVE_POD:
        if len(cells) < 2:
            raise ControlRefused("a move_pod task needs the pod's cell and a station")
        back = cells[2] if len(cells) > 2 else cells[0]
        return (
            Stop(cells[0], StopAction.LIFT),
            Stop(cells[1], StopAction.STATION),
            Stop(back, StopAction.DROP),
        )
    if kind in (TaskKind.PUTAWAY, TaskKind.REPLENISH, TaskKind.RETURN_TO_INSPECTION):
        if len(cells) < 2:
            raise ControlRefused(f"a {kind.value} task needs a pick-up and a drop cell")
        middle = tuple(Stop(c) for c in cells[1:-1])
        return (Stop(cells[0], StopAction.LIFT), *middle, Stop(cells[-1], StopAction.DROP))
    if kind is TaskKind.CHARGE:
        return tuple(Stop(c, StopAction.CHARGE) for c in cells[-1:])
    return tuple(Stop(c) for c in cells)


def handle(core: FleetCore, request: Request) -> Any:
    try:
        return _handle(core, request)
    except ManagerRefused as refused:
        raise ControlRefused(str(refused)) from None


def _handle(core: FleetCore, request: Request) -> Any:
    if isinstance(request, AddTask):
        task_id = f"op-{int(core.now)}-{next(_ids)}"
        while task_id in core.tasks:
            task_id = f"op-{int(core.now)}-{next(_ids)}"
        task = core.submit(
            TaskSpec(
                task_id,
                request.kind,
                stops_for(request.kind, request.stops),
                priority=request.priority,
                due_s=request.due_s,
                robot=request.robot,
            )
        )
        return {"task_id": task.task_id, "status": task.status.value}
    if isinstance(request, ListTasks):
        return [{**t.as_dict(), "waiting": core.refusals.get(t.task_id)} for t in core.tasks]
    if isinstance(request, ListRobots):
        return core.robot_views()
    if isinstance(request, CancelTask):
        core.cancel(request.task_id)
        return {"task_id": request.task_id, "status": "cancelled"}
    if isinstance(request, SetPriority):
        core.reprioritise(request.task_id, request.priority)
        return {"task_id": request.task_id, "priority": request.priority}
    if isinstance(request, Pause | Resume):
        core.pause(request.robot, paused=isinstance(request, Pause))
        return {"robot": request.robot or "all", "paused": isinstance(request, Pause)}
    if isinstance(request, EStop | EStopRelease):
        core.set_estop(isinstance(request, EStop))
        return {"estop": core.estop}
    if isinstance(request, Drain | Undrain):
        core.drain(request.robot, drained=isinstance(request, Drain))
        return {"robot": request.robot, "drained": isinstance(request, Drain)}
    raise ControlRefused(f"{request.op.value}: not handled by this fleet manager")
