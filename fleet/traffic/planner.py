"""The planner contract: plain arrays in, every robot's next move out.

A planner is a strategy behind one `typing.Protocol`, so the lifelong
harness, the CLI and the fleet manager never know which one they drive
(PyVRP-style: a new planner is a new module plus one registry line).

Cells are flat cell ids ``row * width + col``; headings are 0 north, 1 east,
2 south, 3 west (used by the rotation action model only).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np


class ActionModel(enum.Enum):
    """What a robot may do in one tick."""

    GRID4 = "grid4"
    """Wait, or move to one of the four neighbouring cells."""
    ROTATION = "rotation"
    """Robot Runners: move forward, turn left, turn right, or wait."""


@dataclass(frozen=True)
class PlanRequest:
    """The fleet as it is now.

    ``goals[i] < 0`` means robot ``i`` has no goal (it parks, but yields).
    ``robot_ids`` keeps a planner's per-robot memory (waiting time) attached to
    the right robot when robots are added or removed; default ``arange(N)``.
    ``blocked`` lists flat cells that are obstacles right now (spilled pallet,
    offline robot). ``priorities`` (optional) is added to the planner's own
    priority: higher moves first.

    ``held`` (optional bool ``[N]``) marks robots that must stay where they
    are this step (paused, running an action, lagging behind their plan): the
    result keeps their cell and heading, nobody enters or pushes them, and
    their goal, goal tables and per-robot memory are kept, not reset. Unlike
    ``blocked``, holding a robot does not change the floor, so no distance
    table is recomputed.
    """

    cells: np.ndarray
    goals: np.ndarray
    headings: np.ndarray | None = None
    robot_ids: np.ndarray | None = None
    blocked: np.ndarray | None = None
    priorities: np.ndarray | None = None
    held: np.ndarray | None = None


@dataclass(frozen=True)
class PlanResult:
    """Next cell (and heading, rotation model) of every robot, in request order."""

    cells: np.ndarray
    headings: np.ndarray | None = None


@dataclass(frozen=True)
class Rollout:
    """A planner's prediction ``k`` steps ahead: row 0 is the request, row ``t`` the
    fleet after ``t`` steps; ``cells`` ``[k+1, N]`` flat cells, ``headings`` likewise
    (rotation model) or ``None``."""

    cells: np.ndarray
    headings: np.ndarray | None = None


class Planner(Protocol):
    """One step of collision-free motion: no shared cell, no swap, legal moves only."""

    name: str
    model: ActionModel

    def plan(self, request: PlanRequest) -> PlanResult: ...

    def rollout(self, request: PlanRequest, steps: int) -> Rollout:
        """Plan ``steps`` steps ahead from ``request`` (goals, blocks and holds as given)
        without changing the planner's own state: a `plan` after it returns what it
        would have returned without it. Every row follows from the one before by one
        legal, conflict-free step, so a route can be released that far ahead."""
        ...

    def paths(self, request: PlanRequest, max_len: int) -> np.ndarray:
        """Each robot's shortest path to its goal on the planner's own tables (lanes
        included), at most ``max_len`` cells from its current cell, around the
        request's blocked cells: ``[N, max_len]`` flat cells, ``-1`` after the end
        (at the goal, or where the goal cannot be reached). Deterministic; for
        the horizon of a released route. Robots are not obstacles here."""
        ...

    def precompute(self, goal_cells: np.ndarray, fleet_size: int | None = None) -> None:
        """Warm caches for goals known in advance (may do nothing); ``fleet_size``
        lets a planner whose costs depend on fleet density pick them first."""
        ...

    def prefetch(self, goal_cells: np.ndarray, until: Callable[[], bool]) -> int:
        """Do the work for goals needed soon (distance tables), in order, while
        ``until()`` is False; returns how many of ``goal_cells`` from the front are
        ready. Changes no plan, only when the work is done (may do nothing and
        return 0)."""
        ...
