"""PIBT in the rotation model's own actions: turns are planned inside the search.

The default rotation step (`PIBTPlanner._rotate`) lets PIBT plan a 4-connected
move and converts it afterwards: a robot whose cell is not straight ahead
turns and stays, and whoever wanted its cell stays too. PIBT therefore hands
out cells that are never entered (the turning robot's target) and counts on
pushes that cannot happen (a pushed robot that must turn first), so the
robots around it plan for a floor that does not exist; at 10,000 robots the
stopped queues grow faster than they drain (docs/benchmarks.md).

Here the step is planned in the (cell, heading) state space. A robot has two
ways to end the step: **forward** into the cell ahead (heading kept), or
**stay** in its cell, turning at most a quarter. Its preference comes from the
same turn-aware ranking as the default step (distance to goal plus the
quarter turns to face a cell): forward first when the cell ahead is its best
cell, else stay and turn towards its best cell. Reservations are per cell, so
a staying robot holds its cell for everyone planned after it. Priority
inheritance works along headings only: a forward move into an unplanned
robot's cell asks that robot to move, and it can only leave by driving ahead
(staying is taken by the pusher's reservation); if it cannot, the push fails
and the pusher tries its next action (backtracking). A head-on forward pair
is refused like a swap.

Liveness guard (docs/traffic.md): a robot that was pushed and could not leave
turns a quarter towards its best cell other than the pusher's (its escape),
not towards its goal. A pusher whose forward failed keeps facing the cell it
wants. So a pusher that keeps the priority pushes again next step and the
robot in its way, facing its escape by then, drives off — the rotation-model
form of PIBT's "the highest-priority robot moves on": it moves after at most
two turns of the robot in front (a U-turn), instead of at once. The stall
watchdog and held-robot rules are the engine's, unchanged.
"""

from __future__ import annotations

import sys

import numpy as np


def _face(from_heading: int, direction: int) -> int:
    """The heading after one quarter turn from ``from_heading`` towards ``direction``."""
    diff = (direction - from_heading) % 4
    if diff == 0:
        return from_heading
    return (from_heading + (3 if diff == 3 else 1)) % 4


def turning_step(
    order: list[int],
    positions: np.ndarray,
    headings: np.ndarray,
    neighbours: np.ndarray,
    closed: np.ndarray,
    candidates: list[list[int]],
    counts: list[int],
    held: list[int],
    occ_now: list[int],
    occ_next: list[int],
) -> tuple[np.ndarray, np.ndarray]:
    """One rotation-model step: next nodes and headings of every robot.

    ``candidates[i][:counts[i]]`` is robot ``i``'s turn-aware ranking of its own
    node and its open neighbours (best first); ``order`` is the priority order;
    ``held`` robots keep their node and heading and are reserved first.
    ``occ_now``/``occ_next`` are all-``-1`` scratch lists of the graph's size and
    are left that way. Guaranteed: every robot either drives to the node ahead
    with its heading, or keeps its node and turns at most a quarter; no two robots
    end in one node; no two swap nodes.
    """
    count = int(positions.size)
    pos = positions.tolist()
    head = (np.asarray(headings, dtype=np.int64) % 4).tolist()
    ahead_arr = neighbours[positions, np.asarray(headings, dtype=np.int64) % 4]
    open_ahead = (ahead_arr >= 0) & ~closed[np.maximum(ahead_arr, 0)]
    ahead = np.where(open_ahead, ahead_arr, -1).tolist()
    nbr_rows = neighbours[positions].tolist()
    nxt = [-1] * count
    out_head = list(head)
    for i, v in enumerate(pos):
        occ_now[v] = i
    for i in held:
        nxt[i] = pos[i]
        occ_next[pos[i]] = i
    if sys.getrecursionlimit() < 4 * count + 1000:
        sys.setrecursionlimit(4 * count + 1000)

    def direction(i: int, u: int) -> int:
        return nbr_rows[i].index(u)

    def stay_face(i: int) -> int:
        """Where a robot staying by choice faces: its best cell (kept at its own)."""
        best = candidates[i][0] if counts[i] else pos[i]
        return head[i] if best == pos[i] else direction(i, best)

    def escape_face(i: int, pusher_cell: int) -> int:
        """Where a robot that was pushed and could not leave faces: its best cell
        other than the pusher's (kept heading if there is none)."""
        for u in candidates[i][: counts[i]]:
            if u != pos[i] and u != pusher_cell:
                return direction(i, u)
        return head[i]

    planned: list[int] = []  # robots given a move in this step, in order (for rollback)
    yielding = [-1] * count  # the cell of the first robot whose push this one refused

    def rollback(mark: int) -> None:
        while len(planned) > mark:
            r = planned.pop()
            if occ_next[nxt[r]] == r:
                occ_next[nxt[r]] = -1
            nxt[r] = -1
            out_head[r] = head[r]

    def forward(i: int) -> bool:
        """Drive ``i`` to the node ahead, pushing its occupant on along its own heading."""
        a = ahead[i]
        if a < 0 or occ_next[a] != -1:
            return False
        j = occ_now[a]
        if j != -1 and nxt[j] == pos[i]:
            return False  # head-on: it drives into my cell
        occ_next[a] = i
        nxt[i] = a
        mark = len(planned)
        planned.append(i)
        if j != -1 and nxt[j] == -1 and not forward(j):
            # it cannot leave: undo the attempt (so nobody is left planned around a
            # move that does not happen) and remember that it was asked to make way
            rollback(mark)
            if yielding[j] == -1:
                yielding[j] = pos[i]
            return False
        return True

    def plan(i: int) -> None:
        vi = pos[i]
        prefers_forward = counts[i] > 0 and ahead[i] >= 0 and candidates[i][0] == ahead[i]
        escape = -1 if yielding[i] == -1 else escape_face(i, yielding[i])
        # asked to make way with the way out straight ahead: drive (a robot in a
        # closed loop of robots that only wanted to turn lets the loop rotate)
        if (prefers_forward or escape == head[i]) and forward(i):
            return
        occ_next[vi] = i  # free: an unplanned robot's cell is reserved only by its push
        nxt[i] = vi
        planned.append(i)
        if escape != -1:
            out_head[i] = _face(head[i], escape)
        elif not prefers_forward:
            out_head[i] = _face(head[i], stay_face(i))
        # else: it waits facing the cell it wants

    try:
        for i in order:
            if nxt[i] == -1:
                plan(i)
    finally:
        for v in pos:
            occ_now[v] = -1
        for v in nxt:
            if v >= 0:
                occ_next[v] = -1
    return np.asarray(nxt, dtype=np.int64), np.asarray(out_head, dtype=np.int8)
