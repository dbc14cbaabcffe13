"""The fault schedule of a scenario: what to do to the robots and the floor, and when.

`fault_actions` turns a bound scenario's faults into a time-ordered list of
`FaultAction`s, a pure function of the faults; `FaultSchedule` hands them out
as the run's clock passes them. The runner maps each action to one call:

=============  ==========================================  ======================
action         from                                        runner / fleet call
=============  ==========================================  ======================
BREAK_DOWN     ``breakdown`` start                         ``SimRunner.break_down``
REPAIR         ``breakdown`` end (none: until the end)     ``SimRunner.repair``
COMM_LOSS      ``comm_loss`` start, with ``seconds``       ``SimRunner.comm_loss``
SET_BATTERY    ``battery_drain``, with ``pct``             ``SimRunner.set_battery``
BLOCK          ``block`` / ``station_closed`` start        the fleet blocks cells
UNBLOCK        their end (none: until the end)             the fleet unblocks cells
=============  ==========================================  ======================

Guarantees: overlapping or touching faults on one robot (or one cell) are
merged first, so a robot is never repaired, and a cell never unblocked, while
another fault still holds it; per robot, BREAK_DOWN and REPAIR alternate
starting with BREAK_DOWN, and per cell BLOCK and UNBLOCK alternate starting
with BLOCK. A robot's overlapping communication losses become one COMM_LOSS
lasting until the last of them ends (the runner's comm_loss replaces an earlier
one rather than adding to it). Nothing happens after ``max_sim_s``: an end past
it is dropped, a loss is cut there. Actions are in time order; at one time,
ends (UNBLOCK, REPAIR) come before starts, then by robot; the order is a
function of the faults alone, so runs are reproducible.
"""

from __future__ import annotations

import enum
import math
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sim.scenario import BoundFault, BoundScenario, FaultKind
from wms.layout import Cell


class ActionKind(enum.Enum):
    """What to do; the definition order is the order of actions due at the same time."""

    UNBLOCK = "unblock"
    REPAIR = "repair"
    BLOCK = "block"
    BREAK_DOWN = "break_down"
    COMM_LOSS = "comm_loss"
    SET_BATTERY = "set_battery"

    @property
    def is_robot_action(self) -> bool:
        return self not in (ActionKind.BLOCK, ActionKind.UNBLOCK)


_KIND_ORDER = {kind: i for i, kind in enumerate(ActionKind)}
Target = TypeVar("Target", bound=Hashable)


@dataclass(frozen=True)
class FaultAction:
    """One thing to do at ``at_s``.

    Robot actions name ``robot`` (an index in the scenario's fleet); BLOCK and
    UNBLOCK name ``cells`` (sorted). ``seconds`` is a COMM_LOSS's length and
    ``pct`` a SET_BATTERY's percent. ``faults`` are the indices of the
    scenario's ``[[faults]]`` that caused the action, for logs and reports.
    """

    at_s: float
    kind: ActionKind
    robot: int | None = None
    cells: tuple[Cell, ...] = ()
    seconds: float | None = None
    pct: float | None = None
    faults: tuple[int, ...] = ()

    @property
    def sort_key(self) -> tuple[float, int, int, tuple[Cell, ...], tuple[int, ...]]:
        """Time, then ends before starts, then robot, cells and causes: a total order."""
        robot = -1 if self.robot is None else self.robot
        return (self.at_s, _KIND_ORDER[self.kind], robot, self.cells, self.faults)


@dataclass(frozen=True)
class _Span:
    """A merged interval of faults on one target, and which faults made it."""

    start: float
    end: float
    faults: tuple[int, ...]


def _merged(spans: Iterable[tuple[float, float, int]]) -> list[_Span]:
    """Overlapping or touching ``(start, end, fault)`` intervals joined, in time order."""
    merged: list[_Span] = []
    for start, end, fault in sorted(spans):
        if merged and start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = _Span(last.start, max(last.end, end), (*last.faults, fault))
        else:
            merged.append(_Span(start, end, (fault,)))
    return merged


def _by_target(
    pairs: Iterable[tuple[Target, tuple[float, float, int]]],
) -> dict[Target, list[_Span]]:
    """Each target's (a robot's, a cell's) intervals, merged."""
    grouped: dict[Target, list[tuple[float, float, int]]] = defaultdict(list)
    for target, span in pairs:
        grouped[target].append(span)
    return {target: _merged(spans) for target, spans in grouped.items()}


def fault_actions(faults: Sequence[BoundFault], max_sim_s: float) -> tuple[FaultAction, ...]:
    """Every action the faults cause up to ``max_sim_s``, in the order they are due."""

    def span(bound: BoundFault) -> tuple[float, float, int]:
        return (bound.fault.at_s, bound.fault.end_s, bound.fault.index)

    def of_kind(kind: FaultKind) -> list[BoundFault]:
        return [b for b in faults if b.fault.kind is kind]

    actions: list[FaultAction] = []
    for robot, spans in _by_target(
        (b.fault.robot, span(b)) for b in of_kind(FaultKind.BREAKDOWN)
    ).items():
        for s in spans:
            actions.append(FaultAction(s.start, ActionKind.BREAK_DOWN, robot, faults=s.faults))
            if s.end <= max_sim_s:
                actions.append(FaultAction(s.end, ActionKind.REPAIR, robot, faults=s.faults))
    for robot, spans in _by_target(
        (b.fault.robot, span(b)) for b in of_kind(FaultKind.COMM_LOSS)
    ).items():
        for s in spans:
            seconds = min(s.end, max_sim_s) - s.start
            actions.append(
                FaultAction(s.start, ActionKind.COMM_LOSS, robot, seconds=seconds, faults=s.faults)
            )
    for b in of_kind(FaultKind.BATTERY_DRAIN):
        f = b.fault
        actions.append(
            FaultAction(f.at_s, ActionKind.SET_BATTERY, f.robot, pct=f.pct, faults=(f.index,))
        )
    actions.extend(_cell_actions(faults, max_sim_s))
    return tuple(sorted(actions, key=lambda a: a.sort_key))


def _cell_actions(faults: Sequence[BoundFault], max_sim_s: float) -> list[FaultAction]:
    """BLOCK and UNBLOCK actions, one of each per time, from per-cell merged intervals."""
    per_cell = _by_target(
        (cell, (b.fault.at_s, b.fault.end_s, b.fault.index))
        for b in faults
        if not b.fault.kind.is_robot_fault
        for cell in b.cells
    )
    changes: dict[tuple[float, ActionKind], tuple[set[Cell], set[int]]] = defaultdict(
        lambda: (set(), set())
    )
    for cell, spans in per_cell.items():
        for s in spans:
            moments = [(s.start, ActionKind.BLOCK)]
            if s.end <= max_sim_s:
                moments.append((s.end, ActionKind.UNBLOCK))
            for moment in moments:
                cells, causes = changes[moment]
                cells.add(cell)
                causes.update(s.faults)
    return [
        FaultAction(at_s, kind, cells=tuple(sorted(cells)), faults=tuple(sorted(causes)))
        for (at_s, kind), (cells, causes) in changes.items()
    ]


class FaultSchedule:
    """Hands out a scenario's fault actions once each, as the run's time passes them.

    Deterministic and free of clocks: the caller passes the time. Time must
    not go back between calls.
    """

    def __init__(self, actions: Sequence[FaultAction]) -> None:
        self.actions = tuple(sorted(actions, key=lambda a: a.sort_key))
        self._next = 0
        self._now_s = -math.inf

    @classmethod
    def of(cls, bound: BoundScenario) -> FaultSchedule:
        """The schedule of a bound scenario's faults, up to its ``max_sim_s``."""
        return cls(fault_actions(bound.faults, bound.scenario.max_sim_s))

    def due(self, now_s: float) -> list[FaultAction]:
        """Actions at or before ``now_s`` not yet returned, in time order."""
        if now_s < self._now_s:
            raise ValueError(f"time went back: {now_s} after {self._now_s}")
        self._now_s = now_s
        start = self._next
        while self._next < len(self.actions) and self.actions[self._next].at_s <= now_s:
            self._next += 1
        return list(self.actions[start : self._next])

    @property
    def pending(self) -> tuple[FaultAction, ...]:
        """Actions not yet returned."""
        return self.actions[self._next :]

    @property
    def next_at_s(self) -> float | None:
        """When the next action is due; None when nothing is left."""
        return self.actions[self._next].at_s if self._next < len(self.actions) else None
