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


@dataclass(frozen=True, slots=True)
class Need:
    """Units a task takes at one face (all its lines there, summed)."""

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
    uncovered: frozenset[tuple[str, str]]
    """(task id, face) of the released tasks' lines the warehouse cannot cover."""
    waiting: Mapping[str, int]
    """Per face: units the waiting tasks need beyond what it holds free (a top-up is due)."""


def gate(
    held: Sequence[HeldTask], faces: Mapping[str, FaceStock], reserve: Mapping[str, int]
) -> GateDecision:
    """Walk the held tasks in release order and decide which go (see the module doc).

    ``reserve`` is per SKU: new units in reserve locations, free of reservations.
    A face missing from ``faces`` counts as empty and unslotted.
    """
    free = {f: s.on_hand - s.claimed for f, s in faces.items()}
    reserve_left = dict(reserve)
    release: list[str] = []
    uncovered: set[tuple[str, str]] = set()
    waited: set[str] = set()
    for task in held:
        covered, short, wait = [], [], []
        for need in task.needs:
            face = faces.get(need.location_id)
            here = free.get(need.location_id, 0)
            if here >= need.qty:
                covered.append(need)
            elif _coverable(face, need.qty, max(here, 0), reserve_left):
                wait.append(need)
            else:
                short.append(need)
        for need in (*covered, *wait):  # released, or kept for this task while it waits
            loc = need.location_id
            here = free.get(loc, 0)
            from_reserve = need.qty - max(here, 0) if here < need.qty else 0
            if from_reserve:
                sku = faces[loc].sku
                reserve_left[sku] = reserve_left.get(sku, 0) - from_reserve
            free[loc] = here - need.qty
        if wait:
            waited.update(n.location_id for n in wait)
            continue
        release.append(task.task_id)
        uncovered.update((task.task_id, n.location_id) for n in short)
    waiting = {f: -free[f] for f in sorted(waited) if free[f] < 0}
    return GateDecision(tuple(release), frozenset(uncovered), waiting)


def _coverable(face: FaceStock | None, qty: int, here: int, reserve: Mapping[str, int]) -> bool:
    """Whether top-ups can make the face cover ``qty``: it has a forward slot, can hold
    that much, and its free units plus the SKU's reserve reach it."""
    if face is None or face.capacity is None or qty > face.capacity:
        return False
    return here + reserve.get(face.sku, 0) >= qty
