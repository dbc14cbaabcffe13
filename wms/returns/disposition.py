"""Grade → disposition by recovery value.

Every disposition the category allows for this grade is priced per unit
(resale or salvage income minus handling, listing and refurbishment costs);
the best net value wins, ties going to the disposition listed first (keep the
unit in the sellable flow rather than scrap it).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from wms.inventory_types import Condition
from wms.returns.inspection import Inspection
from wms.returns.policy import ReturnsPolicy


class Disposition(enum.Enum):
    RESTOCK_NEW = "restock_new"
    RELIST_USED = "relist_used"
    REFURBISH = "refurbish"
    LIQUIDATE = "liquidate"
    DONATE = "donate"
    RECYCLE = "recycle"
    DESTROY = "destroy"


@dataclass(frozen=True, slots=True)
class DispositionChoice:
    disposition: Disposition
    unit_value: float
    options: dict[Disposition, float]
    reason: str


def disposition_options(
    inspection: Inspection, grade: Condition, policy: ReturnsPolicy
) -> dict[Disposition, float]:
    """Net recovered value per unit of every disposition allowed here, in preference order."""
    category = policy.category(inspection.category)
    costs = policy.costs
    price = inspection.new_price
    options: dict[Disposition, float] = {}
    if grade is Condition.NEW:
        options[Disposition.RESTOCK_NEW] = price * policy.prices[grade] - costs.handling
    if grade.used:
        options[Disposition.RELIST_USED] = (
            price * policy.prices[grade] - costs.handling - costs.relist
        )
    if category.refurbishable and grade.rank > category.refurbished_grade.rank:
        options[Disposition.REFURBISH] = (
            price * policy.prices[category.refurbished_grade]
            - policy.refurbish_cost(category, price)
            - costs.handling
            - costs.relist
        )
    if category.liquidatable:
        options[Disposition.LIQUIDATE] = price * costs.liquidation_share - costs.handling
    if category.donatable and grade.sellable:
        options[Disposition.DONATE] = price * costs.donation_share - costs.handling
    if category.recyclable:
        options[Disposition.RECYCLE] = costs.recycle_value - costs.handling
    options[Disposition.DESTROY] = -costs.destroy_cost
    return options


def choose_disposition(
    inspection: Inspection, grade: Condition, policy: ReturnsPolicy
) -> DispositionChoice:
    options = disposition_options(inspection, grade, policy)
    best = max(options, key=lambda d: (round(options[d], 6), -list(Disposition).index(d)))
    others = ", ".join(f"{d.value} {v:.2f}" for d, v in options.items() if d is not best)
    reason = f"{best.value} recovers {options[best]:.2f} per unit" + (
        f" (vs {others})" if others else ""
    )
    return DispositionChoice(best, options[best], options, reason)
