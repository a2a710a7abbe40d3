"""Turning wire values into annotated Python types, and Python values into wire values.

The codecs hand over plain values (str, int, float, bool, None, list, dict,
bytes, datetime). Hub authors annotate parameters with richer types, so this
module builds, once per annotation, a converter that checks and converts a
wire value. Object keys are matched ignoring case and underscores, because
JS and .NET clients send ``camelCase`` (JSON) or ``PascalCase`` (.NET msgpack)
for fields that Python spells ``snake_case``.

In the other direction, ``to_wire`` reduces return values and ``send``
arguments to plain values. Dataclass fields are written with ``camelCase``
keys, as the .NET server's default JSON options do, so that client code
written against an ASP.NET Core hub finds the same property names (this is
also used for MessagePack, where .NET would use PascalCase; JS clients
written for JSON expect camelCase there too). Datetimes and bytes are left
to the codec (ISO string / base64 in JSON, timestamp ext / bin in msgpack).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import decimal
import enum
import functools
import types
import typing
import uuid
from collections.abc import Callable, Mapping, MutableMapping, MutableSequence, Sequence, Set
from typing import Any

__all__ = [
    "WIRE_READY",
    "ConversionError",
    "camel_case",
    "converter_for",
    "is_passthrough",
    "normalize_key",
    "to_wire",
]

Converter = Callable[[Any], Any]


class ConversionError(ValueError):
    """A wire value does not fit the annotated type."""


def normalize_key(name: str) -> str:
    """Key used to match object fields: ``userName``, ``UserName`` and ``user_name`` agree."""
    return name.replace("_", "").lower()


@functools.lru_cache(maxsize=1024)
def camel_case(name: str) -> str:
    """``user_name`` → ``userName``; names without underscores are kept as written."""
    head, *rest = name.strip("_").split("_")
    if not rest:
        return name
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _passthrough(value: Any) -> Any:
    return value


def is_passthrough(convert: Converter) -> bool:
    """Whether ``convert`` hands every value back unchanged (``Any``, no annotation)."""
    return convert is _passthrough


def _fail(value: Any, expected: str) -> ConversionError:
    return ConversionError(f"expected {expected}, got {type(value).__name__}")


def _to_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise _fail(value, "a string")


def _to_int(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise _fail(value, "an integer")


def _to_float(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise _fail(value, "a number")


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise _fail(value, "a boolean")


def _to_none(value: Any) -> None:
    if value is None:
        return None
    raise _fail(value, "null")


def _to_bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ConversionError("expected a base64 string") from exc
    raise _fail(value, "bytes or a base64 string")


def _to_datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError as exc:
            raise ConversionError("expected an ISO 8601 date and time") from exc
    raise _fail(value, "a date and time")


def _to_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError as exc:
            raise ConversionError("expected an ISO 8601 date") from exc
    raise _fail(value, "a date")


def _to_uuid(value: Any) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError as exc:
            raise ConversionError("expected a UUID") from exc
    raise _fail(value, "a UUID string")


def _to_decimal(value: Any) -> decimal.Decimal:
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        try:
            return decimal.Decimal(str(value))
        except decimal.InvalidOperation as exc:
            raise ConversionError("expected a decimal number") from exc
    raise _fail(value, "a number")


_SIMPLE: dict[Any, Converter] = {
    str: _to_str,
    int: _to_int,
    float: _to_float,
    bool: _to_bool,
    type(None): _to_none,
    None: _to_none,
    bytes: _to_bytes,
    bytearray: lambda value: bytearray(_to_bytes(value)),
    dt.datetime: _to_datetime,
    dt.date: _to_date,
    uuid.UUID: _to_uuid,
    decimal.Decimal: _to_decimal,
    Any: _passthrough,
    object: _passthrough,
}


def _enum_converter(enum_type: type[enum.Enum]) -> Converter:
    by_name = {member.name.lower(): member for member in enum_type}

    def convert(value: Any) -> enum.Enum:
        try:
            return enum_type(value)
        except ValueError:
            pass
        if isinstance(value, str) and value.lower() in by_name:
            return by_name[value.lower()]
        raise ConversionError(f"{value!r} is not a member of {enum_type.__name__}")

    return convert


def _union_converter(members: tuple[Any, ...]) -> Converter:
    converters = [(member, converter_for(member)) for member in members]

    def convert(value: Any) -> Any:
        # An exact type match wins, so ``float | int`` keeps an int an int.
        for member, member_converter in converters:
            if type(value) is member or (value is None and member is type(None)):
                return member_converter(value)
        for _, member_converter in converters:
            try:
                return member_converter(value)
            except ConversionError:
                continue
        raise ConversionError(f"{type(value).__name__} matches no member of the union")

    return convert


def _list_converter(item_type: Any, factory: Callable[[list[Any]], Any]) -> Converter:
    item = converter_for(item_type)

    def convert(value: Any) -> Any:
        if not isinstance(value, list | tuple):
            raise _fail(value, "an array")
        return factory([item(element) for element in value])

    return convert


def _fixed_tuple_converter(item_types: tuple[Any, ...]) -> Converter:
    items = [converter_for(item_type) for item_type in item_types]

    def convert(value: Any) -> tuple[Any, ...]:
        if not isinstance(value, list | tuple) or len(value) != len(items):
            raise _fail(value, f"an array of {len(items)} elements")
        return tuple(item(element) for item, element in zip(items, value, strict=True))

    return convert


def _dict_converter(key_type: Any, value_type: Any) -> Converter:
    key = converter_for(key_type)
    item = converter_for(value_type)

    def convert(value: Any) -> dict[Any, Any]:
        if not isinstance(value, Mapping):
            raise _fail(value, "an object")
        return {key(k): item(v) for k, v in value.items()}

    return convert


def _type_hints(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls)
    except Exception:  # unresolvable forward references: fall back to no conversion
        return {name: Any for name in getattr(cls, "__annotations__", {})}


def _dataclass_converter(cls: type) -> Converter:
    hints = _type_hints(cls)
    fields = [field for field in dataclasses.fields(cls) if field.init]
    plan = [
        (
            normalize_key(field.name),
            field.name,
            converter_for(hints.get(field.name, Any)),
            field.default is not dataclasses.MISSING
            or field.default_factory is not dataclasses.MISSING,
        )
        for field in fields
    ]

    def convert(value: Any) -> Any:
        if isinstance(value, cls):
            return value
        if not isinstance(value, Mapping):
            raise _fail(value, f"an object for {cls.__name__}")
        given = {normalize_key(str(k)): v for k, v in value.items()}
        kwargs: dict[str, Any] = {}
        for key, name, field_converter, optional in plan:
            if key in given:
                kwargs[name] = field_converter(given[key])
            elif not optional:
                raise ConversionError(f"missing property '{camel_case(name)}' of {cls.__name__}")
        return cls(**kwargs)

    return convert


def _typeddict_converter(cls: type) -> Converter:
    hints = _type_hints(cls)
    required: frozenset[str] = getattr(cls, "__required_keys__", frozenset(hints))
    plan = [(normalize_key(name), name, converter_for(tp)) for name, tp in hints.items()]

    def convert(value: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise _fail(value, f"an object for {cls.__name__}")
        given = {normalize_key(str(k)): v for k, v in value.items()}
        result: dict[str, Any] = {}
        for key, name, item in plan:
            if key in given:
                result[name] = item(given[key])
            elif name in required:
                raise ConversionError(f"missing property '{name}' of {cls.__name__}")
        return result

    return convert


def _literal_converter(choices: tuple[Any, ...]) -> Converter:
    def convert(value: Any) -> Any:
        for choice in choices:
            if value == choice and type(value) is type(choice):
                return choice
        raise ConversionError(f"{value!r} is not one of {choices!r}")

    return convert


def _instance_converter(cls: type) -> Converter:
    def convert(value: Any) -> Any:
        if isinstance(value, cls):
            return value
        raise _fail(value, cls.__name__)

    return convert


@functools.lru_cache(maxsize=1024)
def converter_for(annotation: Any) -> Converter:
    """The converter for one annotation, built once and cached.

    Unannotated parameters (``inspect.Parameter.empty``) and ``Any`` pass
    values through untouched.
    """
    simple = _SIMPLE.get(annotation)
    if simple is not None:
        return simple
    if isinstance(annotation, str) or annotation is typing.Any:
        return _passthrough
    if isinstance(annotation, typing.TypeVar):
        return _passthrough
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return converter_for(args[0])
    if origin is typing.Union or origin is types.UnionType:
        return _union_converter(args)
    if origin is typing.Literal:
        return _literal_converter(args)
    if origin in (list, Sequence, MutableSequence):
        return _list_converter(args[0] if args else Any, list)
    if origin in (set, frozenset, Set):
        factory: Callable[[list[Any]], Any] = frozenset if origin is frozenset else set
        return _list_converter(args[0] if args else Any, factory)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return _list_converter(args[0], tuple)
        return _fixed_tuple_converter(args) if args else _list_converter(Any, tuple)
    if origin in (dict, Mapping, MutableMapping):
        return _dict_converter(args[0] if args else Any, args[1] if args else Any)
    if annotation in (list, tuple, set, frozenset):
        return converter_for(annotation[Any, ...] if annotation is tuple else annotation[Any])
    if annotation is dict:
        return _dict_converter(Any, Any)
    if isinstance(annotation, type):
        if issubclass(annotation, enum.Enum):
            return _enum_converter(annotation)
        if dataclasses.is_dataclass(annotation):
            return _dataclass_converter(annotation)
        if typing.is_typeddict(annotation):
            return _typeddict_converter(annotation)
        if issubclass(annotation, dt.datetime):
            return _to_datetime
        return _instance_converter(annotation)
    return _passthrough


WIRE_READY: frozenset[type] = frozenset({type(None), str, int, float, bool, bytes})
"""Types whose values ``to_wire`` returns unchanged (and which are never awaitable)."""


def to_wire(value: Any) -> Any:
    """Reduce a Python value to plain wire values the codecs can write.

    Raises ``TypeError`` for values with no wire form, so a hub method that
    returns one fails with the usual invocation error instead of breaking
    the connection later, inside the codec.
    """
    if type(value) in WIRE_READY:
        return value
    if isinstance(value, enum.Enum):
        return to_wire(value.value)
    if isinstance(value, str | int | float):
        return value
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return float(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            camel_case(field.name): to_wire(getattr(value, field.name))
            for field in dataclasses.fields(value)
        }
    if isinstance(value, Mapping):
        return {str(to_wire(k)): to_wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_wire(item) for item in value]
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump):  # pydantic models, without depending on pydantic
        return to_wire(model_dump(by_alias=True))
    raise TypeError(f"Object of type {type(value).__name__} has no wire representation")
