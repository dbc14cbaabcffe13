"""Wire mapping for frozen dataclasses: camelCase msgpack maps <-> typed objects.

Every message class is a frozen dataclass whose field types say what the wire
may hold. Instead of a hand-written parser per class (and the copy-paste that
brings), `wire_codec(cls)` compiles the field types once into a converter list,
so decoding a state message costs one dict lookup and one check per field.

Rules every class follows (they are the protocol's compatibility contract):

* the wire name is the camelCase of the attribute (``header_id`` -> ``headerId``)
  unless ``field(metadata={"wire": ...})`` says otherwise;
* a field with a default is optional on the wire; a field without one is required;
  an unset optional field (``None`` or an empty list) is left out of the encoded map,
  unless ``metadata={"always": True}`` (lists the standard requires, even if empty);
* unknown keys are ignored, so a newer peer may add optional fields;
* ints must be ints (``True`` is not an int), floats accept ints and must be finite,
  enums must be one of their values, ``metadata={"min":..., "max":...}`` bounds numbers,
  ``metadata={"one_of": (...)}`` limits a string (or each string of an array) to
  the listed values (the standard's enumerations kept as plain strings);
* ``metadata={"flatten": True}`` merges a nested dataclass's fields into the parent map
  (VDA 5050 puts the header fields at the top level of every message).
"""

from __future__ import annotations

import dataclasses
import enum
import math
import types
import typing
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from fleet.protocol.errors import ValidationError

Decoder = Callable[[Any], Any]
Encoder = Callable[[Any], Any]

MAX_ITEMS = 10_000
"""Upper bound on any list, so a hostile frame cannot ask for huge work."""


class _Invalid(Exception):
    """A problem found deep in a map; parents add their key on the way up.

    Paths are built only when something is wrong, so a valid message costs no
    string formatting at all.
    """

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.parts: list[str] = []


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@dataclasses.dataclass(frozen=True)
class _Field:
    attr: str
    wire: str
    required: bool
    flatten: bool
    always: bool
    scalar: bool
    decode: Decoder
    encode: Encoder
    default: Any
    exact: type | None = None
    """The one class a wire value of this field has when no conversion or bound applies
    (plain ``str``/``int``/``bool``/``float``): such a value is taken as it is, and any
    other goes through ``decode`` (which converts it or says what is wrong)."""


_FLATTEN, _ALWAYS, _OPTIONAL = 0, 1, 2
"""How a field is written: merged into the parent, always, or only when set."""


@dataclasses.dataclass(frozen=True)
class WireCodec:
    """Compiled converters for one dataclass.

    ``fields`` describes the mapping; the two plans are the same facts flattened into
    tuples, so the per-message loops unpack one tuple per field instead of reading
    attributes, and a scalar of the expected class costs one identity check.
    """

    cls: type
    fields: tuple[_Field, ...]
    defaults: tuple[tuple[str, Any], ...]
    decode_plan: tuple[tuple[str, str, bool, bool, type | None, Decoder], ...] = ()
    encode_plan: tuple[tuple[str, str, int, Encoder | None], ...] = ()

    def decode(self, value: Any, path: str) -> Any:
        """Decode a map; a problem raises ValidationError naming ``path.field[i]...``."""
        try:
            return self.decode_value(value)
        except _Invalid as invalid:
            where = path + "".join(reversed(invalid.parts))
            raise ValidationError(where, invalid.problem) from None

    def decode_value(self, value: Any) -> Any:
        if value.__class__ is not dict and not isinstance(value, Mapping):
            raise _Invalid(f"must be a map, got {_kind(value)}")
        values = dict(self.defaults)
        get = value.get
        for attr, wire, required, flatten, exact, decode in self.decode_plan:
            if flatten:
                values[attr] = decode(value)
                continue
            raw = get(wire, _MISSING)
            if raw.__class__ is exact and (exact is not float or raw - raw == 0.0):
                values[attr] = raw  # the expected class, finite if a float: nothing to check
                continue
            if raw is _MISSING or (raw is None and not required):
                if required:
                    invalid = _Invalid("is required")
                    invalid.parts.append("." + wire)
                    raise invalid
                continue
            try:
                values[attr] = decode(raw)
            except _Invalid as invalid:
                invalid.parts.append("." + wire)
                raise
        # Frozen dataclasses set each field through object.__setattr__, which dominates
        # decoding time; every field has been checked, so fill the instance directly.
        obj = object.__new__(self.cls)
        obj.__dict__.update(values)
        return obj

    def encode(self, obj: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        values = obj.__dict__
        for attr, wire, mode, encode in self.encode_plan:
            value = values[attr]
            if mode == _FLATTEN:
                out.update(encode(value))  # type: ignore[misc]
            elif mode == _ALWAYS or not (value is None or (value.__class__ is tuple and not value)):
                out[wire] = value if encode is None else encode(value)
        return out


_MISSING = object()


def _kind(value: Any) -> str:
    return "nil" if value is None else type(value).__name__


def brief(value: Any, limit: int = 40) -> str:
    """A short, escaped picture of a peer-supplied value for an error text.

    Only scalars are shown (strings cut to ``limit`` characters before ``repr``);
    a container is named by its type, so no error text ever walks a hostile value.
    """
    if isinstance(value, str | bytes):
        return repr(value[:limit]) + ("..." if len(value) > limit else "")
    if value is None or isinstance(value, bool | int | float):
        return repr(value)[:limit]
    return f"a {_kind(value)}"


def _bounded(check: Decoder, meta: Mapping[str, Any]) -> Decoder:
    low, high = meta.get("min"), meta.get("max")
    if low is None and high is None:
        return check

    def decode(value: Any) -> Any:
        number = check(value)
        if (low is not None and number < low) or (high is not None and number > high):
            raise _Invalid(f"{number!r} is outside [{low}, {high}]")
        return number

    return decode


def _one_of(check: Decoder, meta: Mapping[str, Any]) -> Decoder:
    allowed = meta.get("one_of")
    if allowed is None:
        return check
    values = frozenset(allowed)
    listed = ", ".join(allowed)

    def decode(value: Any) -> Any:
        text = check(value)
        if text not in values:
            raise _Invalid(f"must be one of {listed}, got {brief(text)}")
        return text

    return decode


def _decode_str(value: Any) -> str:
    if value.__class__ is not str and not isinstance(value, str):
        raise _Invalid(f"must be a string, got {_kind(value)}")
    return value


def _decode_int(value: Any) -> int:
    if value.__class__ is not int and (not isinstance(value, int) or isinstance(value, bool)):
        raise _Invalid(f"must be an integer, got {_kind(value)}")
    return value


def _decode_float(value: Any) -> float:
    if value.__class__ is float:
        if not math.isfinite(value):
            raise _Invalid(f"must be finite, got {value!r}")
        return value
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise _Invalid(f"must be a number, got {_kind(value)}")
    if not math.isfinite(value):
        raise _Invalid(f"must be finite, got {value!r}")
    return float(value)


def _decode_bool(value: Any) -> bool:
    if value is not True and value is not False:
        raise _Invalid(f"must be a boolean, got {_kind(value)}")
    return value


def _enum_decoder(cls: type[enum.Enum]) -> Decoder:
    by_value = {member.value: member for member in cls}
    allowed = ", ".join(by_value)

    def decode(value: Any) -> enum.Enum:
        if isinstance(value, str):
            member = by_value.get(value)
            if member is not None:
                return member
        raise _Invalid(f"must be one of {allowed}, got {brief(value)}")

    return decode


def _tuple_decoder(item: Decoder) -> Decoder:
    def decode(value: Any) -> tuple[Any, ...]:
        if not isinstance(value, list | tuple):
            raise _Invalid(f"must be an array, got {_kind(value)}")
        if len(value) > MAX_ITEMS:
            raise _Invalid(f"has {len(value)} items, more than {MAX_ITEMS}")
        out = []
        for i, v in enumerate(value):
            try:
                out.append(item(v))
            except _Invalid as invalid:
                invalid.parts.append(f"[{i}]")
                raise
        return tuple(out)

    return decode


def _scalar_encode(value: Any) -> Any:
    return value


def _enum_encode(value: enum.Enum) -> Any:
    return value.value


def _converters(tp: Any, meta: Mapping[str, Any]) -> tuple[Decoder, Encoder]:
    origin = typing.get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) != 1:
            raise TypeError(f"unsupported union {tp!r}")
        return _converters(args[0], meta)
    if origin is tuple:
        inner, _ellipsis = typing.get_args(tp)
        item_meta = {"one_of": meta["one_of"]} if "one_of" in meta else {}
        item_decode, item_encode = _converters(inner, item_meta)
        if item_encode is _scalar_encode:
            return _tuple_decoder(item_decode), list
        if item_encode is _enum_encode:
            return _tuple_decoder(item_decode), lambda v: [x.value for x in v]
        return _tuple_decoder(item_decode), lambda v: [item_encode(x) for x in v]
    if dataclasses.is_dataclass(tp):
        codec = wire_codec(tp)
        return codec.decode_value, codec.encode
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _enum_decoder(tp), _enum_encode
    scalar = {str: _decode_str, int: _decode_int, float: _decode_float, bool: _decode_bool}
    if tp in scalar:
        return _one_of(_bounded(scalar[tp], meta), meta), _scalar_encode
    if tp is Any:
        return _decode_any, _scalar_encode
    raise TypeError(f"unsupported field type {tp!r}")


_PLAIN = (str, int, float, bool, bytes, type(None))
_EXACT: dict[Decoder, type] = {
    _decode_str: str,
    _decode_int: int,
    _decode_float: float,
    _decode_bool: bool,
}
"""Unbounded scalar decoders and the class a value passes them unchanged with."""


def _decode_any(value: Any, depth: int = 0) -> Any:
    """Action parameter values: plain msgpack scalars, arrays and string-keyed maps only."""
    if depth > 16:
        raise _Invalid("nested too deeply")
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, list | tuple):
        return [_decode_any(v, depth + 1) for v in value]
    if isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            raise _Invalid("map keys must be strings")
        return {k: _decode_any(v, depth + 1) for k, v in value.items()}
    raise _Invalid(f"unsupported value type {_kind(value)}")


@cache
def wire_codec(cls: type) -> WireCodec:
    hints = typing.get_type_hints(cls)
    compiled = []
    for f in dataclasses.fields(cls):
        meta = f.metadata
        decode, encode = _converters(hints[f.name], meta)
        has_default = (
            f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        )
        compiled.append(
            _Field(
                attr=f.name,
                wire=meta.get("wire", camel(f.name)),
                required=not has_default,
                flatten=bool(meta.get("flatten", False)),
                always=bool(meta.get("always", False)),
                scalar=encode is _scalar_encode,
                decode=decode,
                encode=encode,
                default=f.default,
                exact=_EXACT.get(decode),
            )
        )
    defaults = tuple((f.attr, f.default) for f in compiled if not f.required and not f.flatten)
    decode_plan = tuple(
        (f.attr, f.wire, f.required, f.flatten, f.exact, f.decode) for f in compiled
    )
    encode_plan = tuple(
        (
            f.attr,
            f.wire,
            _FLATTEN if f.flatten else _ALWAYS if f.required or f.always else _OPTIONAL,
            None if f.scalar else f.encode,
        )
        for f in compiled
    )
    return WireCodec(cls, tuple(compiled), defaults, decode_plan, encode_plan)


def wire_names(cls: type) -> list[tuple[str, bool]]:
    """``(wire name, required)`` of each field, header fields included (for docs and tests)."""
    names = []
    for f in wire_codec(cls).fields:
        if f.flatten:
            names.extend(wire_names(typing.get_type_hints(cls)[f.attr]))
        else:
            names.append((f.wire, f.required))
    return names
