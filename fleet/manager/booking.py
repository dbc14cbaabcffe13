"""Where the robots' work meets the ledger: picks booked as robots finish them, and the
replenishment those picks call for, done by robots too.

`LedgerBooker` books each confirmed line once (`Ledger.confirm_pick`, idempotent by
pick id); a line the stock cannot cover is counted short. After a pick it looks at
the forward face's min/max: below min, and with no top-up already on its way, it
asks for a `replenish` task — a robot lifts the units at the reserve face that
holds the most of that SKU and drops them at the forward face, and only when the
drop is reported FINISHED is the move booked (`Ledger.confirm_move`, also once).
Nothing is teleported.

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
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from fleet.manager.events import ConfirmPicks
from fleet.manager.model import PickLine, Stop, StopAction, TaskKind, TaskSpec
from wms.inventory_types import LocationKind
from wms.layout import Cell
from wms.returns import Inspection, ReturnOutcome, ReturnsPolicy, assess
from wms.returns.destinations import DestinationPicker

log = logging.getLogger("fleet.manager")

RETURN_PREFIX = "return-"
"""Task ids, load ids and line ids of customer returns start with this."""
RETURN_PRIORITY = -1
"""Returns have no carrier cut-off: they go behind every wave of customer orders."""


class PickBooker:
    """Where confirmed lines go; `take_requests` hands back tasks the booking calls for."""

    def confirm(self, command: ConfirmPicks) -> int:  # pragma: no cover - protocol
        raise NotImplementedError

    def take_requests(self) -> list[TaskSpec]:
        return []


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
        self.replenish = replenish
        self._requests: list[TaskSpec] = []
        self._open: set[str] = set()
        self._pending: dict[str, int] = {}
        """Units the submitted pick tasks will still take from each face (`expect`)."""
        self._ids = itertools.count(1)
        self.id_prefix = ""
        """Put before the numbers of replenishment ids (a restarted manager sets it, so a new
        top-up never reuses a move id the ledger has booked already)."""
        self._slots: dict[str, Any] | None = None
        self._cells: dict[str, tuple[int, int]] | None = None

    def confirm(self, command: ConfirmPicks) -> int:
        booked = 0
        for line in command.lines:
            if line.pick_id in self._jobs or line.pick_id.startswith(RETURN_PREFIX):
                self._return_step(line)
                continue
            if line.from_location is not None:
                self._move(line)
                continue
            try:
                done = self.ledger.confirm_pick(
                    line.pick_id, line.sku, line.location_id, line.qty, line.reservation_id
                )
            except Exception as error:  # a short line is reported, never crashes the loop
                self.failed += 1
                self.short.append(line)
                log.info("pick %s short: %s", line.pick_id, error)
            else:
                booked += int(done)
                self.repeats += int(not done)
            if line.location_id in self._pending:
                self._pending[line.location_id] -= line.qty
            self._check(line.sku, line.location_id)
        self.booked += booked
        return booked

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
        self._check(line.sku, line.location_id)  # still short of what is coming: go again

    def expect(self, specs: Iterable[TaskSpec]) -> None:
        """Note the picks of submitted tasks, then ask for a top-up wherever a forward face
        cannot cover what is coming (the wave-release trigger; `take_requests` has them).
        A face is then topped up to its max, one robot trip at a time, when it holds less
        than its min, or less than the picks still to come and at most half its max."""
        for spec in specs:
            for stop in spec.stops:
                for line in stop.lines:
                    if line.from_location is None and line.location_id:
                        self._pending[line.location_id] = (
                            self._pending.get(line.location_id, 0) + line.qty
                        )
        for slot in sorted(self.ledger.forward_slots(), key=lambda s: s.location_id):
            self._check(slot.sku, slot.location_id)

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
        """A top-up task when the forward face fell below its min (one at a time per face)."""
        if not self.replenish or location_id in self._open:
            return
        slot = self._slot(location_id)
        if slot is None or slot.sku != sku:
            return
        on_hand = self.ledger.on_hand(sku, location_id)
        below_min = on_hand < slot.min_qty
        # A face that cannot cover the picks still coming is topped up early, but only
        # when the trip is worth it (it fills at least half the face).
        coming = on_hand < self._pending.get(location_id, 0) and 2 * on_hand <= slot.max_qty
        if not (below_min or coming):
            return
        reserve = [
            row
            for row in self.ledger.stock(sku=sku)
            if self._kind(row.location_id) is LocationKind.RESERVE
            and row.on_hand - row.reserved > 0
        ]
        if not reserve:
            return
        source = max(reserve, key=lambda row: (row.on_hand - row.reserved, row.location_id))
        qty = min(slot.max_qty - on_hand, source.on_hand - source.reserved)
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
