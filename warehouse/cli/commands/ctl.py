"""``warehouse ctl``: operator commands to a running fleet over its control socket.

    warehouse ctl --connect ADDR [--keys DIR --operator NAME] COMMAND ... [--json]

Commands: ``tasks add|list|cancel|priority``, ``robots list``, ``pause`` /
``resume`` (``ROBOT`` or ``--all``), ``estop [--release]``, ``drain`` /
``undrain ROBOT``. Every argument is checked before anything is sent; no
answer within ``--timeout`` (2 s), a refused command and bad arguments are all
one line on stderr and exit 2. ``--json`` prints the fleet's answer as JSON
(``tasks add``: ``{"task_id": ...}``; the lists: one object per task / robot).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from fleet.control.client import ControlClient, operator_keys
from fleet.control.protocol import (
    MAX_CELL,
    MAX_PRIORITY,
    ROBOT_COLUMNS,
    TASK_COLUMNS,
    AddTask,
    CancelTask,
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
from fleet.manager.model import TaskKind
from warehouse.cli.common import add_json, float_in, int_in
from wms.errors import InputError
from wms.layout import Cell

Build = Callable[[argparse.Namespace], Request]
MAX_SHOWN = 48
"""Table cells are cut to this many characters (a long stop list stays one line)."""


def cell_arg(text: str) -> Cell:
    """An argparse type: ``ROW,COL`` → ``(row, col)``."""
    parts = text.split(",")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise argparse.ArgumentTypeError(f"{text!r} is not ROW,COL (two whole numbers)")
    row, col = (int(p) for p in parts)
    if max(row, col) > MAX_CELL:
        raise argparse.ArgumentTypeError(f"{text!r} is beyond {MAX_CELL}")
    return row, col


def stops_arg(text: str) -> tuple[Cell, ...]:
    """An argparse type: ``R,C;R,C;...`` → cells in order."""
    items = [item for item in text.split(";") if item.strip()]
    if not items:
        raise argparse.ArgumentTypeError("needs at least one ROW,COL")
    return tuple(cell_arg(item) for item in items)


def _leaf(actions: Any, name: str, help_text: str, build: Build) -> argparse.ArgumentParser:
    parser = actions.add_parser(name, help=help_text, description=help_text)
    add_json(parser)
    parser.set_defaults(build=build)
    return parser


def _fleetwide(actions: Any, name: str, help_text: str, kind: type[Pause | Resume]) -> None:
    parser = _leaf(actions, name, help_text, lambda a: kind(_robot_or_all(a)))
    parser.add_argument("robot", nargs="?", metavar="ROBOT", help="manufacturer/serialNumber")
    parser.add_argument("--all", action="store_true", help="every robot")


def _robot_or_all(args: argparse.Namespace) -> str | None:
    if (args.robot is None) == (not args.all):
        raise InputError(args.ctl_command, "give one robot id or --all")
    return args.robot


def _add_task(args: argparse.Namespace) -> AddTask:
    stops = (args.to,) if args.to is not None else args.stops
    return AddTask(TaskKind(args.kind), stops, args.priority, args.due, args.robot)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "ctl",
        help="operator control of a running fleet (warehouse serve --ctl)",
        description="Send one operator command to a running fleet manager's control socket.",
    )
    parser.add_argument("--connect", required=True, metavar="ADDR", help="the serve's --ctl")
    parser.add_argument("--keys", metavar="DIR", help="CURVE keys folder (with --operator)")
    parser.add_argument("--operator", metavar="NAME", help="operator key name in --keys")
    parser.add_argument(
        "--timeout",
        type=float_in(0.05, 60.0),
        default=2.0,
        metavar="S",
        help="give up after S seconds without an answer (default 2)",
    )
    parser.set_defaults(handler=run)
    groups = parser.add_subparsers(dest="ctl_command", metavar="COMMAND", required=True)

    tasks = groups.add_parser("tasks", help="add, list, cancel, reprioritise tasks")
    task_actions = tasks.add_subparsers(dest="tasks_command", metavar="ACTION", required=True)
    add = _leaf(task_actions, "add", "queue a task", _add_task)
    add.add_argument("--kind", required=True, choices=[k.value for k in TaskKind])
    where = add.add_mutually_exclusive_group(required=True)
    where.add_argument("--to", type=cell_arg, metavar="ROW,COL", help="the cell to go to")
    where.add_argument("--stops", type=stops_arg, metavar="R,C;R,C;...", help="stops in order")
    add.add_argument(
        "--priority",
        type=int_in(-MAX_PRIORITY, MAX_PRIORITY),
        default=0,
        metavar="P",
        help="higher goes first (default 0)",
    )
    add.add_argument("--due", type=float_in(0.0, 1e9), metavar="S", help="deadline, fleet seconds")
    add.add_argument("--robot", metavar="ROBOT", help="only this robot may take it")
    _leaf(task_actions, "list", "every task with its status and robot", lambda a: ListTasks())
    cancel = _leaf(task_actions, "cancel", "cancel a task", lambda a: CancelTask(a.task_id))
    cancel.add_argument("task_id", metavar="ID")
    priority = _leaf(
        task_actions, "priority", "change a task's priority", lambda a: SetPriority(a.task_id, a.p)
    )
    priority.add_argument("task_id", metavar="ID")
    priority.add_argument("p", type=int_in(-MAX_PRIORITY, MAX_PRIORITY), metavar="P")

    robots = groups.add_parser("robots", help="list robots")
    robot_actions = robots.add_subparsers(dest="robots_command", metavar="ACTION", required=True)
    _leaf(robot_actions, "list", "every robot: status, battery, cell", lambda a: ListRobots())

    _fleetwide(groups, "pause", "stop robots where they stand (they keep their tasks)", Pause)
    _fleetwide(groups, "resume", "let paused robots carry on", Resume)
    estop = _leaf(groups, "estop", "emergency stop of the whole fleet", _estop)
    estop.add_argument("--release", action="store_true", help="lift the emergency stop")
    for name, kind, text in (
        ("drain", Drain, "take a robot out of service for maintenance"),
        ("undrain", Undrain, "put a drained robot back into service"),
    ):
        _leaf(groups, name, text, lambda a, kind=kind: kind(a.robot)).add_argument(
            "robot", metavar="ROBOT"
        )


def _estop(args: argparse.Namespace) -> EStop | EStopRelease:
    return EStopRelease() if args.release else EStop()


def run(args: argparse.Namespace) -> int:
    request = args.build(args)  # every argument is checked before anything is sent
    if (args.keys is None) != (args.operator is None):
        raise InputError("--keys/--operator", "CURVE needs both the keys folder and the operator")
    keys = operator_keys(args.keys, args.operator) if args.keys is not None else None
    with ControlClient(args.connect, keys=keys, timeout_s=args.timeout) as client:
        result = client.call(request)
    sys.stdout.write(render(request, result, args.json).rstrip("\n") + "\n")
    return 0


def render(request: Request, result: Any, as_json: bool) -> str:
    """The answer as JSON or as a readable table / summary line."""
    if as_json:
        return json.dumps(result if result is not None else {}, indent=2)
    if isinstance(request, ListTasks | ListRobots):
        columns = TASK_COLUMNS if isinstance(request, ListTasks) else ROBOT_COLUMNS
        return table(result, columns)
    if isinstance(request, AddTask):
        return f"task {result['task_id']} queued"
    if isinstance(result, dict) and result:
        details = ", ".join(f"{k} {_shown(v)}" for k, v in result.items())
        return f"{request.op.value}: ok ({details})"
    return f"{request.op.value}: ok"


def table(rows: list[dict[str, Any]], first: tuple[str, ...]) -> str:
    """Rows as aligned columns: the contract's columns first, then any others the fleet sent."""
    if not rows:
        return "(none)"
    columns = list(first)
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    cells = [columns] + [[_shown(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    return "\n".join(
        "  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip()
        for line in cells
    )


def _shown(value: Any) -> str:
    if value is None:
        text = "-"
    elif isinstance(value, float):
        text = f"{value:g}"
    elif _is_cell(value):
        text = f"{value[0]},{value[1]}"
    elif isinstance(value, list) and all(_is_cell(v) for v in value):
        text = ";".join(f"{v[0]},{v[1]}" for v in value)
    elif isinstance(value, list):
        text = ",".join(_shown(v) for v in value)
    else:
        text = str(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "..."


def _is_cell(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    )
