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
- a *block* is the set of pick-aisle segments spanning the same range
  (``lo..hi``) between the same two cross aisles, ordered across the aisles.

On the generated floors (``wms.layout.generator``) the aisles run west–east,
the cross aisles are the columns between rack blocks and the perimeter, and
the stations sit south of every block.
"""

from __future__ import annotations

from dataclasses import dataclass

from wms.layout import Cell, Floor, Heading


@dataclass(frozen=True, slots=True)
class AisleSegment:
    """A straight run of access cells: ``horizontal`` along ``line`` from ``lo`` to ``hi``."""

    horizontal: bool
    line: int
    lo: int
    hi: int

    @property
    def ends(self) -> tuple[Cell, Cell]:
        """The ``lo`` end and the ``hi`` end, each touching a cross aisle."""
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
    segments: list[AisleSegment] = []
    for r, values in sorted(rows.items()):
        segments += [AisleSegment(True, r, lo, hi) for lo, hi in _runs(values)]
    for c, values in sorted(cols.items()):
        segments += [AisleSegment(False, c, lo, hi) for lo, hi in _runs(values)]
    where = {
        (seg.horizontal, seg.line, p): i
        for i, seg in enumerate(segments)
        for p in range(seg.lo, seg.hi + 1)
    }
    segment_of: dict[Cell, int] = {}
    for loc in floor.locations:
        r, c = loc.access_cell
        horizontal = loc.face in (Heading.NORTH, Heading.SOUTH)
        key = (True, r, c) if horizontal else (False, c, r)
        segment_of.setdefault(loc.access_cell, where[key])
    dominant = horizontal_faces * 2 >= len(floor.locations)
    groups: dict[tuple[int, int], list[int]] = {}
    for i, seg in enumerate(segments):
        if seg.horizontal == dominant:
            groups.setdefault((seg.lo, seg.hi), []).append(i)
    blocks = tuple(
        tuple(sorted(members, key=lambda s: segments[s].line))
        for _, members in sorted(groups.items())
    )
    block_of = {s: b for b, members in enumerate(blocks) for s in members}
    return Aisles(tuple(segments), segment_of, blocks, block_of)
