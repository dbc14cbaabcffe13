"""The S-shape (traversal) routing heuristic: the baseline every figure compares to.

A picker following S-shape enters every aisle that holds a pick, walks it end
to end, and leaves at the far end, alternating direction from one aisle to
the next, and sweeps the aisles block by block. It is what warehouses do
without a router, so it is the honest baseline for the routing gain.

Aisles are derived from the floor itself, not from layout parameters, so any
floor with racks works: an *aisle segment* is a maximal straight run of access
cells on one row (for rack faces looking north/south) or one column (east/
west faces). Legs between waypoints use true shortest paths.
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
        if self.horizontal:
            return (self.line, self.lo), (self.line, self.hi)
        return (self.lo, self.line), (self.hi, self.line)

    def position(self, cell: Cell) -> int:
        """Where along the segment a cell lies."""
        return cell[1] if self.horizontal else cell[0]


@dataclass(frozen=True)
class Aisles:
    """The floor's aisle segments, which segment each access cell belongs to, and sweep order."""

    segments: tuple[AisleSegment, ...]
    segment_of: dict[Cell, int]
    sweep_key: tuple[tuple[int, int], ...]

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
    """Aisle segments of a floor and their sweep order (block by block, then row)."""
    rows: dict[int, list[int]] = {}
    cols: dict[int, list[int]] = {}
    for loc in floor.locations:
        r, c = loc.access_cell
        if loc.face in (Heading.NORTH, Heading.SOUTH):
            rows.setdefault(r, []).append(c)
        else:
            cols.setdefault(c, []).append(r)
    segments: list[AisleSegment] = []
    for r, values in sorted(rows.items()):
        segments += [AisleSegment(True, r, lo, hi) for lo, hi in _runs(values)]
    for c, values in sorted(cols.items()):
        segments += [AisleSegment(False, c, lo, hi) for lo, hi in _runs(values)]
    segment_of: dict[Cell, int] = {}
    for loc in floor.locations:
        if loc.access_cell in segment_of:
            continue
        for i, seg in enumerate(segments):
            r, c = loc.access_cell
            along, across = (c, r) if seg.horizontal else (r, c)
            face_matches = (loc.face in (Heading.NORTH, Heading.SOUTH)) == seg.horizontal
            if face_matches and across == seg.line and seg.lo <= along <= seg.hi:
                segment_of[loc.access_cell] = i
                break
    band_starts = sorted({seg.lo for seg in segments if seg.horizontal})

    def band(seg: AisleSegment) -> int:
        start = seg.lo if seg.horizontal else seg.line + 1
        below = [b for b in band_starts if b <= start]
        return len(below) - 1 if below else 0

    def across(seg: AisleSegment) -> int:
        return seg.line if seg.horizontal else seg.lo

    keys = tuple((band(seg), across(seg)) for seg in segments)
    return Aisles(tuple(segments), segment_of, keys)


def sshape_waypoints(stops: list[Cell], aisles: Aisles) -> list[Cell]:
    """Cells an S-shape picker visits in order, from the first aisle to the last.

    Each aisle with a pick contributes its entry end, its picks in walking
    order and its exit end. Bands (blocks) are swept in order, alternating
    the direction of travel through the rows of a band so the picker snakes.
    Stops outside any aisle are visited at the end, nearest first by sweep.
    """
    by_segment: dict[int, list[Cell]] = {}
    loose: list[Cell] = []
    for cell in stops:
        seg = aisles.segment_of.get(cell)
        if seg is None:
            loose.append(cell)
        else:
            by_segment.setdefault(seg, []).append(cell)
    order = sorted(by_segment, key=lambda s: (aisles.sweep_key[s], s))
    bands: dict[int, list[int]] = {}
    for s in order:
        bands.setdefault(aisles.sweep_key[s][0], []).append(s)
    waypoints: list[Cell] = []
    forward = True
    for band_index, (_, segs) in enumerate(sorted(bands.items())):
        if band_index % 2 == 1:
            segs = segs[::-1]
        for s in segs:
            seg = aisles.segments[s]
            start, end = seg.ends if forward else seg.ends[::-1]
            picks = sorted(set(by_segment[s]), key=seg.position, reverse=not forward)
            waypoints += [start, *picks, end]
            forward = not forward
    return waypoints + sorted(set(loose))
