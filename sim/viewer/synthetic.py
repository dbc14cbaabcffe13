"""A seeded fleet snapshot of any size on any floor, shaped like the manager's (for the benchmark).

Robots stand on distinct navigable cells, cycle through every status, and
each has a short base along its row and a goal elsewhere, so a frame draws
as much as a busy real fleet does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from wms.layout import Floor

STATUSES = ("busy", "busy", "busy", "idle", "charging", "busy", "paused", "fault")
BASE_CELLS = 4


def synthetic_snapshot(floor: Floor, robots: int, seed: int = 0) -> dict[str, Any]:
    """A snapshot dict of ``robots`` robots (at most the navigable cells) as the PUB sends it."""
    rng = np.random.default_rng(seed)
    free = np.argwhere(floor.navigable)
    count = min(robots, len(free))
    chosen = free[rng.choice(len(free), count, replace=False)]
    goals = free[rng.choice(len(free), count)]
    entries = []
    reservations = {}
    for index, ((row, col), goal) in enumerate(zip(chosen.tolist(), goals.tolist(), strict=True)):
        robot = f"sim/r{index:03d}"
        status = STATUSES[index % len(STATUSES)]
        base = [[row, col]]
        while len(base) < BASE_CELLS and col + len(base) < floor.width:
            if not floor.navigable[row, col + len(base)]:
                break
            base.append([row, col + len(base)])
        for cell in base:
            reservations[f"{cell[0]},{cell[1]}"] = robot
        entries.append(
            {
                "robot": robot,
                "kind": "amr",
                "status": status,
                "battery": float(rng.uniform(10, 100)),
                "cell": [row, col],
                "task": f"T{index}" if status == "busy" else None,
                "waiting": f"cell ({row}, {col + 1}) held by sim/r000" if index % 5 == 0 else None,
                "base": base if status == "busy" else [[row, col]],
                "goal": goal if status == "busy" else None,
            }
        )
    tasks = [
        {"task_id": e["task"], "kind": "pick_route", "status": "active", "robot": e["robot"]}
        for e in entries
        if e["task"] is not None
    ]
    return {
        "version": 1,
        "time_s": 0.0,
        "estop": False,
        "robots": entries,
        "tasks": tasks,
        "reservations": reservations,
        "blocked": [],
    }
