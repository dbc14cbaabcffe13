"""A batch of returns: grade, choose a disposition, pick a destination, book into the ledger.

With a ledger the whole batch is one transaction: every SKU must be known and
sold (the ledger refuses a return for a SKU it never picked), and one bad row
rolls back every row before it, so a file is booked entirely or not at all.
Without a ledger the batch is graded only (the destination is the policy's
location kind) — useful to try a policy on a spreadsheet of inspections.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from wms.errors import InputError
from wms.inventory_types import Condition
from wms.ledger import Ledger
from wms.returns.csvio import ReturnLine
from wms.returns.disposition import Disposition, choose_disposition
from wms.returns.grading import grade_inspection
from wms.returns.inspection import Inspection
from wms.returns.policy import PolicyError, ReturnsPolicy, destination_kind


@dataclass(frozen=True, slots=True)
class ReturnOutcome:
    return_id: str
    sku: str
    qty: int
    category: str
    grade: Condition
    disposition: Disposition
    destination: str
    unit_value: float
    recovered_value: float
    reasons: tuple[str, ...]
    movement_id: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "return_id": self.return_id,
            "sku": self.sku,
            "qty": self.qty,
            "category": self.category,
            "grade": self.grade.value,
            "disposition": self.disposition.value,
            "destination": self.destination,
            "unit_value": round(self.unit_value, 2),
            "recovered_value": round(self.recovered_value, 2),
            "reasons": list(self.reasons),
            "movement_id": self.movement_id,
        }


def assess(inspection: Inspection, policy: ReturnsPolicy, destination: str) -> ReturnOutcome:
    """Grade and disposition of one inspection (pure: no ledger)."""
    graded = grade_inspection(inspection, policy)
    choice = choose_disposition(inspection, graded.grade, policy)
    return ReturnOutcome(
        return_id=inspection.return_id,
        sku=inspection.sku,
        qty=inspection.qty,
        category=inspection.category,
        grade=graded.grade,
        disposition=choice.disposition,
        destination=destination,
        unit_value=choice.unit_value,
        recovered_value=choice.unit_value * inspection.qty,
        reasons=(*graded.reasons, choice.reason),
        movement_id=None,
    )


class _DryRun(Exception):
    """Raised inside the transaction to roll a checked-but-not-booked batch back."""


def process_returns(
    lines: Sequence[ReturnLine],
    policy: ReturnsPolicy,
    ledger: Ledger | None = None,
    *,
    book: bool = True,
) -> list[ReturnOutcome]:
    if ledger is None:
        return [assess(_standalone(line), policy, _target(policy, line, None)) for line in lines]
    outcomes: list[ReturnOutcome] = []
    try:
        with ledger.transaction():
            outcomes = [_book(ledger, policy, line) for line in lines]
            if not book:
                raise _DryRun
    except _DryRun:
        return [_unbooked(o) for o in outcomes]
    return outcomes


def _book(ledger: Ledger, policy: ReturnsPolicy, line: ReturnLine) -> ReturnOutcome:
    try:
        record = ledger.sku(line.sku)
        if line.category is not None and line.category.lower() != record.category.lower():
            raise InputError(
                line.where,
                f"category {line.category!r} differs from the ledger's {record.category!r} "
                f"for SKU {line.sku!r}",
            )
        inspection = _inspection(
            line,
            record.category,
            line.new_price if line.new_price is not None else record.unit_price,
        )
        outcome = assess(inspection, policy, "")
        destination = _target(policy, line, ledger, outcome)
        movement = ledger.return_in(
            line.sku, destination, line.qty, outcome.grade, ref=line.return_id
        )
    except PolicyError:
        raise
    except InputError as error:
        if error.source == line.where:
            raise
        raise type(error)(line.where, f"{error.source}: {error.problem}") from None
    return _with(outcome, destination=destination, movement_id=movement)


def _target(
    policy: ReturnsPolicy,
    line: ReturnLine,
    ledger: Ledger | None,
    outcome: ReturnOutcome | None = None,
) -> str:
    """The location a graded unit goes to: the policy's id, or a location of the policy's kind."""
    if outcome is None:
        inspection = _standalone(line)
        outcome = assess(inspection, policy, "")
    key = outcome.disposition.value
    target = policy.destinations[key]
    if ledger is None:
        return target
    kind = destination_kind(target)
    where = f"{policy.source}: destinations.{key}"
    if kind is None:
        if target not in {r.location_id for r in ledger.locations()}:
            raise PolicyError(where, f"location {target!r} is not in the ledger")
        return target
    candidates = [r.location_id for r in ledger.locations(kind)]
    if not candidates:
        raise PolicyError(where, f"the ledger has no {kind.value} location")
    holding = {
        r.location_id: r.on_hand
        for r in ledger.stock(sku=line.sku)
        if r.condition is outcome.grade and r.location_id in set(candidates)
    }
    if holding:
        return max(sorted(holding), key=lambda loc: holding[loc])
    load = Counter({loc: 0 for loc in candidates})
    for row in ledger.stock():
        if row.location_id in load:
            load[row.location_id] += row.on_hand
    return min(sorted(load), key=lambda loc: load[loc])


def _standalone(line: ReturnLine) -> Inspection:
    if line.category is None:
        raise InputError(line.where, "column category: required when no ledger is used")
    if line.new_price is None:
        raise InputError(line.where, "column new_price: required when no ledger is used")
    return _inspection(line, line.category, line.new_price)


def _inspection(line: ReturnLine, category: str, new_price: float) -> Inspection:
    return Inspection(
        return_id=line.return_id,
        sku=line.sku,
        category=category,
        new_price=new_price,
        reason=line.reason,
        packaging=line.packaging,
        cosmetic=line.cosmetic,
        functional=line.functional,
        missing_parts=line.missing_parts,
        qty=line.qty,
    )


def _with(outcome: ReturnOutcome, **changes: Any) -> ReturnOutcome:
    return replace(outcome, **changes)


def _unbooked(outcome: ReturnOutcome) -> ReturnOutcome:
    return _with(outcome, movement_id=None)


def summarise_outcomes(outcomes: Sequence[ReturnOutcome]) -> dict[str, Any]:
    grades = Counter(o.grade.value for o in outcomes)
    dispositions = Counter(o.disposition.value for o in outcomes)
    return {
        "returns": len(outcomes),
        "units": sum(o.qty for o in outcomes),
        "recovered_value": round(sum(o.recovered_value for o in outcomes), 2),
        "grades": dict(sorted(grades.items())),
        "dispositions": dict(sorted(dispositions.items())),
    }
