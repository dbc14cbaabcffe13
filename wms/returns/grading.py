"""Inspection → grade on the ladder, with the reasons that set it.

Each finding caps the grade (packaging, cosmetic wear, missing parts, the
functional test, the category's rules); the grade is the worst cap, and every
cap that applied becomes a human-readable reason, so an inspector can see why
a unit came out USED_GOOD and not USED_VERY_GOOD.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from wms.inventory_types import Condition
from wms.returns.inspection import Cosmetic, FunctionalTest, Inspection, Packaging, ReturnReason
from wms.returns.policy import CategoryPolicy, ReturnsPolicy


@dataclass(frozen=True, slots=True)
class GradeResult:
    grade: Condition
    reasons: tuple[str, ...]


def grade_inspection(inspection: Inspection, policy: ReturnsPolicy) -> GradeResult:
    category = policy.category(inspection.category)
    caps = list(_caps(inspection, category, policy))
    grade = Condition.NEW
    for cap, _ in caps:
        grade = grade.worst(cap)
    reasons = [f"{why} (at best {cap.value})" for cap, why in caps if cap is not Condition.NEW]
    reasons += list(_notes(inspection))
    if not reasons:
        reasons.append("packaging intact, no wear, complete, nothing against resale as new")
    return GradeResult(grade, tuple(reasons))


def _caps(
    inspection: Inspection, category: CategoryPolicy, policy: ReturnsPolicy
) -> Iterator[tuple[Condition, str]]:
    """(best grade allowed, why) for every finding that limits the grade."""
    name = inspection.category
    if inspection.packaging is not Packaging.INTACT:
        state = inspection.packaging.name.lower()
        if category.hygiene_seal:
            yield Condition.UNSELLABLE, f"category {name!r} is unsellable once its seal is {state}"
        elif inspection.packaging is Packaging.OPENED:
            yield category.max_grade_opened, "packaging opened"
        else:
            yield category.max_grade_damaged_packaging, "packaging damaged"
    if inspection.cosmetic is not Cosmetic.AS_NEW:
        yield (
            policy.cosmetic[inspection.cosmetic],
            f"cosmetic condition {inspection.cosmetic.name.lower().replace('_', ' ')}",
        )
    if inspection.missing_parts > 0:
        yield category.missing_parts_grade, f"{inspection.missing_parts} part(s) missing"
    if inspection.functional is FunctionalTest.FAIL:
        yield Condition.UNSELLABLE, "failed the functional test"
    elif inspection.functional is FunctionalTest.NOT_TESTED:
        if category.requires_functional_test:
            yield (
                Condition.UNSELLABLE,
                f"category {name!r} needs a passed functional test before any resale",
            )
        elif inspection.reason is ReturnReason.DEFECTIVE:
            yield Condition.UNSELLABLE, "reported defective and not tested"


def _notes(inspection: Inspection) -> Iterator[str]:
    """Facts worth telling that do not cap the grade."""
    if inspection.reason is ReturnReason.DEFECTIVE and inspection.functional is FunctionalTest.PASS:
        yield "reported defective but passed the functional test"
    if inspection.reason is ReturnReason.MISSING_PARTS and inspection.missing_parts == 0:
        yield "reported missing parts but inspection found it complete"
    if inspection.reason is ReturnReason.DAMAGED_BY_CARRIER:
        yield "damaged by carrier: file a carrier claim"
