"""The aisle structure of a floor: aisles, their blocks and cross aisles, derived from racks.

The routing heuristics of the literature (`wms.picking.heuristics`) are
defined on a parallel-aisle warehouse: pick aisles, cut by cross aisles into
*subaisles*, the subaisles between two cross aisles forming a *block*. Here
that structure is read off the floor itself, not from layout parameters, so
any floor with racks works:

- an *aisle segment* is a maximal straight run of access cells on one row
  (rack faces looking north/south) or one column (east/west faces); a
  segment is one subaisle, its two ends touch the cross aisles;
- the *pick aisles* are the segments of the floor's dominant orientation
  (the one most locations face); segments of the other orientation are the
  faces at rack ends, which stand in a cross aisle;
- two pick-aisle segments on adjacent lines spanning the same range, with
  nothing between them, are one *wide* aisle (a picker walking it picks
  both faces in one pass, as in a narrow aisle): one segment of ``width`` 2;
- a face along open floor (more than `OPEN_WIDTH` free cells across, such as
  the racks facing the staging area) is not an aisle one must enter by its
  ends: its picks are reached straight from the open floor;
- a *block* is the set of pick-aisle segments spanning the same range
  (``lo..hi``) between the same two cross aisles, ordered across the aisles.

On the generated floors (``wms.layout.generator``) the aisles run west–east,
the cross aisles are the columns between rack blocks and the perimeter, and
the stations sit south of every block.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wms.layout import Cell, Floor, Heading

OPEN_WIDTH = 4
"""A run of more free cells than this across a face is open floor, not an aisle."""


@dataclass(frozen=True, slots=True)
class AisleSegment:
    """A straight run of access cells: ``horizontal`` along ``line`` from ``lo`` to ``hi``."""

    horizontal: bool
    line: int
    lo: int
    hi: int
    width: int = 1

    @property
    def ends(self) -> tuple[Cell, Cell]:
        """The ``lo`` end and the ``hi`` end (on its first line), each touching a cross aisle."""
        if self.horizontal:
            return (self.line, self.lo), (self.line, self.hi)
        return (self.lo, self.line), (self.hi, self.line)

    def position(self, cell: Cell) -> int:
        """Where along the segment a cell lies."""
        return cell[1] if self.horizontal else cell[0]


@dataclass(frozen=True)
class Aisles:
    """Aisle segments, which segment each access cell belongs to, and the blocks.

    ``blocks[b]`` lists pick-aisle segment indices of block ``b`` ordered
    across the aisles (by ``line``); blocks are ordered along the aisles (by
    ``lo``). ``block_of[s]`` is the block of pick-aisle segment ``s``;
    segments of the other orientation have none.
    """

    segments: tuple[AisleSegment, ...]
    segment_of: dict[Cell, int]
    blocks: tuple[tuple[int, ...], ...]
    block_of: dict[int, int]

    def end_cells(self) -> list[Cell]:
        return [cell for seg in self.segments for cell in seg.ends]


def _runs(values: list[int]) -> list[tuple[int, int]]:
    values = sorted(set(values))
    runs: list[tuple[int, int]] = []
    for v in values:
        if runs and v == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], v)
        else:
            runs.append((v, v))
    return runs


def _merge_wide(segments: list[AisleSegment]) -> list[AisleSegment]:
    """Join segments on adjacent lines over the same range into one wide segment."""
    merged: list[AisleSegment] = []
    for seg in sorted(segments, key=lambda g: (g.lo, g.hi, g.line)):
        last = merged[-1] if merged else None
        if (
            last is not None
            and (last.lo, last.hi) == (seg.lo, seg.hi)
            and seg.line == last.line + last.width
        ):
            merged[-1] = AisleSegment(last.horizontal, last.line, last.lo, last.hi, last.width + 1)
        else:
            merged.append(seg)
    return merged


def _across_run(passable: np.ndarray, seg: AisleSegment) -> int:
    """Free cells across the segment at its middle (through all its lines)."""
    middle = (seg.lo + seg.hi) // 2
    strip = passable[:, middle] if seg.horizontal else passable[middle, :]
    low = high = seg.line
    while low - 1 >= 0 and strip[low - 1]:
        low -= 1
    while high + 1 < len(strip) and strip[high + 1]:
        high += 1
    return high - low + 1


def find_aisles(floor: Floor) -> Aisles:
    """Aisle segments of a floor, grouped into blocks (see the module docstring)."""
    rows: dict[int, list[int]] = {}
    cols: dict[int, list[int]] = {}
    horizontal_faces = 0
    for loc in floor.locations:
        r, c = loc.access_cell
        if loc.face in (Heading.NORTH, Heading.SOUTH):
            rows.setdefault(r, []).append(c)
            horizontal_faces += 1
        else:
            cols.setdefault(c, []).append(r)
    dominant = horizontal_faces * 2 >= len(floor.locations)
    runs = [AisleSegment(True, r, lo, hi) for r, v in sorted(rows.items()) for lo, hi in _runs(v)]
    crossing = [
        AisleSegment(False, c, lo, hi) for c, v in sorted(cols.items()) for lo, hi in _runs(v)
    ]
    if not dominant:
        runs, crossing = crossing, runs
    segments = [*_merge_wide(runs), *crossing]
    where: dict[tuple[bool, int, int], int] = {}
    for i, seg in enumerate(segments):
        for line in range(seg.line, seg.line + seg.width):
            for p in range(seg.lo, seg.hi + 1):
                where[(seg.horizontal, line, p)] = i
    segment_of: dict[Cell, int] = {}
    for loc in floor.locations:
        r, c = loc.access_cell
        horizontal = loc.face in (Heading.NORTH, Heading.SOUTH)
        key = (True, r, c) if horizontal else (False, c, r)
        segment_of.setdefault(loc.access_cell, where[key])
    groups: dict[tuple[int, int], list[int]] = {}
    for i, seg in enumerate(segments):
        if seg.horizontal == dominant and _across_run(floor.passable, seg) <= OPEN_WIDTH:
            groups.setdefault((seg.lo, seg.hi), []).append(i)
    blocks = tuple(
        tuple(sorted(members, key=lambda s: segments[s].line))
        for _, members in sorted(groups.items())
    )
    block_of = {s: b for b, members in enumerate(blocks) for s in members}
    return Aisles(tuple(segments), segment_of, blocks, block_of)
