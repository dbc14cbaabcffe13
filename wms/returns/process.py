"""A batch of returns: grade, choose a disposition, pick a destination, book into the ledger.

With a ledger the whole batch is one transaction: every SKU must be known and
sold (the ledger refuses a return for a SKU it never picked), and one bad row
rolls back every row before it, so a file is booked entirely or not at all.
Without a ledger the batch is graded only (the destination is the policy's
location kind) — useful to try a policy on a spreadsheet of inspections.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from wms.errors import InputError
from wms.inventory_types import Condition
from wms.ledger import Ledger
from wms.returns.csvio import ReturnLine
from wms.returns.destinations import DestinationPicker
from wms.returns.disposition import Disposition, choose_disposition
from wms.returns.grading import grade_inspection
from wms.returns.inspection import Inspection
from wms.returns.policy import PolicyError, ReturnsPolicy


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
    progress: Callable[[int], object] | None = None,
) -> list[ReturnOutcome]:
    """Grade every line; with a ledger, book them all in one transaction (or none).

    ``progress`` is called with 1 after each booked line (a progress bar's ``update``).
    """
    if ledger is None:
        outcomes = [assess(_standalone(line), policy, "") for line in lines]
        return [_with(o, destination=policy.destinations[o.disposition.value]) for o in outcomes]
    booked: list[ReturnOutcome] = []
    try:
        with ledger.transaction():
            picker = DestinationPicker(ledger, policy)
            for line in lines:
                booked.append(_book(ledger, policy, picker, line))
                if progress is not None:
                    progress(1)
            if not book:
                raise _DryRun
    except _DryRun:
        return [_with(o, movement_id=None) for o in booked]
    return booked


def _book(
    ledger: Ledger, policy: ReturnsPolicy, picker: DestinationPicker, line: ReturnLine
) -> ReturnOutcome:
    try:
        record = ledger.sku(line.sku)
        if line.category is not None and line.category.lower() != record.category.lower():
            raise InputError(
                line.where,
                f"category {line.category!r} differs from the ledger's {record.category!r} "
                f"for SKU {line.sku!r}",
            )
        price = line.new_price if line.new_price is not None else record.unit_price
        outcome = assess(_inspection(line, record.category, price), policy, "")
        destination = picker.pick(outcome.disposition, line.sku, outcome.grade)
        movement = ledger.return_in(
            line.sku, destination, line.qty, outcome.grade, ref=line.return_id
        )
        picker.booked(destination, line.sku, outcome.grade, line.qty)
    except PolicyError:
        raise
    except InputError as error:
        if error.source == line.where:
            raise
        raise type(error)(line.where, f"{error.source}: {error.problem}") from None
    return _with(outcome, destination=destination, movement_id=movement)


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
