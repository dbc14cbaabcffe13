"""Released waves become robot tasks: one pick-route task per batch of the wave plan.

The WMS decides *what* must move (`wms.picking.plan.WavePlan`); this turns each
batch into a `pick_route` task whose stops are the batch's pick faces in the
planned order, ending at its station, each stop carrying the ledger lines it
confirms. A line's ``pick_id`` is ``batch/index``, unique in the plan, so the
ledger books it exactly once however often the robot's report is repeated.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from fleet.manager.model import PickLine, Stop, StopAction, TaskKind, TaskSpec
from wms.picking.plan import Batch, WavePlan

PRIORITY = {"same-day": 2, "next-day": 1}
"""Wave priority names → task priority (higher goes first); others are 0."""


def batch_task(
    batch: Batch,
    *,
    priority: int = 0,
    due_s: float | None = None,
    reservations: Mapping[int, int] | None = None,
) -> TaskSpec:
    """The pick-route task of one batch; ``reservations`` maps a pick's index to its
    ledger reservation id when the wave was reserved."""
    lines_at: dict[tuple[int, int], list[PickLine]] = defaultdict(list)
    for index, pick in enumerate(batch.picks):
        lines_at[pick.cell].append(
            PickLine(
                pick_id=f"{batch.batch_id}/{index}",
                order_id=pick.order_id,
                sku=pick.sku,
                qty=pick.qty,
                location_id=pick.location_id,
                reservation_id=(reservations or {}).get(index),
            )
        )
    stops = [
        Stop(cell, StopAction.PICK_LINES, lines=tuple(lines_at.pop(cell)))
        for cell in dict.fromkeys(batch.stops)
        if cell in lines_at
    ]
    stops.append(Stop(batch.station_cell, StopAction.STATION))
    return TaskSpec(
        task_id=batch.batch_id,
        kind=TaskKind.PICK_ROUTE,
        stops=tuple(stops),
        priority=priority,
        due_s=due_s,
        payload_kg=batch.weight_kg,
        resequence=True,
    )


def plan_tasks(plan: WavePlan, due_s: Mapping[str, float] | None = None) -> list[TaskSpec]:
    """Every batch of every wave, in wave order; ``due_s`` maps a wave's ``due`` label
    (its carrier cut-off) to manager seconds."""
    tasks = []
    for wave in plan.waves:
        due = (due_s or {}).get(wave.due)
        for batch in wave.batches:
            tasks.append(batch_task(batch, priority=PRIORITY.get(wave.priority, 0), due_s=due))
    return tasks
