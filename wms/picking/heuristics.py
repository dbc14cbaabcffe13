"""The standard picker-routing heuristics: S-shape, largest gap, combined.

These are the baselines a warehouse-operations expert compares a router to,
as Roodbergen & de Koster (2001, *Routing methods for warehouses with
multiple cross aisles*, IJPR 39(9)) define them, on the aisle-block
structure of `wms.picking.aisles`:

- **S-shape** (traversal): every subaisle holding a pick is entered from the
  end the picker reaches first and traversed entirely; the subaisles of a
  block are taken one after the other across the block (a serpentine),
  starting from the outer subaisle nearer the picker, and blocks are taken
  in order along the aisles, starting from the end nearer the station. The
  last subaisle of the route is left by the end it was entered (a return)
  when that is shorter than traversing it.
- **Largest gap**: in each block the first and the last subaisle with picks
  are traversed (they carry the picker from one cross aisle of the block to
  the other and back); every subaisle in between is entered from both cross
  aisles up to its *largest gap* — the longest stretch between adjacent
  picks, or between an end and its nearest pick — which is never walked.
  Far-side entries are made on the way out, near-side ones on the way back.
- **Combined**: the subaisles in S-shape's order, each either traversed or
  entered and left by the same end, the choice made by dynamic programming
  over which cross aisle the picker stands at after each subaisle. S-shape's
  route is one of the choices, so with every pick in a pick aisle combined
  is never longer.

All three start and end at a station and walk true shortest paths between
their waypoints (a leg from one subaisle to the next goes along the cross
aisles, around racks and no-go zones). Picks not in a pick aisle (rack-end
faces, which stand in a cross aisle) are added to each route where they
lengthen it least (cheapest insertion), the same way for every heuristic, so
the comparison between heuristics is unaffected.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Callable, Sequence

import numpy as np

from wms.layout import Cell
from wms.picking.aisles import Aisles, AisleSegment

Distance = Callable[[Cell, Cell], int]


class Heuristic(enum.Enum):
    SSHAPE = "sshape"
    LARGEST_GAP = "largest_gap"
    COMBINED = "combined"


def matrix_distance(matrix: np.ndarray, index: dict[Cell, int]) -> Distance:
    """Walking distance between two cells of a `TravelModel`'s matrix."""

    def distance(a: Cell, b: Cell) -> int:
        return int(matrix[index[a], index[b]])

    return distance


def route_length(start: Cell, waypoints: Sequence[Cell], distance: Distance) -> int:
    """Closed walk ``start → waypoints → start``."""
    nodes = [start, *waypoints, start]
    return sum(distance(a, b) for a, b in itertools.pairwise(nodes))


def _group(
    stops: Sequence[Cell], aisles: Aisles
) -> tuple[dict[int, dict[int, list[Cell]]], list[Cell]]:
    """Picks by block and subaisle (sorted along it), and the picks in no pick aisle."""
    by_block: dict[int, dict[int, list[Cell]]] = {}
    loose: list[Cell] = []
    for cell in dict.fromkeys(stops):
        seg = aisles.segment_of.get(cell)
        block = aisles.block_of.get(seg) if seg is not None else None
        if block is None:
            loose.append(cell)
        else:
            by_block.setdefault(block, {}).setdefault(seg, []).append(cell)
    for members in by_block.values():
        for seg, cells in members.items():
            cells.sort(key=aisles.segments[seg].position)
    return by_block, sorted(loose)


def _nearer_end(seg: AisleSegment, here: Cell, distance: Distance) -> int:
    """0 for the ``lo`` end, 1 for ``hi``: the end reached first from ``here``."""
    lo, hi = seg.ends
    return 0 if distance(here, lo) <= distance(here, hi) else 1


def _walk(seg: AisleSegment, picks: list[Cell], enter: int, leave: int) -> list[Cell]:
    """Waypoints through one subaisle: in at end ``enter``, out at end ``leave``."""
    ends = seg.ends
    inward = picks if enter == 0 else picks[::-1]
    return [ends[enter], *inward, ends[leave]]


def _sequence(
    by_block: dict[int, dict[int, list[Cell]]],
    aisles: Aisles,
    station: Cell,
    distance: Distance,
    traverse: bool = True,
) -> list[tuple[int, int]]:
    """(subaisle, entry end) in S-shape order: blocks along the aisles, serpentine within.

    Blocks are taken from the end of the floor nearer the station; within a
    block the outer subaisle nearer the picker comes first; each subaisle is
    entered from the end reached first. With ``traverse`` the picker leaves
    by the other end (S-shape), which decides where the next subaisle is
    reached from.
    """
    blocks = sorted(by_block)
    if not blocks:
        return []

    def reach(block: int, here: Cell) -> int:
        segs = [aisles.segments[s] for s in by_block[block]]
        return min(distance(here, end) for seg in segs for end in seg.ends)

    if reach(blocks[-1], station) < reach(blocks[0], station):
        blocks.reverse()
    here = station
    visits: list[tuple[int, int]] = []
    for block in blocks:
        for s in _across_block(by_block[block], aisles, here, distance):
            seg = aisles.segments[s]
            enter = _nearer_end(seg, here, distance)
            visits.append((s, enter))
            here = seg.ends[1 - enter] if traverse else seg.ends[enter]
    return visits


def _across_block(
    members: dict[int, list[Cell]], aisles: Aisles, here: Cell, distance: Distance
) -> list[int]:
    """A block's subaisles with picks across the block, from the outer one nearer ``here``."""
    segs = sorted(members, key=lambda s: aisles.segments[s].line)
    near_first = min(distance(here, e) for e in aisles.segments[segs[0]].ends)
    near_last = min(distance(here, e) for e in aisles.segments[segs[-1]].ends)
    return segs[::-1] if near_last < near_first else segs


def _prepare(
    stops: Sequence[Cell], aisles: Aisles, station: Cell, distance: Distance
) -> tuple[dict[int, dict[int, list[Cell]]], list[Cell], list[tuple[int, int]]]:
    """Picks by block and subaisle, the loose picks, and S-shape's visiting order."""
    by_block, loose = _group(stops, aisles)
    return by_block, loose, _sequence(by_block, aisles, station, distance)


def sshape_waypoints(
    stops: Sequence[Cell], aisles: Aisles, station: Cell, distance: Distance
) -> list[Cell]:
    """S-shape route through ``stops`` from and back to ``station`` (see the module docstring)."""
    by_block, loose, visits = _prepare(stops, aisles, station, distance)
    waypoints: list[Cell] = []
    for s, enter in visits:
        seg = aisles.segments[s]
        waypoints += _walk(seg, _picks(by_block, aisles, s), enter, 1 - enter)
    if visits:
        s, enter = visits[-1]
        seg = aisles.segments[s]
        picks = _picks(by_block, aisles, s)
        head = waypoints[: -(len(picks) + 2)]
        returned = head + _walk(seg, picks, enter, enter)
        if route_length(station, returned, distance) < route_length(station, waypoints, distance):
            waypoints = returned
    return _insert_loose(waypoints, loose, station, distance)


def _picks(by_block: dict[int, dict[int, list[Cell]]], aisles: Aisles, s: int) -> list[Cell]:
    return by_block[aisles.block_of[s]][s]


def largest_gap_split(seg: AisleSegment, picks: list[Cell]) -> tuple[list[Cell], list[Cell]]:
    """Picks served from the ``lo`` end and from the ``hi`` end: the largest gap is skipped.

    Gaps are measured along the subaisle: ``lo`` to the first pick, between
    adjacent picks, the last pick to ``hi``. Ties go to the gap nearest
    ``hi`` (fewer picks left for the far side).
    """
    positions = [seg.position(c) for c in picks]
    edges = [seg.lo, *positions, seg.hi]
    gaps = [b - a for a, b in itertools.pairwise(edges)]
    widest = max(range(len(gaps)), key=lambda k: (gaps[k], k))
    return picks[:widest], picks[widest:]


def largest_gap_waypoints(
    stops: Sequence[Cell], aisles: Aisles, station: Cell, distance: Distance
) -> list[Cell]:
    """Largest-gap route through ``stops`` (see the module docstring)."""
    by_block, loose, visits = _prepare(stops, aisles, station, distance)
    waypoints: list[Cell] = []
    here = station
    for block in dict.fromkeys(aisles.block_of[s] for s, _ in visits):
        segs = _across_block(by_block[block], aisles, here, distance)
        first = aisles.segments[segs[0]]
        near = _nearer_end(first, here, distance)
        far = 1 - near
        waypoints += _walk(first, _picks(by_block, aisles, segs[0]), near, far)
        middle = segs[1:-1]
        for s in middle:
            served = largest_gap_split(aisles.segments[s], _picks(by_block, aisles, s))[far]
            if served:
                waypoints += _walk(aisles.segments[s], served, far, far)
        if len(segs) > 1:
            last = aisles.segments[segs[-1]]
            waypoints += _walk(last, _picks(by_block, aisles, segs[-1]), far, near)
            for s in reversed(middle):
                served = largest_gap_split(aisles.segments[s], _picks(by_block, aisles, s))[near]
                if served:
                    waypoints += _walk(aisles.segments[s], served, near, near)
        here = waypoints[-1]
    return _insert_loose(waypoints, loose, station, distance)


def combined_waypoints(
    stops: Sequence[Cell], aisles: Aisles, station: Cell, distance: Distance
) -> list[Cell]:
    """Combined route: S-shape's order, traverse-or-return per subaisle by dynamic programming."""
    by_block, loose, visits = _prepare(stops, aisles, station, distance)
    if not visits:
        return _insert_loose([], loose, station, distance)
    # best[x]: shortest walk so far ending at end x of the current subaisle;
    # choice[i][x] = (end the picker came from in subaisle i-1, entry end of i).
    best = {0: 0, 1: 0}
    prev_ends: dict[int, Cell] = {0: station, 1: station}
    choices: list[dict[int, tuple[int, int]]] = []
    for s, _ in visits:
        seg = aisles.segments[s]
        picks = _picks(by_block, aisles, s)
        new: dict[int, int] = {}
        choice: dict[int, tuple[int, int]] = {}
        for leave in (0, 1):
            options = []
            for came in (0, 1):
                for enter in (0, 1):
                    inside = _walk(seg, picks, enter, leave)
                    cost = best[came] + distance(prev_ends[came], inside[0])
                    cost += sum(distance(a, b) for a, b in itertools.pairwise(inside))
                    options.append((cost, came, enter))
            cost, came, enter = min(options)
            new[leave] = cost
            choice[leave] = (came, enter)
        choices.append(choice)
        best = new
        prev_ends = {0: seg.ends[0], 1: seg.ends[1]}
    leave = min((0, 1), key=lambda x: (best[x] + distance(prev_ends[x], station), x))
    walks: list[list[Cell]] = []
    for i in range(len(visits) - 1, -1, -1):
        came, enter = choices[i][leave]
        s = visits[i][0]
        walks.append(_walk(aisles.segments[s], _picks(by_block, aisles, s), enter, leave))
        leave = came
    waypoints = [cell for walk in reversed(walks) for cell in walk]
    return _insert_loose(waypoints, loose, station, distance)


def _insert_loose(
    waypoints: list[Cell], loose: list[Cell], station: Cell, distance: Distance
) -> list[Cell]:
    """Add each pick outside the pick aisles where it lengthens the closed route least."""
    route = list(waypoints)
    for cell in loose:
        nodes = [station, *route, station]
        extra = [
            distance(a, cell) + distance(cell, b) - distance(a, b)
            for a, b in itertools.pairwise(nodes)
        ]
        at = int(np.argmin(extra))
        route.insert(at, cell)
    return route


WAYPOINTS = {
    Heuristic.SSHAPE: sshape_waypoints,
    Heuristic.LARGEST_GAP: largest_gap_waypoints,
    Heuristic.COMBINED: combined_waypoints,
}


def heuristic_lengths(
    stops: Sequence[Cell], aisles: Aisles, station: Cell, distance: Distance
) -> dict[Heuristic, int]:
    """Closed route length of every heuristic through ``stops`` from ``station``."""
    return {
        h: route_length(station, make(stops, aisles, station, distance), distance)
        for h, make in WAYPOINTS.items()
    }
