"""The one TOML loader: every refusal is one `ConfigError` line naming file, section and key."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.config import (
    AtLeast,
    ExistingFile,
    Percent,
    Positive,
    Where,
    load,
    load_file,
    load_onto,
    read_toml,
)
from core.errors import ConfigError, InputError


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclass(frozen=True)
class Rule:
    id: str
    weight: float = 1.0


@dataclass(frozen=True)
class Limits:
    speed: Annotated[float, Positive] = 1.0
    count: Annotated[int, AtLeast(1)] = 2


@dataclass(frozen=True)
class Part:
    name: str
    size: int = 3
    share: Annotated[float, Percent] = 50.0
    colour: Colour = Colour.RED
    enabled: bool = True
    station: str | int | None = None
    cells: tuple[tuple[int, int], ...] = ()
    limits: Limits = Limits()
    rules: tuple[Rule, ...] = ()
    data: Path | None = None


@dataclass(frozen=True)
class Crossed:
    low: int = 1
    high: int = 2

    def validate(self, where: Where) -> None:
        if self.low >= self.high:
            raise (where / "low").error("must be below high")


@dataclass(frozen=True)
class Document:
    part: Part
    crossed: Crossed = Crossed()
    free: dict[str, int] | None = None


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    return path


def refusal(tmp_path: Path, text: str) -> ConfigError:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_file(Document, path)
    message = str(caught.value)
    assert "\n" not in message
    return caught.value


def test_a_full_document_reads_as_typed_values(tmp_path: Path) -> None:
    """Scalars, enums, unions, cells, nested tables, arrays of tables and paths are converted."""
    (tmp_path / "d.csv").write_text("x\n")
    path = write(
        tmp_path,
        '[part]\nname = "a"\nsize = 4\nshare = 10\ncolour = "blue"\nenabled = false\n'
        'station = 2\ncells = [[1, 2], [3, 4]]\ndata = "d.csv"\n'
        "[part.limits]\nspeed = 2\n[[part.rules]]\nid = 'r1'\n[[part.rules]]\nid = 'r2'\n"
        "weight = 3\n[free]\nx = 1\n",
    )
    document = load_file(Document, path)
    part = document.part
    assert (part.name, part.size, part.share, part.colour) == ("a", 4, 10.0, Colour.BLUE)
    assert part.enabled is False and part.station == 2
    assert part.cells == ((1, 2), (3, 4))
    assert part.limits == Limits(speed=2.0) and isinstance(part.limits.speed, float)
    assert part.rules == (Rule("r1"), Rule("r2", 3.0))
    assert part.data == tmp_path / "d.csv"
    assert document.crossed == Crossed() and document.free == {"x": 1}


def test_unknown_key_names_file_line_section_and_key(tmp_path: Path) -> None:
    """A misspelt key is refused at its line, with the keys that are known."""
    error = refusal(tmp_path, '[part]\nname = "a"\nsiez = 4\n')
    assert str(error).startswith(f"{tmp_path / 'c.toml'}: line 3: part.siez: unknown key (known: ")
    assert (error.file, error.line, error.section, error.key) == (
        str(tmp_path / "c.toml"),
        3,
        "part",
        "siez",
    )


def test_unknown_section_is_refused(tmp_path: Path) -> None:
    """A top-level table the document does not list is an unknown section."""
    error = refusal(tmp_path, '[part]\nname = "a"\n[bogus]\nx = 1\n')
    assert "line 3: bogus: unknown section (known: crossed, free, part)" in str(error)
    assert error.section == "bogus" and error.key == ""


def test_wrong_type_names_the_expected_type(tmp_path: Path) -> None:
    """A string where an integer belongs says which type was expected and what was given."""
    error = refusal(tmp_path, '[part]\nname = "a"\nsize = "four"\n')
    assert "line 3: part.size: must be an integer, got 'four'" in str(error)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[part]\nname = "a"\nenabled = 1\n', "part.enabled: must be true or false, got 1"),
        ('[part]\nname = "a"\nsize = true\n', "part.size: must be an integer, got True"),
        ('[part]\nname = "a"\nshare = nan\n', "part.share: must be a finite number, got nan"),
        ('[part]\nname = "a"\nshare = 101\n', "part.share: must be a percentage in 0..100"),
        ("[part]\nname = 3\n", "part.name: must be a string, got 3"),
        ('[part]\nname = "a"\ncolour = "green"\n', "unknown colour 'green' (known: red | blue)"),
        ('[part]\nname = "a"\nstation = 1.5\n', "must be a string or an integer, got 1.5"),
        ('[part]\nname = "a"\ncells = [[1, 2], [3]]\n', "part.cells[1]: must be an array of 2"),
        ('[part]\nname = "a"\ncells = 5\n', "part.cells: must be an array, got 5"),
        ('[part]\nname = "a"\ndata = 3\n', "part.data: must be a string, got 3"),
        ("part = 3\n", "part: must be a table, got int"),
        ('[part]\nname = "a"\n[part.limits]\nspeed = 0\n', "part.limits.speed: must be positive"),
        ('[part]\nname = "a"\n[part.limits]\ncount = 0\n', "part.limits.count: must be at least 1"),
        ('[part]\nname = "a"\n[[part.rules]]\nweight = 2\n', "line 3: part.rules[0].id: is"),
        ('[part]\nname = "a"\n[free]\nx = "y"\n', "line 4: free.x: must be an integer"),
    ],
)
def test_each_bad_value_is_one_line(tmp_path: Path, text: str, problem: str) -> None:
    """Types, ranges, enums, unions, arrays, nested tables: each refusal names its key."""
    assert problem in str(refusal(tmp_path, text))


def test_missing_required_key_names_its_table(tmp_path: Path) -> None:
    """A key without a default must be given; the error points at its table's header."""
    error = refusal(tmp_path, "[crossed]\nlow = 1\n\n[part]\nsize = 2\n")
    assert "line 4: part.name: is required" in str(error)
    error = refusal(tmp_path, "[crossed]\nlow = 1\n")
    assert str(error) == f"{tmp_path / 'c.toml'}: part: section is required"  # no line: absent


def test_nested_tables_name_the_full_path(tmp_path: Path) -> None:
    """An unknown key two tables down is named with both tables."""
    error = refusal(tmp_path, '[part]\nname = "a"\n[part.limits]\nspeeed = 2\n')
    assert "line 4: part.limits.speeed: unknown key (known: count, speed)" in str(error)
    assert (error.section, error.key) == ("part", "limits.speeed")


def test_validate_checks_keys_together(tmp_path: Path) -> None:
    """A dataclass's ``validate`` runs after the types and names the key it refuses."""
    error = refusal(tmp_path, '[part]\nname = "a"\n[crossed]\nlow = 5\nhigh = 3\n')
    assert "line 4: crossed.low: must be below high" in str(error)


def test_a_table_from_no_file_names_the_section_only() -> None:
    """Sections handed over as dicts (tests, other readers) are named by their path."""
    with pytest.raises(ConfigError, match=r"^part\.size: must be an integer"):
        load(Part, {"name": "a", "size": "x"}, Where(path=("part",)))
    with pytest.raises(ConfigError, match=r"^c\.toml: part\.limits\.speed: must be positive"):
        load(Part, {"name": "a", "limits": {"speed": -1}}, "c.toml: part")


def test_not_toml_is_one_input_error(tmp_path: Path) -> None:
    """Text that does not parse, or is not UTF-8, is refused naming the file."""
    path = write(tmp_path, "[part\n")
    with pytest.raises(InputError, match="not valid TOML"):
        read_toml(path)
    path.write_bytes(b"\xff\xfe[part]")
    with pytest.raises(InputError, match="not UTF-8"):
        read_toml(path)


def test_existing_file_constraint(tmp_path: Path) -> None:
    """`ExistingFile` refuses a path that names no file."""

    @dataclass(frozen=True)
    class Named:
        file: Annotated[Path, ExistingFile]

    with pytest.raises(ConfigError, match="file: file not found"):
        load(Named, {"file": "nope.csv"}, Where(str(tmp_path / "c.toml")))


class Grade(enum.Enum):
    GOOD = "GOOD"
    BAD = "BAD"

    @classmethod
    def parse(cls, text: str) -> Grade:
        """Case-insensitive, as the returns grades are."""
        try:
            return cls[text.upper()]
        except KeyError:
            raise ValueError(f"unknown grade {text!r}") from None


def test_enum_keys_and_parse_classmethods() -> None:
    """Free-key tables may be keyed by an enum; a type's ``parse`` reads its strings."""
    assert load(dict[Grade, Grade], {"good": "bad"}) == {Grade.GOOD: Grade.BAD}
    with pytest.raises(ConfigError, match=r"^t\.toml: prices\.shiny: unknown key \(known: GOOD"):
        load(dict[Grade, float], {"shiny": 1.0}, "t.toml: prices")
    with pytest.raises(ConfigError, match=r"^t\.toml: grades\.good: unknown grade 'mint'"):
        load(dict[Grade, Grade], {"good": "mint"}, "t.toml: grades")


def test_load_onto_keeps_the_base_for_keys_not_named() -> None:
    """An overriding table changes only what it names; its keys are checked all the same."""
    base = Limits(speed=3.0, count=5)
    assert load_onto(base, {"count": 7}) == Limits(speed=3.0, count=7)
    with pytest.raises(ConfigError, match=r"^c\.toml: limits\.sped: unknown key"):
        load_onto(base, {"sped": 1}, "c.toml: limits")


toml_scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
)
toml_values = st.recursive(
    toml_scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(["name", "size", "x", "limits", "rules"]), inner)
    ),
    max_leaves=12,
)
document_dicts = st.dictionaries(
    st.sampled_from(["part", "crossed", "free", "bogus"]),
    st.one_of(
        toml_values,
        st.fixed_dictionaries(
            {},
            optional={
                key: toml_values
                for key in ("name", "size", "share", "colour", "cells", "limits", "rules", "low")
            },
        ),
    ),
)


@settings(max_examples=300, deadline=None)
@given(document_dicts)
def test_random_documents_raise_only_config_errors(data: dict[str, Any]) -> None:
    """Whatever TOML-shaped data comes in, the loader returns a document or a ConfigError."""
    try:
        document = load(Document, data, Where("fuzz.toml"))
    except ConfigError as error:
        assert "\n" not in str(error) and str(error).startswith("fuzz.toml: ")
    else:
        assert isinstance(document.part.name, str)
        assert math.isfinite(document.part.share)
