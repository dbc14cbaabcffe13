"""The returns policy: grade prices, costs, category rules and destinations, from TOML.

Parsing is strict (`core.config`): an unknown key, a missing grade price, a
share outside [0, 1] or a grade name that is not on the ladder is a
`PolicyError` naming the file, line and full key
(``returns_policy.toml: line 52: categories.hygiene.hygiene_seal``), because a
typo in a policy silently changes money decisions.

Every category inherits ``[categories.default]`` and overrides what it names;
a category the file does not list is graded by the default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any

from core.config import AtLeast, Between, Where, known_keys, load, load_onto, read_toml
from wms.errors import InputError
from wms.inventory_types import Condition, LocationKind
from wms.returns.inspection import Cosmetic

DEFAULT_POLICY = Path(__file__).resolve().parents[2] / "configs" / "returns_policy.toml"

Share = Annotated[float, Between(0.0, 1.0, "a share")]
Money = Annotated[float, AtLeast(0.0)]


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
    refurbish_share: Share | None = None
    refurbish_fixed: Money | None = None


@dataclass(frozen=True, slots=True)
class Costs:
    """Per-unit money in the currency of ``new_price`` (shares are of the new price)."""

    handling: Money
    relist: Money
    refurbish_share: Share
    refurbish_fixed: Money
    liquidation_share: Share
    donation_share: Share
    recycle_value: float
    """Negative when recycling costs money."""
    destroy_cost: Money


@dataclass(frozen=True, slots=True)
class Destinations:
    """Where each disposition sends a unit: a location kind or a location id."""

    restock_new: str
    relist_used: str
    refurbish: str
    liquidate: str
    donate: str
    recycle: str
    destroy: str

    def validate(self, where: Where) -> None:
        """Called by `core.config.load`."""
        for key in known_keys(Destinations):
            if not getattr(self, key).strip():
                raise (where / key).error("must name a location kind or a location id")


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


DISPOSITION_KEYS = known_keys(Destinations)

_DEFAULT_COSMETIC = {
    Cosmetic.AS_NEW: Condition.NEW,
    Cosmetic.LIGHT_WEAR: Condition.USED_VERY_GOOD,
    Cosmetic.MODERATE_WEAR: Condition.USED_GOOD,
    Cosmetic.HEAVY_WEAR: Condition.USED_ACCEPTABLE,
    Cosmetic.DAMAGED: Condition.UNSELLABLE,
}


@dataclass(frozen=True)
class PolicyFile:
    """The sections of a policy file. Every category inherits ``[categories.default]``
    (required) and overrides what it names, so categories are read in `parse_policy`."""

    prices: Mapping[Condition, Share]
    costs: Costs
    destinations: Destinations
    categories: Mapping[str, Any]
    cosmetic: Mapping[Cosmetic, Condition] = field(default_factory=dict)

    def validate(self, where: Where) -> None:
        """Called by `core.config.load`: every grade has a price, better sells for more."""
        prices = where / "prices"
        for grade in Condition:
            if grade not in self.prices:
                raise (prices / grade.value).error("is required")
        ranked = [self.prices[g] for g in Condition]
        if any(better < worse for better, worse in pairwise(ranked)):
            raise prices.error("a better grade must not sell for less than a worse one")
        if self.prices[Condition.UNSELLABLE] != 0.0:
            raise (prices / "UNSELLABLE").error("an unsellable unit has no resale price (0.0)")
        if "default" not in self.categories:
            raise (where / "categories" / "default").error("section is required")


def load_policy(path: str | Path | None = None) -> ReturnsPolicy:
    path = Path(path) if path is not None else DEFAULT_POLICY
    document = read_toml(path)
    return parse_policy(document.data, document.where)


def parse_policy(data: Mapping[str, Any], source: str | Where) -> ReturnsPolicy:
    """Validate a parsed TOML document into a policy; errors (`PolicyError`) name the key."""
    try:
        where = source if isinstance(source, Where) else Where(source)
        sections = load(PolicyFile, data, where)
        categories = where / "categories"
        default = load_onto(
            CategoryPolicy(), sections.categories["default"], categories / "default"
        )
        named = {
            name.lower(): load_onto(default, table, categories / name)
            for name, table in sections.categories.items()
            if name != "default"
        }
    except InputError as error:
        raise PolicyError(error.source, error.problem) from None
    return ReturnsPolicy(
        where.file,
        dict(sections.prices),
        _DEFAULT_COSMETIC | dict(sections.cosmetic),
        sections.costs,
        {key: text.strip() for key, text in asdict(sections.destinations).items()},
        default,
        named,
    )


def destination_kind(target: str) -> LocationKind | None:
    """A destination naming a location kind (``reserve``) rather than a location id."""
    try:
        return LocationKind.parse(target)
    except ValueError:
        return None
