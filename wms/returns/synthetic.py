"""A seeded stream of customer returns for a simulated day: what the dock receives.

Each return is one unit of a SKU the ledger has sold and not yet had back
(`wms.ledger.Ledger.return_in` refuses any other), with an inspection record
drawn from plausible shares: most returns are unwanted and intact, some are
defective, damaged in transit or missing parts. Grading and disposition are then
the policy's (`wms.returns.assess`), exactly as for a returns file.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from wms.ledger import Ledger
from wms.returns.inspection import Cosmetic, FunctionalTest, Inspection, Packaging, ReturnReason

_REASONS = (
    (ReturnReason.UNWANTED_ITEM, 0.5),
    (ReturnReason.DEFECTIVE, 0.2),
    (ReturnReason.NOT_AS_DESCRIBED, 0.12),
    (ReturnReason.DAMAGED_BY_CARRIER, 0.1),
    (ReturnReason.MISSING_PARTS, 0.08),
)
_PACKAGING = ((Packaging.INTACT, 0.55), (Packaging.OPENED, 0.35), (Packaging.DAMAGED, 0.1))
_COSMETIC = (
    (Cosmetic.AS_NEW, 0.5),
    (Cosmetic.LIGHT_WEAR, 0.25),
    (Cosmetic.MODERATE_WEAR, 0.12),
    (Cosmetic.HEAVY_WEAR, 0.08),
    (Cosmetic.DAMAGED, 0.05),
)


def _draw(rng: random.Random, shares: Sequence[tuple[object, float]]) -> object:
    values, weights = zip(*shares, strict=True)
    return rng.choices(values, weights=weights)[0]


def synthetic_returns(ledger: Ledger, count: int, seed: int = 0) -> list[Inspection]:
    """``count`` returns of sold SKUs (fewer if fewer sold units are outstanding), seeded.

    Ids are ``RMA-D0001`` …; a SKU is drawn in proportion to its sold-not-returned units.
    """
    rng = random.Random(seed)
    outstanding = {}
    records = {r.sku: r for r in ledger.skus()}
    for sku in sorted(records):
        units = ledger.sold_qty(sku) - ledger.returned_qty(sku)
        if units > 0:
            outstanding[sku] = units
    returns = []
    for i in range(count):
        if not outstanding:
            break
        skus = sorted(outstanding)
        sku = rng.choices(skus, weights=[outstanding[s] for s in skus])[0]
        outstanding[sku] -= 1
        if outstanding[sku] == 0:
            del outstanding[sku]
        reason = _draw(rng, _REASONS)
        functional = FunctionalTest.PASS
        if reason is ReturnReason.DEFECTIVE:
            functional = FunctionalTest.FAIL if rng.random() < 0.7 else FunctionalTest.PASS
        record = records[sku]
        returns.append(
            Inspection(
                return_id=f"RMA-D{i + 1:04d}",
                sku=sku,
                category=record.category,
                new_price=record.unit_price,
                reason=reason,  # type: ignore[arg-type]
                packaging=_draw(rng, _PACKAGING),  # type: ignore[arg-type]
                cosmetic=_draw(rng, _COSMETIC),  # type: ignore[arg-type]
                functional=functional,
                missing_parts=1 if reason is ReturnReason.MISSING_PARTS else 0,
            )
        )
    return returns
