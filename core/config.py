"""The one strict, typed reader of TOML files: configs, scenarios, policies.

A file's shape is a frozen dataclass whose fields are its tables and keys, with
type hints saying what each value must be; `load` checks a parsed table against
it and builds the dataclass. What it guarantees, for every file read this way:

- an unknown key is an error (a typo such as ``rack_lenght`` is never ignored),
  and so is an unknown top-level section: the document dataclass lists them all;
- a value of the wrong type is an error naming the expected type; a missing key
  takes the field's default, and a field without a default is required;
- every error is one `ConfigError` line: ``file: line N: section.key: problem``.

Supported hints: ``bool``, ``int``, ``float`` (finite), ``str``, an `enum.Enum`
(by value), `Path` (relative to the file's folder), ``X | None`` (absent keys
are None), unions of scalars (``str | int``), ``tuple[X, ...]`` and fixed
``tuple[X, Y]`` (TOML arrays), ``Mapping[K, X]`` (a table of free keys; ``K``
``str`` or an enum whose members the keys must name), a type with a ``parse``
classmethod (a string it turns into a value or refuses with ``ValueError``),
``Any`` (kept as parsed) and nested dataclasses (tables, arrays of tables). A
hint may carry constraints through ``Annotated``: `Positive`, `AtLeast`,
`Between`, `ExistingFile`. Checks that involve several keys go in the
dataclass's ``validate(self, where)`` method, which `load` calls with the
table's `Where` after building it; a dataclass whose constructor refuses its
values (``ValueError``) is reported at its table.

Why one loader: three hand-written styles (getters per key, a per-file helper
class, per-section ``from_section`` loops) had drifted apart in what they
checked and how they worded it; one reader driven by the dataclasses checks
every file the same way and cannot forget a key.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import os
import re
import tomllib
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin, get_type_hints

from core.errors import ConfigError, InputError, dotted
from core.files import MiB, read_input_bytes

T = TypeVar("T")
PathPart = str | int
MAX_FILE_BYTES = 16 * MiB


# --- where a value is ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Where:
    """A value's place: its file, its key path in the file and (if known) the file's lines.

    ``str(where)`` is the prefix of every error about it: ``file: line N: a.b[2].c``.
    """

    file: str = ""
    path: tuple[PathPart, ...] = ()
    lines: TomlLines | None = field(default=None, compare=False, repr=False)

    def __truediv__(self, part: PathPart) -> Where:
        return Where(self.file, (*self.path, part), self.lines)

    @property
    def line(self) -> int | None:
        """The line of the path or of its nearest table in the file; None if none is in it."""
        return self.lines.find(self.path) if self.lines is not None else None

    @property
    def folder(self) -> Path:
        """What relative paths in the file are relative to."""
        return Path(self.file).parent if self.file else Path(".")

    @property
    def key(self) -> str:
        """The last name on the path (``kind`` for ``faults[1].kind``)."""
        names = [part for part in self.path if isinstance(part, str)]
        return names[-1] if names else ""

    def error(self, problem: str) -> ConfigError:
        return ConfigError(self.file, self.path, problem, self.line)

    def __str__(self) -> str:
        parts = [self.file] if self.file else []
        line = self.line
        if line is not None and self.file:
            parts.append(f"line {line}")
        if self.path:
            parts.append(dotted(self.path))
        return ": ".join(parts)


def section_where(where: str | Where) -> Where:
    """A `Where` from the ``"file.toml: a.b"`` text older callers pass (or a `Where`)."""
    if isinstance(where, Where):
        return where
    file, _, path = where.rpartition(": ")
    parts: list[PathPart] = []
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        parts.append(int(index) if index else name)
    return Where(file, tuple(parts))


# --- reading a file ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Document:
    """A parsed TOML file: its data and the `Where` of its root (with line numbers)."""

    data: dict[str, Any]
    where: Where


def read_toml(path: str | Path) -> Document:
    """Parse a TOML file whole (at most 16 MiB); every failure is one `InputError` line."""
    path = Path(path)
    raw = read_input_bytes(path, MAX_FILE_BYTES)
    try:
        text = raw.decode("utf-8")
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InputError(str(path), f"not valid TOML ({error})") from None
    except UnicodeDecodeError:
        raise InputError(str(path), "not valid TOML (not UTF-8 text)") from None
    except RecursionError:  # tomllib recurses once per level of nested arrays or tables
        raise InputError(
            str(path), "not valid TOML here (arrays or tables nested too deep)"
        ) from None
    return Document(data, Where(str(path), (), TomlLines(text)))


def load_file(kind: type[T], path: str | Path) -> T:
    """Read a TOML file and check it whole against the document dataclass ``kind``."""
    document = read_toml(path)
    return load(kind, document.data, document.where)


# --- constraints ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AtLeast:
    """A number not below ``minimum``."""

    minimum: float

    def check(self, value: Any, where: Where) -> None:
        if value < self.minimum:
            raise where.error(f"must be at least {self.minimum:g}, got {value:g}")


@dataclass(frozen=True)
class Between:
    """A number in ``low..high`` (both included)."""

    low: float
    high: float
    what: str = ""

    def check(self, value: Any, where: Where) -> None:
        if not self.low <= value <= self.high:
            what = f"{self.what} " if self.what else ""
            raise where.error(f"must be {what}in {self.low:g}..{self.high:g}, got {value:g}")


@dataclass(frozen=True)
class _Positive:
    def check(self, value: Any, where: Where) -> None:
        if value <= 0:
            raise where.error(f"must be positive, got {value:g}")


@dataclass(frozen=True)
class _ExistingFile:
    def check(self, value: Any, where: Where) -> None:
        if not Path(value).is_file():
            raise where.error(f"file not found: {value}")


Positive = _Positive()
"""A number above 0."""
ExistingFile = _ExistingFile()
"""A `Path` naming a file that exists."""
Percent = Between(0, 100, "a percentage")
"""A number in 0..100."""


# --- checking a value against a hint -------------------------------------------------------------


def load(kind: Any, value: Any, where: Where | str = Where()) -> Any:
    """``value`` checked against the type hint ``kind`` (a dataclass for a table).

    Raises `ConfigError` (an `InputError`) naming ``where`` and the key for any
    value that does not fit; nothing else escapes for any parsed TOML ``value``.
    """
    where = section_where(where)
    kind, constraints = _split(kind)
    result = _convert(kind, value, where)
    for constraint in constraints:
        constraint.check(result, where)
    return result


def _convert(kind: Any, value: Any, where: Where) -> Any:
    origin = get_origin(kind)
    if origin is Union or origin is types.UnionType:
        return _union(kind, value, where)
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        return _dataclass(kind, value, where)
    if origin is tuple:
        return _tuple(get_args(kind), value, where)
    if origin in (Mapping, dict, typing.Mapping) or kind in (Mapping, dict):
        return _mapping(get_args(kind), value, where)
    if kind is Any:
        return value
    if kind is bool:
        if not isinstance(value, bool):
            raise where.error(f"must be true or false, got {value!r}")
        return value
    if kind is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise where.error(f"must be an integer, got {value!r}")
        return value
    if kind is float:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise where.error(f"must be a number, got {value!r}")
        if not math.isfinite(value):
            raise where.error(f"must be a finite number, got {value!r}")
        return float(value)
    if kind is str:
        if not isinstance(value, str):
            raise where.error(f"must be a string, got {value!r}")
        return value
    if kind is Path:
        text = _convert(str, value, where)
        path = Path(text)
        return path if path.is_absolute() else Path(os.path.normpath(where.folder / path))
    parse = getattr(kind, "parse", None)
    if isinstance(kind, type) and callable(parse):
        try:
            return parse(_convert(str, value, where))
        except ValueError as error:
            raise where.error(str(error)) from None
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        try:
            return kind(value)
        except ValueError:
            known = " | ".join(str(member.value) for member in kind)
            what = where.key or "value"
            raise where.error(f"unknown {what} {value!r} (known: {known})") from None
    raise TypeError(f"core.config cannot read a {kind!r} ({where})")  # a programming error


_NAMES = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
_PLURALS = {bool: "booleans", int: "integers", float: "numbers", str: "strings"}


def _name(kind: Any) -> str:
    return _NAMES.get(kind, getattr(kind, "__name__", str(kind)))


def _split(kind: Any) -> tuple[Any, tuple[Any, ...]]:
    """``Annotated[X, c1, c2]`` → ``(X, (c1, c2))``; any other hint → ``(hint, ())``."""
    if get_origin(kind) is Annotated:
        base, *constraints = get_args(kind)
        return base, tuple(constraints)
    return kind, ()


def _union(kind: Any, value: Any, where: Where) -> Any:
    options = [arg for arg in get_args(kind) if arg is not type(None)]
    if len(options) == 1:
        return load(options[0], value, where)
    for option in options:  # unions of scalars: the first whose type takes the value
        base, constraints = _split(option)
        try:
            result = _convert(base, value, where)
        except ConfigError:
            continue
        for constraint in constraints:  # its range errors are the ones to report
            constraint.check(result, where)
        return result
    names = " or ".join(_name(_split(option)[0]) for option in options)
    raise where.error(f"must be {names}, got {value!r}")


def _tuple(args: tuple[Any, ...], value: Any, where: Where) -> tuple[Any, ...]:
    if len(args) == 2 and args[1] is Ellipsis:
        if not isinstance(value, list):
            if dataclasses.is_dataclass(args[0]):
                shown = f"[[{dotted(where.path)}]]"
                raise where.error(f"must be an array of tables ({shown}), got {_toml_type(value)}")
            raise where.error(f"must be an array, got {value!r}")
        return tuple(load(args[0], item, where / i) for i, item in enumerate(value))
    if not isinstance(value, list) or len(value) != len(args):
        same = len(set(args)) == 1 and args[0] in _PLURALS
        what = f"{len(args)} {_PLURALS[args[0]]}" if same else f"{len(args)} values"
        raise where.error(f"must be an array of {what}, got {value!r}")
    pairs = enumerate(zip(args, value, strict=True))
    return tuple(load(arg, item, where / i) for i, (arg, item) in pairs)


def _mapping(args: tuple[Any, ...], value: Any, where: Where) -> dict[Any, Any]:
    """A table of free keys; with enum keys, each key must name a member (`_key`)."""
    key_kind, inner = args if len(args) == 2 else (str, Any)
    table = _table(value, where)
    return {
        _key(key_kind, key, where): load(inner, item, where / key) for key, item in table.items()
    }


def _key(kind: Any, key: str, where: Where) -> Any:
    if kind is str:
        return key
    try:
        parse = getattr(kind, "parse", None)
        return parse(key) if parse is not None else kind(key)
    except ValueError:
        known = ", ".join(str(member.value) for member in kind)
        raise (where / key).error(f"unknown key (known: {known})") from None


def _table(value: Any, where: Where) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise where.error(f"must be a table, got {_toml_type(value)}")
    return value


def _toml_type(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list):
        return "an array" + (" of tables" if value and isinstance(value[0], Mapping) else "")
    return type(value).__name__


def load_onto(base: T, value: Any, where: Where | str = Where()) -> T:
    """Like `load` for a table that overrides some fields of ``base``: keys it does not
    name keep ``base``'s values (a category inheriting ``[categories.default]``)."""
    return _dataclass(type(base), value, section_where(where), base)


def _dataclass(kind: type[T], value: Any, where: Where, base: T | None = None) -> T:
    table = _table(value, where)
    inits = [f for f in dataclasses.fields(kind) if f.init]  # type: ignore[arg-type]
    names = [f.name for f in inits]
    for key in table:
        if key not in names:
            what = "section" if not where.path else "key"
            raise (where / key).error(f"unknown {what} (known: {', '.join(sorted(names))})")
    hints = _hints(kind)
    values = {}
    for f in inits:
        if f.name in table:
            values[f.name] = load(hints[f.name], table[f.name], where / f.name)
        elif base is not None:
            values[f.name] = getattr(base, f.name)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise (where / f.name).error("is required" if where.path else "section is required")
    try:
        result = kind(**values)
    except ValueError as error:
        raise where.error(str(error)) from None
    validate = getattr(result, "validate", None)
    if validate is not None:
        validate(where)
    return result


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(kind: type) -> dict[str, Any]:
    """The dataclass's resolved field hints (cached: resolving them parses annotations)."""
    hints = _HINTS.get(kind)
    if hints is None:
        hints = _HINTS[kind] = get_type_hints(kind, include_extras=True)
    return hints


def known_keys(kind: type) -> tuple[str, ...]:
    """The keys a dataclass's table takes, in field order (for documentation and tests)."""
    return tuple(f.name for f in dataclasses.fields(kind) if f.init)  # type: ignore[arg-type]


# --- line numbers --------------------------------------------------------------------------------

_KEY = r'(?:[A-Za-z0-9_-]+|"[^"\\]*"|\'[^\']*\')'
_DOTTED = rf"{_KEY}(?:\s*\.\s*{_KEY})*"
_ARRAY_HEADER = re.compile(rf"^\s*\[\[\s*({_DOTTED})\s*\]\]\s*(?:#.*)?$")
_TABLE_HEADER = re.compile(rf"^\s*\[\s*({_DOTTED})\s*\]\s*(?:#.*)?$")
_KEY_LINE = re.compile(rf"^\s*({_DOTTED})\s*=(.*)$")
_KEY_PART = re.compile(_KEY)


class TomlLines:
    """The line (from 1) where each table and key of one TOML text is, by path.

    `tomllib` gives no line numbers. Paths are those of the parsed data:
    ``("scenario", "seed")``, ``("faults", 2, "robot")`` for the third
    ``[[faults]]`` table. This is a locator for error messages, not a parser:
    the text has already parsed, so it only has to tell headers and keys from
    values, which it does by tracking brackets and strings across lines (a
    ``[[12, 5]]`` inside a multi-line array is not a header).
    """

    def __init__(self, text: str) -> None:
        self._lines: dict[tuple[PathPart, ...], int] = {}
        self._arrays: dict[tuple[PathPart, ...], int] = {}
        self._scan(text)

    def line_of(self, path: Sequence[PathPart]) -> int:
        """Line of ``path``, else of its longest known prefix, else 1.

        An element of a multi-line value (``cells[3]``) reports its key's line;
        a missing key reports its table's header.
        """
        return self.find(path) or 1

    def find(self, path: Sequence[PathPart]) -> int | None:
        """Line of ``path`` or of its longest known prefix; None when no part is in the text."""
        key = tuple(path)
        for end in range(len(key), 0, -1):
            line = self._lines.get(key[:end])
            if line is not None:
                return line
        return None

    def _resolve(self, names: list[str]) -> tuple[PathPart, ...]:
        """Header names with the current index after each array of tables (``[faults.x]``)."""
        resolved: list[PathPart] = []
        for name in names:
            resolved.append(name)
            count = self._arrays.get(tuple(resolved))
            if count is not None:
                resolved.append(count - 1)
        return tuple(resolved)

    def _scan(self, text: str) -> None:
        table: tuple[PathPart, ...] = ()
        depth = 0
        quote: str | None = None
        for number, line in enumerate(text.splitlines(), start=1):
            rest = line
            if depth == 0 and quote is None:
                if match := _ARRAY_HEADER.match(line):
                    names = _key_parts(match.group(1))
                    array = (*self._resolve(names[:-1]), names[-1])
                    self._arrays[array] = self._arrays.get(array, 0) + 1
                    table = (*array, self._arrays[array] - 1)
                    self._lines.setdefault(array, number)
                    self._lines.setdefault(table, number)
                    continue
                if match := _TABLE_HEADER.match(line):
                    table = self._resolve(_key_parts(match.group(1)))
                    self._lines.setdefault(table, number)
                    continue
                if match := _KEY_LINE.match(line):
                    names = _key_parts(match.group(1))
                    for end in range(1, len(names) + 1):
                        self._lines.setdefault((*table, *names[:end]), number)
                    rest = match.group(2)
            depth, quote = _scan_value(rest, depth, quote)


def _key_parts(dotted_key: str) -> list[str]:
    return [part.strip("\"'") for part in _KEY_PART.findall(dotted_key)]


def _scan_value(text: str, depth: int, quote: str | None) -> tuple[int, str | None]:
    """Bracket depth and the open multi-line string quote after ``text``; comments skipped."""
    i = 0
    while i < len(text):
        if quote is not None:
            if text.startswith(quote, i):
                i, quote = i + len(quote), None
            else:
                i += 2 if quote == '"""' and text[i] == "\\" else 1
            continue
        char = text[i]
        if char == "#":
            break
        if text.startswith(('"""', "'''"), i):
            quote, i = text[i : i + 3], i + 3
            continue
        if char in "\"'":
            i = _string_end(text, i)
            continue
        depth += 1 if char in "[{" else -1 if char in "]}" else 0
        i += 1
    return max(depth, 0), quote


def _string_end(text: str, start: int) -> int:
    """Index just past the one-line string whose opening quote is at ``start``."""
    quote = text[start]
    i = start + 1
    while i < len(text):
        if quote == '"' and text[i] == "\\":
            i += 2
        elif text[i] == quote:
            return i + 1
        else:
            i += 1
    return len(text)
