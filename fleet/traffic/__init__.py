"""Traffic: lifelong collision-free multi-robot motion on the grid floor.

A pure algorithm library (no sockets, clocks or drawing): planners behind the
`Planner` protocol (`pibt` baseline, `guided` ours), distance-to-goal tables,
an independent move checker, the live floor state the harness and the fleet
manager share, and the lifelong simulation harness.
"""

from fleet.traffic.check import Violation, check_step, validate_log
from fleet.traffic.floor_state import BlockChange, FloorState, GoalIssue
from fleet.traffic.planner import ActionModel, Planner, PlanRequest, PlanResult, Rollout
from fleet.traffic.registry import PLANNERS, make_planner, planner_names

__all__ = [
    "PLANNERS",
    "ActionModel",
    "BlockChange",
    "FloorState",
    "GoalIssue",
    "PlanRequest",
    "PlanResult",
    "Planner",
    "Rollout",
    "Violation",
    "check_step",
    "make_planner",
    "planner_names",
    "validate_log",
]
