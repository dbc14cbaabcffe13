"""Operator control: the ``warehouse ctl`` ↔ fleet manager socket.

`protocol` defines the typed requests and the frame format, `server` the
ROUTER that hands each valid request to a handler (the fleet core, through a
callable), `client` the DEALER the CLI uses. The package knows nothing of the
fleet's internals: the handler is the whole interface.
"""

from fleet.control.client import ControlClient, operator_keys
from fleet.control.protocol import (
    REQUEST_TYPES,
    ROBOT_COLUMNS,
    TASK_COLUMNS,
    AddTask,
    CancelTask,
    ControlError,
    ControlRefused,
    ControlUnavailable,
    Drain,
    EStop,
    EStopRelease,
    Handler,
    ListRobots,
    ListTasks,
    Op,
    Pause,
    Request,
    Resume,
    SetPriority,
    Undrain,
)
from fleet.control.server import ControlServer, make_server

__all__ = [
    "REQUEST_TYPES",
    "ROBOT_COLUMNS",
    "TASK_COLUMNS",
    "AddTask",
    "CancelTask",
    "ControlClient",
    "ControlError",
    "ControlRefused",
    "ControlServer",
    "ControlUnavailable",
    "Drain",
    "EStop",
    "EStopRelease",
    "Handler",
    "ListRobots",
    "ListTasks",
    "Op",
    "Pause",
    "Request",
    "Resume",
    "SetPriority",
    "Undrain",
    "make_server",
    "operator_keys",
]
