"""Demand replenishment: which released pick tasks may go to the floor now.

A pick task (one robot's route, or one pod move) is handed to the fleet only when
every pick face it visits holds, free of the picks already handed out, the units
it takes there — otherwise its robot would reach an empty face. A task whose face
falls short waits here, in release order, while a top-up from reserve is brought
(`GateDecision.waiting` says how many units each face is waiting for, so the
caller can order that top-up ahead of the picks). A task goes without waiting
for a line the warehouse as a whole cannot cover: the face's free units plus the
SKU's reserve (a top-up in transit is still in reserve until its drop is booked)
short of the line, a face with no forward slot (nothing tops it up), or a line
larger than the face can ever hold. Such a line is "uncovered": it is picked only
from units no covered line needs, else it is reported short.

Waiting is first come, first served per face: a waiting task keeps the units it
needs at each face it visits (and the reserve units its top-ups will bring), so a
later task never takes the stock an earlier one is waiting for. Progress is
guaranteed: the first waiting task at a face needs no more than the face holds
at its max, and every unit kept for earlier tasks leaves the face when those are
picked, so the face's top-ups eventually cover it.

Pure: plain data in, a decision out; the ledger is read by the caller.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FaceStock:
    """One pick face as the gate sees it (units of new stock)."""

    sku: str
    on_hand: int
    """Units at the face now."""
    claimed: int
    """Units the tasks already handed out will still take from it (covered lines only)."""
    capacity: int | None
    """The most the face can hold (its forward slot's max, or what it holds when that is
    more); ``None``: the face has no forward slot, so nothing ever tops it up."""


class ShortReason(enum.Enum):
    """Why a line is not covered when released (it is then picked only from spare units,
    else reported short), or why a line came back short."""

    OUT_OF_STOCK = "out_of_stock"
    """The face's free units and the SKU's reserve, less what earlier tasks wait for."""
    NOT_REPLENISHED = "not_replenished"
    """The face has no forward slot: nothing tops it up."""
    FACE_TOO_SMALL = "face_too_small"
    """The line (with the task's other lines there) is more than the face can ever hold."""
    RESERVE_NOT_BROUGHT = "reserve_not_brought"
    """A covered line found its face short (never expected: the gate kept its units)."""


@dataclass(frozen=True, slots=True)
class Need:
    """One line of a task: the units it takes at one face."""

    line_id: str
    location_id: str
    qty: int


@dataclass(frozen=True, slots=True)
class HeldTask:
    task_id: str
    needs: tuple[Need, ...]


@dataclass(frozen=True, slots=True)
class GateDecision:
    release: tuple[str, ...]
    """Tasks that may go now, in release order."""
    uncovered: Mapping[str, ShortReason]
    """Lines of the released tasks the warehouse cannot cover, by line id, and why."""
    waiting: Mapping[str, int]
    """Per face: units the waiting tasks need beyond what it holds free (a top-up is due)."""
    kept: Mapping[str, int]
    """Per face: units the waiting tasks keep there (their covered lines). Uncovered lines
    may take only what the face holds beyond these and the handed-out claims, or a waiting
    task would find its units gone when its top-up arrives."""


def gate(
    held: Sequence[HeldTask], faces: Mapping[str, FaceStock], reserve: Mapping[str, int]
) -> GateDecision:
    """Walk the held tasks and their lines in release order and decide which go (see the
    module doc). ``reserve`` is per SKU: new units in reserve locations, free of
    reservations. A face missing from ``faces`` counts as empty and unslotted."""
    free = {f: s.on_hand - s.claimed for f, s in faces.items()}
    reserve_left = dict(reserve)
    release: list[str] = []
    uncovered: dict[str, ShortReason] = {}
    waited: set[str] = set()
    kept_by_waiting: dict[str, int] = {}
    for task in held:
        short: dict[str, ShortReason] = {}
        wait = False
        kept: dict[str, int] = {}  # this task's units at each face so far
        for need in task.needs:
            loc = need.location_id
            face = faces.get(loc)
            here = free.get(loc, 0)
            total = kept.get(loc, 0) + need.qty
            why = (
                None if here >= need.qty else _uncovered(face, need.qty, total, here, reserve_left)
            )
            if why is not None:
                short[need.line_id] = why
                continue
            kept[loc] = total
            if here < need.qty:  # the face waits for a top-up from reserve for the rest
                assert face is not None
                wait = True
                waited.add(loc)
                reserve_left[face.sku] -= need.qty - max(here, 0)
            free[loc] = here - need.qty  # released, or kept for this task while it waits
        if wait:
            for loc, units in kept.items():
                kept_by_waiting[loc] = kept_by_waiting.get(loc, 0) + units
            continue
        release.append(task.task_id)
        uncovered.update(short)
    waiting = {f: -free[f] for f in sorted(waited) if free[f] < 0}
    return GateDecision(tuple(release), uncovered, waiting, kept_by_waiting)


def _uncovered(
    face: FaceStock | None, qty: int, total: int, here: int, reserve: Mapping[str, int]
) -> ShortReason | None:
    """``None`` when top-ups can make the face cover ``qty``: it has a forward slot, can
    hold ``total`` (what the task takes there with this line) at once, and its free units
    plus the SKU's reserve reach ``qty``. (A task waiting for more than its face can
    hold would wait for ever.)"""
    if max(here, 0) + (reserve.get(face.sku, 0) if face is not None else 0) < qty:
        return ShortReason.OUT_OF_STOCK
    if face is None or face.capacity is None:
        return ShortReason.NOT_REPLENISHED
    if total > face.capacity:
        return ShortReason.FACE_TOO_SMALL
    return None
