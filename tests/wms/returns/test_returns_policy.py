"""Strict parsing of the returns policy: every malformed file names the key at fault."""

from __future__ import annotations

from pathlib import Path

import pytest

from wms.errors import InputError
from wms.inventory_types import Condition
from wms.returns import DEFAULT_POLICY, PolicyError, load_policy

TEXT = DEFAULT_POLICY.read_text(encoding="utf-8")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_policy_loads_with_inheritance() -> None:
    """Listed categories override default; unlisted categories use default."""
    policy = load_policy()
    assert policy.category("hygiene").hygiene_seal
    assert not policy.category("hygiene").requires_functional_test
    assert policy.category("electronics").requires_functional_test
    assert policy.category("Electronics") == policy.category("electronics")
    assert policy.category("garden") == policy.default
    assert policy.prices[Condition.NEW] == 1.0


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("[prices]", "[pricez]", "pricez"),
        ("USED_GOOD = 0.50", "USED_GOOD = 1.50", "prices.USED_GOOD"),
        ("USED_GOOD = 0.50", "USED_GOOD = 0.70", "prices"),
        ("USED_GOOD = 0.50", 'USED_GOOD = "half"', "prices.USED_GOOD"),
        ("USED_GOOD = 0.50\n", "", "prices.USED_GOOD"),
        ("UNSELLABLE = 0.0", "UNSELLABLE = 0.01", "prices.UNSELLABLE"),
        ("hygiene_seal = true", "hygiene_seel = true", "categories.hygiene.hygiene_seel"),
        ("hygiene_seal = true", 'hygiene_seal = "yes"', "categories.hygiene.hygiene_seal"),
        (
            'refurbished_grade = "USED_LIKE_NEW"',
            'refurbished_grade = "MINT"',
            "categories.electronics.refurbished_grade",
        ),
        ("handling = 1.50", "handling = -1.0", "costs.handling"),
        ("liquidation_share = 0.12", "liquidation_share = 2", "costs.liquidation_share"),
        ("destroy_cost = 1.00\n", "", "costs.destroy_cost"),
        ('restock_new = "reserve"', 'restock_new = ""', "destinations.restock_new"),
        ('destroy = "dock"', 'destroy = "dock"\nburn = "dock"', "destinations.burn"),
        ('light_wear = "USED_VERY_GOOD"', 'light_wear = "SHINY"', "cosmetic.light_wear"),
        ("[categories.default]", "[categories.standard]", "categories.default"),
        (
            "refurbish_share = 0.15",
            "refurbish_share = 3.0",
            "categories.electronics.refurbish_share",
        ),
        ("[costs]", "[costs]\n[costs.extra]", "costs.extra"),
        ("[prices]", "[prices", "not valid TOML"),
    ],
)
def test_malformed_policy_names_the_key(tmp_path: Path, old: str, new: str, key: str) -> None:
    """A malformed policy raises PolicyError (an InputError) whose one line names the key."""
    assert old in TEXT
    path = write(tmp_path, TEXT.replace(old, new, 1))
    with pytest.raises(InputError) as caught:
        load_policy(path)
    message = str(caught.value)
    assert key in message and str(path) in message and "\n" not in message
    if "TOML" not in key:
        assert isinstance(caught.value, PolicyError)


def test_missing_policy_file(tmp_path: Path) -> None:
    """A policy path that does not exist is an input error naming the path."""
    with pytest.raises(InputError, match="file not found"):
        load_policy(tmp_path / "absent.toml")
