"""Released waves become robot tasks: one pick-route task per batch of the wave plan.

The WMS decides *what* must move (`wms.picking.plan.WavePlan`); this turns each
batch into a `pick_route` task whose stops are the batch's pick faces in the
planned order, ending at its station, each stop carrying the ledger lines it
confirms. A line's ``pick_id`` is ``batch/index``, unique in the plan, so the
ledger books it exactly once however often the robot's report is repeated.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime

from fleet.manager.model import PickLine, Stop, StopAction, TaskKind, TaskSpec
from wms.layout import Cell
from wms.orders import Order, Priority
from wms.picking.plan import Batch, Pick, WavePlan

PRIORITY = {Priority.SAME_DAY.value: 2, Priority.NEXT_DAY.value: 1}
"""Wave priority names (`wms.orders.Priority` values) → task priority (higher goes
first); others are 0."""


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


def pod_tasks(plan: WavePlan, due_s: Mapping[str, float] | None = None) -> list[TaskSpec]:
    """Goods-to-person: per wave, every storage face its picks touch becomes one pod move —
    lift the pod at the face, bring it to the batch's station where its lines are picked,
    put it back. The station stop confirms the lines."""
    tasks = []
    for wave in plan.waves:
        due = (due_s or {}).get(wave.due)
        faces: dict[str, list[tuple[int, Batch, Pick]]] = defaultdict(list)
        for batch in wave.batches:
            for index, pick in enumerate(batch.picks):
                faces[pick.location_id].append((index, batch, pick))
        for location_id, picks in sorted(faces.items()):
            _, batch, first = picks[0]
            lines = tuple(
                PickLine(f"{b.batch_id}/{i}", p.order_id, p.sku, p.qty, p.location_id)
                for i, b, p in picks
            )
            cell = first.cell
            tasks.append(
                TaskSpec(
                    task_id=f"{wave.wave_id}-{location_id}",
                    kind=TaskKind.MOVE_POD,
                    stops=(
                        Stop(cell, StopAction.LIFT, load_id=location_id),
                        Stop(batch.station_cell, StopAction.PICK_LINES, lines=lines),
                        Stop(cell, StopAction.DROP, load_id=location_id),
                    ),
                    priority=PRIORITY.get(wave.priority, 0),
                    due_s=due,
                )
            )
    return tasks


def sortation_tasks(
    orders: Sequence[Order],
    start: datetime,
    chutes: Sequence[Cell],
    inducts: Sequence[Cell],
) -> list[TaskSpec]:
    """Parcel sortation: every order is a parcel inducted at a station (round robin) and
    carried to a chute of its carrier. The chutes are shared out among the carriers (one
    per cut-off: carrier ``k`` of ``C`` gets chutes ``k, k + C, ...``) and a parcel goes to
    its destination's chute among them (a hash of the order id, the same on every run).
    Parcels are sorted in arrival order; their lines ride along for the order's record."""
    if not chutes or not inducts:
        raise ValueError("sortation needs chutes and induct stations")
    cutoffs = sorted({o.due for o in orders})
    groups = {
        due: list(chutes[k :: len(cutoffs)]) or [chutes[k % len(chutes)]]
        for k, due in enumerate(cutoffs)
    }
    tasks = []
    ordered = sorted(orders, key=lambda o: (o.arrival or o.due, o.order_id))
    for n, order in enumerate(ordered):
        group = groups[order.due]
        chute = group[zlib.crc32(order.order_id.encode("utf-8")) % len(group)]
        load = f"parcel-{order.order_id}"
        lines = tuple(
            PickLine(f"{load}/{i}", order.order_id, line.sku, line.qty, "")
            for i, line in enumerate(order.lines)
        )
        tasks.append(
            TaskSpec(
                task_id=load,
                kind=TaskKind.MOVE,
                stops=(
                    Stop(inducts[n % len(inducts)], StopAction.LIFT, load_id=load),
                    Stop(chute, StopAction.DROP, lines=lines, load_id=load),
                ),
                priority=PRIORITY.get(order.priority.value, 0),
                due_s=(order.due - start).total_seconds(),
            )
        )
    return tasks
