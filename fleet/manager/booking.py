"""Where the robots' work meets the ledger: picks booked as robots finish them, and the
replenishment those picks call for, done by robots too.

`LedgerBooker` books each confirmed line once (`Ledger.confirm_pick`, idempotent by
pick id). After a pick it looks at the forward face's min/max: below min, and with
no top-up already on its way, it asks for a `replenish` task — a robot lifts the
units at the reserve face that holds the most of that SKU and drops them at the
forward face, and only when the drop is reported FINISHED is the move booked
(`Ledger.confirm_move`, also once). Nothing is teleported.

Demand replenishment (`LedgerBooker.release`): released pick tasks go to the fleet
only when their faces hold, free of the picks already handed out, what they take
there (`wms.replenishment.gate`); a task whose face falls short waits, and the
face gets a top-up ahead of it; when the top-up's drop is booked the task goes.
So a robot never reaches a face whose top-up is still on its way, and a line is
short only when the warehouse as a whole (the face, the SKU's reserve, a top-up
in transit) cannot cover it — each short line is logged with its `ShortReason`.

Customer returns go the same way (`LedgerBooker.receive_return`): a
``return_to_inspection`` task lifts the returned item at its dock and drops it at
the inspection station; that drop grades it (`wms.returns.assess` under the
returns policy) and picks its destination (`DestinationPicker`), and asks for a
``putaway`` task from the station to there. The return enters stock, with its
grade, only when that drop is FINISHED (`Ledger.return_in`, once per return).
"""

from __future__ import annotations

import itertools
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from fleet.manager.events import ConfirmPicks
from fleet.manager.model import PickLine, Stop, StopAction, TaskKind, TaskSpec, TaskStatus
from wms.inventory_types import Condition, LocationKind
from wms.layout import Cell
from wms.replenishment.gate import FaceStock, HeldTask, Need, ShortReason, gate
from wms.returns import Inspection, ReturnOutcome, ReturnsPolicy, assess
from wms.returns.destinations import DestinationPicker

log = logging.getLogger("fleet.manager")

RETURN_PREFIX = "return-"
"""Task ids, load ids and line ids of customer returns start with this."""
RETURN_PRIORITY = -1
"""Returns have no carrier cut-off: they go behind every wave of customer orders."""
GATED_KINDS = (TaskKind.PICK_ROUTE, TaskKind.MOVE_POD)
"""Tasks whose lines take stock from pick faces: released only when their faces cover them."""


class PickBooker:
    """Where confirmed lines go; `take_requests` hands back tasks the booking calls for."""

    def confirm(self, command: ConfirmPicks) -> int:  # pragma: no cover - protocol
        raise NotImplementedError

    def take_requests(self) -> list[TaskSpec]:
        return []

    def task_ended(self, task_id: str, status: TaskStatus) -> None:
        """A task reached a final status (after its last stop's lines were confirmed)."""


@dataclass(frozen=True, slots=True)
class ReturnJob:
    """A return on its way: to inspection (``outcome`` unset), then to its destination."""

    inspection: Inspection
    station: Cell
    outcome: ReturnOutcome | None = None


class LedgerBooker(PickBooker):
    def __init__(
        self, ledger: Any, *, replenish: bool = True, policy: ReturnsPolicy | None = None
    ) -> None:
        self.ledger = ledger
        self.policy = policy
        self.returns: list[ReturnOutcome] = []
        """Returns booked into stock, in the order their putaway drops finished."""
        self.returns_refused = 0
        self._jobs: dict[str, ReturnJob] = {}
        self._picker: DestinationPicker | None = None
        self.booked = 0
        self.repeats = 0
        self.failed = 0
        self.moves = 0
        self.short: list[PickLine] = []
        """Lines the stock could not cover when the robot got there."""
        self.short_reasons: Counter[ShortReason] = Counter()
        self._shorted: set[str] = set()
        self.tasks_waited = 0
        """Pick tasks held back at release until a top-up covered their faces."""
        self.lines_waited_for_topup = 0
        """The lines of those tasks."""
        self.replenish = replenish
        self._requests: list[TaskSpec] = []
        self._open: set[str] = set()
        """Forward faces with a top-up on its way (one at a time per face)."""
        self._topups: dict[str, str] = {}
        """Open replenish task id → the face it tops up."""
        self._pending: dict[str, int] = {}
        """Units the expected pick tasks (released or held) will still take from each face."""
        self._expected: dict[str, PickLine] = {}
        """Lines of expected pick tasks not confirmed yet, by pick id."""
        self._held: list[TaskSpec] = []
        """Released pick tasks waiting for a top-up, in release order."""
        self._task_lines: dict[str, list[str]] = {}
        """Pick tasks handed to the fleet → their pick ids not confirmed yet."""
        self._claimed: dict[str, int] = {}
        """Units the covered lines handed to the fleet will still take from each face."""
        self._covered: set[str] = set()
        self._uncovered: dict[str, ShortReason] = {}
        """Handed-out lines the warehouse could not cover, and why: picked only from spare
        units."""
        self._waiting: dict[str, int] = {}
        """Per face: units held tasks wait for beyond its free stock (the last gate)."""
        self._kept: dict[str, int] = {}
        """Per face: units the waiting tasks keep there (`GateDecision.kept`)."""
        self._ids = itertools.count(1)
        self.id_prefix = ""
        """Put before the numbers of replenishment ids (a restarted manager sets it, so a new
        top-up never reuses a move id the ledger has booked already)."""
        self._slots: dict[str, Any] | None = None
        self._cells: dict[str, tuple[int, int]] | None = None

    @property
    def held(self) -> int:
        """Pick tasks released by the WMS and still waiting for a top-up."""
        return len(self._held)

    def held_ids(self) -> list[str]:
        """The tasks released and waiting for a top-up (not yet with the fleet)."""
        return [spec.task_id for spec in self._held]

    def adopt(self, specs: Iterable[TaskSpec]) -> None:
        """After a restart, the open tasks the task log holds are the fleet's again: their
        pick lines not yet booked claim their faces (as when the gate handed them out) and
        their top-ups are on their way, so the gate and the top-up trigger start from the
        floor as it is instead of handing the same units out twice. Call before the
        restore's re-confirmations are booked."""
        booked = self.confirmed_ids()
        for spec in specs:
            if spec.kind is TaskKind.REPLENISH:
                for stop in spec.stops:
                    for line in stop.lines:
                        if line.from_location is not None and line.pick_id not in booked:
                            self._open.add(line.location_id)
                            self._topups[spec.task_id] = line.location_id
                continue
            ids = []
            for line in _pick_lines(spec):
                if line.pick_id in booked or line.pick_id in self._expected:
                    continue
                face = line.location_id
                self._expected[line.pick_id] = line
                self._pending[face] = self._pending.get(face, 0) + line.qty
                self._covered.add(line.pick_id)
                self._claimed[face] = self._claimed.get(face, 0) + line.qty
                ids.append(line.pick_id)
            if ids:
                self._task_lines[spec.task_id] = ids

    def confirm(self, command: ConfirmPicks) -> int:
        booked = 0
        for line in command.lines:
            if line.pick_id in self._jobs or line.pick_id.startswith(RETURN_PREFIX):
                self._return_step(line)
                continue
            if line.from_location is not None:
                self._move(line)
                continue
            if line.pick_id in self._shorted:  # reported short already: stays short
                self.repeats += 1
                continue
            uncovered = self._uncovered.get(line.pick_id)
            self._settle(command.task_id, line)
            if uncovered is not None and not self._spare(line):
                self._short(line, "the units at the face are kept for covered lines", uncovered)
                continue
            try:
                done = self.ledger.confirm_pick(
                    line.pick_id, line.sku, line.location_id, line.qty, line.reservation_id
                )
            except Exception as error:  # a short line is reported, never crashes the loop
                self._short(line, str(error))
            else:
                booked += int(done)
                self.repeats += int(not done)
            self._check(line.sku, line.location_id)
        self.booked += booked
        return booked

    def _settle(self, task_id: str, line: PickLine) -> None:
        """Forget a reported line's claims (once: a repeat or an unexpected line has none)."""
        if self._expected.pop(line.pick_id, None) is None:
            return
        self._pending[line.location_id] -= line.qty
        self._uncovered.pop(line.pick_id, None)
        lines = self._task_lines.get(task_id)
        if lines is not None and line.pick_id in lines:
            lines.remove(line.pick_id)
            if not lines:
                del self._task_lines[task_id]
        if line.pick_id in self._covered:
            self._covered.discard(line.pick_id)
            self._claimed[line.location_id] -= line.qty

    def _spare(self, line: PickLine) -> bool:
        """Whether the face holds the line's units beyond what the covered lines still take."""
        return self._free(line) >= line.qty

    def _free(self, line: PickLine) -> int:
        """Units at the line's face that neither handed-out covered lines nor waiting tasks
        (`GateDecision.kept`) still take."""
        on_hand = self.ledger.on_hand(line.sku, line.location_id)
        face = line.location_id
        return on_hand - self._claimed.get(face, 0) - self._kept.get(face, 0)

    def _short(self, line: PickLine, detail: str, reason: ShortReason | None = None) -> None:
        self._shorted.add(line.pick_id)
        self.failed += 1
        self.short.append(line)
        reason = reason or self._short_reason(line)
        self.short_reasons[reason] += 1
        log.info("pick %s short (%s): %s", line.pick_id, reason.value, detail)

    def _short_reason(self, line: PickLine) -> ShortReason:
        on_hand = self.ledger.on_hand(line.sku, line.location_id)
        spare = self._free(line)
        if max(spare, 0) + self._reserve(line.sku) < line.qty:
            return ShortReason.OUT_OF_STOCK
        slot = self._slot(line.location_id)
        if slot is None or slot.sku != line.sku:
            return ShortReason.NOT_REPLENISHED
        if line.qty > max(slot.max_qty, on_hand):
            return ShortReason.FACE_TOO_SMALL
        return ShortReason.RESERVE_NOT_BROUGHT

    def _move(self, line: PickLine) -> None:
        assert line.from_location is not None
        self._open.discard(line.location_id)
        try:
            self.moves += int(
                self.ledger.confirm_move(
                    line.pick_id, line.sku, line.from_location, line.location_id, line.qty
                )
            )
        except Exception as error:  # the reserve ran out meanwhile: nothing moved
            log.info("replenishment %s not booked: %s", line.pick_id, error)
        self._release_held()  # the picks that waited for this top-up go
        self._check(line.sku, line.location_id)  # still short of what is coming: go again

    def expect(self, specs: Iterable[TaskSpec]) -> None:
        """Note the picks of submitted tasks, then ask for a top-up wherever a forward face
        cannot cover what is coming (the wave-release trigger; `take_requests` has them).
        A face is then topped up to its max, one robot trip at a time, when it holds less
        than its min, or less than the picks still to come and at most half its max."""
        for spec in specs:
            for line in _pick_lines(spec):
                self._expected[line.pick_id] = line
                self._pending[line.location_id] = self._pending.get(line.location_id, 0) + line.qty
        for slot in sorted(self.ledger.forward_slots(), key=lambda s: s.location_id):
            self._check(slot.sku, slot.location_id)

    def release(self, specs: Iterable[TaskSpec]) -> None:
        """The WMS releases tasks (`expect`); a pick task goes to the fleet (`take_requests`)
        only when its faces cover it, else it waits for the top-up that is then ordered
        first (demand replenishment, `wms.replenishment.gate`). Other tasks go at once."""
        specs = list(specs)
        self.expect(specs)
        for spec in specs:
            if spec.kind in GATED_KINDS and any(True for _ in _pick_lines(spec)):
                self._held.append(spec)
            else:
                self._requests.append(spec)
        waited = {s.task_id for s in self._held}
        self._release_held()
        for spec in self._held:
            if spec.task_id in waited:
                self.tasks_waited += 1
                self.lines_waited_for_topup += sum(1 for _ in _pick_lines(spec))

    def task_ended(self, task_id: str, status: TaskStatus) -> None:
        """A top-up that ended without its drop frees its face for another; a pick task
        that ended with lines unpicked gives their units back to the gate."""
        face = self._topups.pop(task_id, None)
        if face is not None and status is not TaskStatus.DONE and face in self._open:
            self._open.discard(face)
            slot = self._slot(face)
            if slot is not None:
                self._check(slot.sku, face)
            self._release_held()
        left = self._task_lines.pop(task_id, None)
        if left:
            for pick_id in left:
                line = self._expected.pop(pick_id)
                self._pending[line.location_id] -= line.qty
                self._uncovered.pop(pick_id, None)
                if pick_id in self._covered:
                    self._covered.discard(pick_id)
                    self._claimed[line.location_id] -= line.qty
            self._release_held()

    def _release_held(self) -> None:
        """Run the gate over the held tasks: hand out those their faces now cover, and
        order a top-up for each face the others wait for."""
        if not self._held:
            self._waiting = {}
            self._kept = {}
            return
        skus: dict[str, str] = {}
        held = []
        for spec in self._held:
            lines = list(_pick_lines(spec))
            for line in lines:
                skus.setdefault(line.location_id, line.sku)
            held.append(
                HeldTask(spec.task_id, tuple(Need(n.pick_id, n.location_id, n.qty) for n in lines))
            )
        faces = {face: self._face_stock(face, sku) for face, sku in sorted(skus.items())}
        reserve = {sku: self._reserve(sku) for sku in sorted(set(skus.values()))}
        decision = gate(held, faces, reserve)
        going = set(decision.release)
        for spec in [s for s in self._held if s.task_id in going]:
            ids = []
            for line in _pick_lines(spec):
                ids.append(line.pick_id)
                why = decision.uncovered.get(line.pick_id)
                if why is not None:
                    self._uncovered[line.pick_id] = why
                else:
                    self._covered.add(line.pick_id)
                    self._claimed[line.location_id] = (
                        self._claimed.get(line.location_id, 0) + line.qty
                    )
            self._task_lines[spec.task_id] = ids
            self._requests.append(spec)
        self._held = [s for s in self._held if s.task_id not in going]
        self._waiting = dict(decision.waiting)
        self._kept = dict(decision.kept)
        for face in self._waiting:
            self._check(skus[face], face)

    def _face_stock(self, location_id: str, sku: str) -> FaceStock:
        on_hand = self.ledger.on_hand(sku, location_id)
        slot = self._slot(location_id)
        capacity = max(slot.max_qty, on_hand) if slot is not None and slot.sku == sku else None
        return FaceStock(sku, on_hand, self._claimed.get(location_id, 0), capacity)

    def _reserve(self, sku: str) -> int:
        """New units of the SKU in reserve, free of reservations (a top-up in transit
        included: its units leave the reserve when its drop is booked)."""
        return sum(max(0, row.on_hand - row.reserved) for row in self._reserve_rows(sku))

    def _reserve_rows(self, sku: str) -> list[Any]:
        return [
            row
            for row in self.ledger.stock(sku=sku)
            if self._kind(row.location_id) is LocationKind.RESERVE
            and row.condition is Condition.NEW
        ]

    def take_requests(self) -> list[TaskSpec]:
        requests, self._requests = self._requests, []
        return requests

    def confirmed_ids(self) -> set[str]:
        """Pick and move ids the ledger has booked (a restart re-confirms only the others)."""
        return {
            m.ref.removeprefix("confirm:")
            for m in self.ledger.movements()
            if m.ref and m.ref.startswith("confirm:")
        }

    def receive_return(
        self, inspection: Inspection, dock_location_id: str, station: Cell
    ) -> TaskSpec:
        """The task that carries a return from its dock to the inspection station."""
        if self.policy is None:
            raise ValueError("returns need a returns policy")
        rid = inspection.return_id
        cells = self._location_cells()
        line = PickLine(f"{RETURN_PREFIX}{rid}/inspect", "", inspection.sku, inspection.qty, "")
        self._jobs[line.pick_id] = ReturnJob(inspection, station)
        load = f"{RETURN_PREFIX}{rid}"
        return TaskSpec(
            f"{RETURN_PREFIX}{rid}",
            TaskKind.RETURN_TO_INSPECTION,
            (
                Stop(cells[dock_location_id], StopAction.LIFT, load_id=load),
                Stop(station, StopAction.DROP, lines=(line,), load_id=load),
            ),
            priority=RETURN_PRIORITY,
        )

    @property
    def returns_open(self) -> int:
        """Returns received whose putaway drop has not been booked yet."""
        return len(self._jobs)

    def _return_step(self, line: PickLine) -> None:
        job = self._jobs.pop(line.pick_id, None)
        if job is None:  # a repeated report of a step already done
            self.repeats += 1
            return
        assert self.policy is not None
        inspection = job.inspection
        if self._picker is None:
            self._picker = DestinationPicker(self.ledger, self.policy)
        if job.outcome is None:  # dropped at inspection: grade it, send it on
            outcome = assess(inspection, self.policy, "")
            destination = self._picker.pick(outcome.disposition, inspection.sku, outcome.grade)
            graded = replace(outcome, destination=destination)
            rid = inspection.return_id
            stock = PickLine(
                f"{RETURN_PREFIX}{rid}/stock", "", inspection.sku, inspection.qty, destination
            )
            self._jobs[stock.pick_id] = replace(job, outcome=graded)
            load = f"{RETURN_PREFIX}{rid}"
            self._requests.append(
                TaskSpec(
                    f"putaway-{rid}",
                    TaskKind.PUTAWAY,
                    (
                        Stop(job.station, StopAction.LIFT, load_id=load),
                        Stop(
                            self._location_cells()[destination],
                            StopAction.DROP,
                            lines=(stock,),
                            load_id=load,
                        ),
                    ),
                    priority=RETURN_PRIORITY,
                )
            )
            return
        outcome = job.outcome
        try:
            movement = self.ledger.return_in(
                inspection.sku,
                outcome.destination,
                inspection.qty,
                outcome.grade,
                ref=inspection.return_id,
            )
        except Exception as error:  # refused by the ledger: counted, the loop goes on
            self.returns_refused += 1
            log.info("return %s not booked: %s", inspection.return_id, error)
            return
        self._picker.booked(outcome.destination, inspection.sku, outcome.grade, inspection.qty)
        self.returns.append(replace(outcome, movement_id=movement))

    def _check(self, sku: str, location_id: str) -> None:
        """A top-up task for a forward face (one at a time per face), to its max from the
        reserve face holding the most new units of the SKU, when the face holds less than
        its min; or less than the picks still to come and at most half its max (the trip
        is worth it); or when held tasks wait for it (`_release_held`) and the trip covers
        all they wait for, or nothing handed out will drain the face any further."""
        if not self.replenish or location_id in self._open:
            return
        slot = self._slot(location_id)
        if slot is None or slot.sku != sku:
            return
        on_hand = self.ledger.on_hand(sku, location_id)
        room = slot.max_qty - on_hand
        below_min = on_hand < slot.min_qty
        coming = on_hand < self._pending.get(location_id, 0) and 2 * on_hand <= slot.max_qty
        waiting = self._waiting.get(location_id, 0)
        demand = (
            waiting > 0 and room > 0 and (room >= waiting or self._claimed.get(location_id, 0) == 0)
        )
        if not (below_min or coming or demand):
            return
        reserve = [row for row in self._reserve_rows(sku) if row.on_hand - row.reserved > 0]
        if not reserve:
            return
        source = max(reserve, key=lambda row: (row.on_hand - row.reserved, row.location_id))
        qty = min(room, source.on_hand - source.reserved)
        cells = self._location_cells()
        if qty <= 0 or source.location_id not in cells or location_id not in cells:
            return
        n = f"{self.id_prefix}{next(self._ids)}"
        line = PickLine(f"repl-{n}", "", sku, qty, location_id, from_location=source.location_id)
        load = f"repl-{n}"
        self._requests.append(
            TaskSpec(
                f"replenish-{n}-{location_id}",
                TaskKind.REPLENISH,
                (
                    Stop(cells[source.location_id], StopAction.LIFT, load_id=load),
                    Stop(cells[location_id], StopAction.DROP, lines=(line,), load_id=load),
                ),
                priority=3,  # above every wave: picks are waiting on it
            )
        )
        self._open.add(location_id)
        self._topups[self._requests[-1].task_id] = location_id

    def _slot(self, location_id: str) -> Any:
        if self._slots is None:
            self._slots = {s.location_id: s for s in self.ledger.forward_slots()}
        return self._slots.get(location_id)

    def _location_cells(self) -> dict[str, tuple[int, int]]:
        if self._cells is None:
            self._cells = {
                r.location_id: r.cell for r in self.ledger.locations() if r.cell is not None
            }
            self._kinds = {r.location_id: r.kind for r in self.ledger.locations()}
        return self._cells

    def _kind(self, location_id: str) -> LocationKind | None:
        self._location_cells()
        return self._kinds.get(location_id)


def _pick_lines(spec: TaskSpec) -> Iterable[PickLine]:
    """The task's lines that take stock from a pick face (not top-ups, not returns)."""
    for stop in spec.stops:
        for line in stop.lines:
            if line.from_location is None and line.location_id:
                yield line
