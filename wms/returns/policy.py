"""The returns policy: grade prices, costs, category rules and destinations, from TOML.

Parsing is strict: an unknown key, a missing grade price, a share outside
[0, 1] or a grade name that is not on the ladder is an `InputError` naming the
full key (``returns_policy.toml: categories.hygiene.hygiene_seal``), because a
typo in a policy silently changes money decisions.

Every category inherits ``[categories.default]`` and overrides what it names;
a category the file does not list is graded by the default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from itertools import pairwise
from pathlib import Path
from typing import Any

from wms.config_tables import check_keys, get_float, get_str, read_toml, require_table
from wms.errors import InputError
from wms.inventory_types import Condition, LocationKind
from wms.returns.inspection import Cosmetic

DEFAULT_POLICY = Path(__file__).resolve().parents[2] / "configs" / "returns_policy.toml"


class PolicyError(InputError):
    """A malformed returns policy file."""


@dataclass(frozen=True, slots=True)
class CategoryPolicy:
    """Grading rules for one product category."""

    hygiene_seal: bool = False
    requires_functional_test: bool = False
    refurbishable: bool = True
    refurbished_grade: Condition = Condition.USED_VERY_GOOD
    max_grade_opened: Condition = Condition.USED_LIKE_NEW
    max_grade_damaged_packaging: Condition = Condition.USED_VERY_GOOD
    missing_parts_grade: Condition = Condition.USED_ACCEPTABLE
    donatable: bool = True
    recyclable: bool = True
    liquidatable: bool = True
    refurbish_share: float | None = None
    refurbish_fixed: float | None = None


@dataclass(frozen=True, slots=True)
class Costs:
    """Per-unit money in the currency of ``new_price`` (shares are of the new price)."""

    handling: float
    relist: float
    refurbish_share: float
    refurbish_fixed: float
    liquidation_share: float
    donation_share: float
    recycle_value: float
    destroy_cost: float


@dataclass(frozen=True, slots=True)
class ReturnsPolicy:
    source: str
    prices: Mapping[Condition, float]
    cosmetic: Mapping[Cosmetic, Condition]
    costs: Costs
    destinations: Mapping[str, str]
    default: CategoryPolicy
    categories: Mapping[str, CategoryPolicy]

    def category(self, name: str) -> CategoryPolicy:
        return self.categories.get(name.strip().lower(), self.default)

    def refurbish_cost(self, category: CategoryPolicy, new_price: float) -> float:
        share = (
            category.refurbish_share
            if category.refurbish_share is not None
            else self.costs.refurbish_share
        )
        fixed = (
            category.refurbish_fixed
            if category.refurbish_fixed is not None
            else self.costs.refurbish_fixed
        )
        return share * new_price + fixed


DISPOSITION_KEYS = (
    "restock_new",
    "relist_used",
    "refurbish",
    "liquidate",
    "donate",
    "recycle",
    "destroy",
)
SHARE_KEYS = {"refurbish_share", "liquidation_share", "donation_share"}
_BOOL_KEYS = {f.name for f in fields(CategoryPolicy) if f.type in ("bool", bool)}
_GRADE_KEYS = {f.name for f in fields(CategoryPolicy) if f.type in ("Condition", Condition)}
_MONEY_KEYS = {"refurbish_share", "refurbish_fixed"}


def load_policy(path: str | Path | None = None) -> ReturnsPolicy:
    path = Path(path) if path is not None else DEFAULT_POLICY
    return parse_policy(read_toml(path), str(path))


def parse_policy(data: Mapping[str, Any], source: str) -> ReturnsPolicy:
    """Validate a parsed TOML document into a policy; errors name ``source: key``."""
    try:
        check_keys(data, ("prices", "cosmetic", "costs", "destinations", "categories"), source)
        for section in ("prices", "costs", "destinations", "categories"):
            if section not in data:
                raise PolicyError(f"{source}: {section}", "section is required")
        prices = _prices(require_table(data["prices"], f"{source}: prices"), f"{source}: prices")
        cosmetic = _cosmetic(data.get("cosmetic", {}), f"{source}: cosmetic")
        costs = _costs(require_table(data["costs"], f"{source}: costs"), f"{source}: costs")
        destinations = _destinations(data["destinations"], f"{source}: destinations")
        categories_table = require_table(data["categories"], f"{source}: categories")
        if "default" not in categories_table:
            raise PolicyError(f"{source}: categories.default", "section is required")
        where = f"{source}: categories"
        default = _category(categories_table["default"], CategoryPolicy(), f"{where}.default")
        categories = {
            name.lower(): _category(table, default, f"{where}.{name}")
            for name, table in categories_table.items()
            if name != "default"
        }
    except PolicyError:
        raise
    except InputError as error:
        raise PolicyError(error.source, error.problem) from None
    return ReturnsPolicy(source, prices, cosmetic, costs, destinations, default, categories)


def _prices(table: Mapping[str, Any], where: str) -> dict[Condition, float]:
    check_keys(table, [c.value for c in Condition], where)
    prices = {}
    for grade in Condition:
        share = get_float(table, grade.value, where)
        if not 0.0 <= share <= 1.0:
            raise PolicyError(f"{where}.{grade.value}", f"must be a share in [0, 1], got {share}")
        prices[grade] = share
    ranked = [prices[g] for g in Condition]
    if any(better < worse for better, worse in pairwise(ranked)):
        raise PolicyError(where, "a better grade must not sell for less than a worse one")
    if prices[Condition.UNSELLABLE] != 0.0:
        raise PolicyError(f"{where}.UNSELLABLE", "an unsellable unit has no resale price (0.0)")
    return prices


_DEFAULT_COSMETIC = {
    Cosmetic.AS_NEW: Condition.NEW,
    Cosmetic.LIGHT_WEAR: Condition.USED_VERY_GOOD,
    Cosmetic.MODERATE_WEAR: Condition.USED_GOOD,
    Cosmetic.HEAVY_WEAR: Condition.USED_ACCEPTABLE,
    Cosmetic.DAMAGED: Condition.UNSELLABLE,
}


def _cosmetic(value: Any, where: str) -> dict[Cosmetic, Condition]:
    table = require_table(value, where)
    check_keys(table, [c.name.lower() for c in Cosmetic], where)
    mapping = dict(_DEFAULT_COSMETIC)
    for key in table:
        mapping[Cosmetic[key.upper()]] = _grade(table, key, where)
    return mapping


def _costs(table: Mapping[str, Any], where: str) -> Costs:
    names = [f.name for f in fields(Costs)]
    check_keys(table, names, where)
    values = {}
    for name in names:
        value = get_float(table, name, where)
        if name in SHARE_KEYS and not 0.0 <= value <= 1.0:
            raise PolicyError(f"{where}.{name}", f"must be a share in [0, 1], got {value}")
        if name not in SHARE_KEYS and name != "recycle_value" and value < 0:
            raise PolicyError(f"{where}.{name}", f"must be >= 0, got {value}")
        values[name] = value
    return Costs(**values)


def _destinations(value: Any, where: str) -> dict[str, str]:
    table = require_table(value, where)
    check_keys(table, DISPOSITION_KEYS, where)
    out = {}
    for key in DISPOSITION_KEYS:
        text = get_str(table, key, where).strip()
        if not text:
            raise PolicyError(f"{where}.{key}", "must name a location kind or a location id")
        out[key] = text
    return out


def _category(value: Any, base: CategoryPolicy, where: str) -> CategoryPolicy:
    table = require_table(value, where)
    check_keys(table, [f.name for f in fields(CategoryPolicy)], where)
    changes: dict[str, Any] = {}
    for key, item in table.items():
        if key in _BOOL_KEYS:
            if not isinstance(item, bool):
                raise PolicyError(f"{where}.{key}", f"must be true or false, got {item!r}")
            changes[key] = item
        elif key in _GRADE_KEYS:
            changes[key] = _grade(table, key, where)
        elif key in _MONEY_KEYS:
            number = get_float(table, key, where)
            if number < 0 or (key == "refurbish_share" and number > 1):
                raise PolicyError(f"{where}.{key}", f"out of range: {number}")
            changes[key] = number
    return replace(base, **changes)


def _grade(table: Mapping[str, Any], key: str, where: str) -> Condition:
    text = get_str(table, key, where)
    try:
        return Condition.parse(text)
    except ValueError as error:
        raise PolicyError(f"{where}.{key}", str(error)) from None


def destination_kind(target: str) -> LocationKind | None:
    """A destination naming a location kind (``reserve``) rather than a location id."""
    try:
        return LocationKind.parse(target)
    except ValueError:
        return None
