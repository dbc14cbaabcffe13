"""Grading and disposition tables for each category policy in configs/returns_policy.toml."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wms.inventory_types import Condition
from wms.returns import (
    Cosmetic,
    Disposition,
    FunctionalTest,
    Inspection,
    Packaging,
    ReturnReason,
    assess,
    disposition_options,
    grade_inspection,
    load_policy,
)

POLICY = load_policy()
N, LN, VG, G, A, U = (
    Condition.NEW,
    Condition.USED_LIKE_NEW,
    Condition.USED_VERY_GOOD,
    Condition.USED_GOOD,
    Condition.USED_ACCEPTABLE,
    Condition.UNSELLABLE,
)


def inspect(
    category: str,
    packaging: str = "intact",
    cosmetic: str = "as_new",
    functional: str = "pass",
    missing: int = 0,
    reason: str = "unwanted_item",
    price: float = 50.0,
) -> Inspection:
    return Inspection(
        return_id="R",
        sku="S",
        category=category,
        new_price=price,
        reason=ReturnReason.parse(reason),
        packaging=Packaging.parse(packaging),
        cosmetic=Cosmetic.parse(cosmetic),
        functional=FunctionalTest.parse(functional),
        missing_parts=missing,
    )


# (category, packaging, cosmetic, functional, missing, reason, price) -> grade, disposition
TABLE = [
    # default rules (general, and any unlisted category)
    (("general",), N, Disposition.RESTOCK_NEW),
    (("general", "intact", "as_new", "not_tested"), N, Disposition.RESTOCK_NEW),
    (("general", "intact", "as_new", "not_tested", 0, "defective"), U, Disposition.REFURBISH),
    (("general", "opened"), LN, Disposition.RELIST_USED),
    (("general", "damaged"), VG, Disposition.RELIST_USED),
    (("general", "intact", "light_wear"), VG, Disposition.RELIST_USED),
    (("general", "intact", "moderate_wear"), G, Disposition.RELIST_USED),
    (("general", "intact", "heavy_wear"), A, Disposition.REFURBISH),
    (("general", "intact", "damaged"), U, Disposition.REFURBISH),
    (("general", "intact", "as_new", "pass", 2), A, Disposition.REFURBISH),
    (("general", "intact", "as_new", "fail", 0, "defective"), U, Disposition.REFURBISH),
    (("general", "opened", "as_new", "pass", 0, "unwanted_item", 2.0), LN, Disposition.DESTROY),
    (("garden", "opened"), LN, Disposition.RELIST_USED),
    # hygiene: unsellable once the seal is broken, never refurbished, donated or liquidated
    (("hygiene",), N, Disposition.RESTOCK_NEW),
    (("hygiene", "opened"), U, Disposition.DESTROY),
    (("hygiene", "damaged"), U, Disposition.DESTROY),
    (("hygiene", "intact", "light_wear"), VG, Disposition.RELIST_USED),
    # electronics: no resale without a passed functional test
    (("electronics", "intact", "as_new", "pass", 0, "unwanted_item", 100.0), N, "restock_new"),
    (("electronics", "intact", "as_new", "not_tested", 0, "unwanted_item", 100.0), U, "refurbish"),
    (("electronics", "opened", "light_wear", "pass", 0, "unwanted_item", 100.0), VG, "relist_used"),
    (("electronics", "opened", "as_new", "fail", 0, "defective", 100.0), U, "refurbish"),
    (("electronics", "intact", "as_new", "fail", 0, "defective", 10.0), U, "liquidate"),
    # apparel: tried on with tags is still new; missing belt is only USED_GOOD
    (("apparel", "opened"), N, Disposition.RESTOCK_NEW),
    (("apparel", "intact", "as_new", "pass", 1), G, Disposition.RELIST_USED),
    # books: not refurbishable; a torn wrapper is only like-new
    (("books", "damaged"), LN, Disposition.RELIST_USED),
    (("books", "intact", "damaged"), U, Disposition.LIQUIDATE),
    # toys: an incomplete set cannot be resold
    (("toys", "intact", "as_new", "pass", 1), U, Disposition.REFURBISH),
]


@pytest.mark.parametrize(("fields", "grade", "disposition"), TABLE)
def test_grading_table(fields: tuple, grade: Condition, disposition) -> None:
    """Each category policy grades and disposes of a return as the table says."""
    outcome = assess(inspect(*fields), POLICY, "x")
    assert outcome.grade is grade, outcome.reasons
    assert outcome.disposition is Disposition(disposition), outcome.reasons
    assert outcome.reasons


def test_reasons_explain_every_cap() -> None:
    """Every finding that lowered the grade appears among the reasons."""
    result = grade_inspection(
        inspect("general", "opened", "moderate_wear", "pass", 1, "missing_parts"), POLICY
    )
    assert result.grade is A
    text = " | ".join(result.reasons)
    assert "packaging opened" in text and "moderate wear" in text and "1 part(s)" in text


def test_hygiene_reason_names_the_category() -> None:
    """An opened hygiene item says why it is unsellable."""
    result = grade_inspection(inspect("hygiene", "opened"), POLICY)
    assert result.grade is U
    assert any("hygiene" in r and "opened" in r for r in result.reasons)


INSPECTIONS = st.builds(
    inspect,
    category=st.sampled_from(
        ["general", "hygiene", "electronics", "apparel", "books", "toys", "x"]
    ),
    packaging=st.sampled_from([p.name for p in Packaging]),
    cosmetic=st.sampled_from([c.name for c in Cosmetic]),
    functional=st.sampled_from([f.name for f in FunctionalTest]),
    missing=st.integers(min_value=0, max_value=3),
    reason=st.sampled_from([r.name for r in ReturnReason]),
    price=st.floats(min_value=0, max_value=5000, allow_nan=False),
)


@given(INSPECTIONS)
def test_disposition_is_the_best_allowed_value(inspection: Inspection) -> None:
    """The chosen disposition recovers at least as much as any other allowed one."""
    outcome = assess(inspection, POLICY, "x")
    options = disposition_options(inspection, outcome.grade, POLICY)
    assert outcome.disposition in options
    assert outcome.unit_value >= max(options.values()) - 1e-9
    assert outcome.recovered_value == pytest.approx(outcome.unit_value * inspection.qty)


@given(INSPECTIONS)
def test_category_rules_always_hold(inspection: Inspection) -> None:
    """Hygiene opened => unsellable; electronics untested => never resold as is; NEW => clean."""
    outcome = assess(inspection, POLICY, "x")
    if inspection.category == "hygiene" and inspection.packaging is not Packaging.INTACT:
        assert outcome.grade is U
        assert outcome.disposition in (Disposition.RECYCLE, Disposition.DESTROY)
    if inspection.category == "electronics" and inspection.functional is not FunctionalTest.PASS:
        assert outcome.disposition not in (Disposition.RESTOCK_NEW, Disposition.RELIST_USED)
    if inspection.functional is FunctionalTest.FAIL:
        assert outcome.grade is U
    if outcome.grade is N:
        assert inspection.cosmetic is Cosmetic.AS_NEW and inspection.missing_parts == 0
        assert outcome.disposition is Disposition.RESTOCK_NEW or inspection.new_price < 5
