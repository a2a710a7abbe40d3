"""The method table of a hub class and argument binding.

Built once per hub class: which names clients may call, what each method's
parameters expect, and how to turn wire arguments into call arguments.
Look-up ignores case (§22 D4); a method is callable by its Python name and
by its PascalCase form (``send_message`` and ``SendMessage``), unless
``@hub_method(name=...)`` gives it an explicit wire name.
"""

from __future__ import annotations

import collections.abc
import inspect
import typing
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .conversion import ConversionError, Converter, converter_for, is_passthrough
from .errors import BindingError
from .hub import HUB_METHOD_ATTRIBUTE, Hub, HubMethodSettings

__all__ = ["HubMethod", "MethodTable", "method_table", "pascal_case"]

_RESERVED = frozenset(name for name in vars(Hub) if not name.startswith("__")) | frozenset(
    {"context", "clients", "groups"}
)


def pascal_case(name: str) -> str:
    """``send_message`` → ``SendMessage``."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part)


_STREAM_ORIGINS = (
    collections.abc.AsyncIterator,
    collections.abc.AsyncIterable,
    collections.abc.AsyncGenerator,
)


def _stream_item_type(annotation: Any) -> tuple[bool, Any]:
    """``(True, T)`` for ``AsyncIterator[T]``/``AsyncIterable[T]``/``AsyncGenerator[T, ...]``.

    Such a parameter is an upload stream (STR-5): the client fills it through
    ``streamIds``, not through ``arguments``; as a return annotation it marks a
    method that streams its results without being an async generator itself.
    """
    if annotation in _STREAM_ORIGINS:
        return True, Any
    if typing.get_origin(annotation) in _STREAM_ORIGINS:
        args = typing.get_args(annotation)
        return True, args[0] if args else Any
    return False, None


@dataclass(frozen=True, slots=True)
class _Parameter:
    name: str
    convert: Converter
    is_stream: bool = False
    """Filled from a client upload stream; ``convert`` then applies to each item."""


@dataclass(frozen=True, slots=True)
class HubMethod:
    """One client-callable method of a hub class."""

    name: str
    """The wire name used in logs: the explicit name, or the PascalCase form."""
    attribute: str
    """The Python attribute to call on a hub instance."""
    parameters: tuple[_Parameter, ...]
    required_count: int
    is_streaming: bool
    """An async generator: clients must use StreamInvocation for it (INV-9)."""
    stream_parameters: tuple[int, ...] = ()
    """Positions (in ``parameters``) of the upload-stream parameters, in order (STR-5)."""
    plain_parameters: tuple[_Parameter, ...] = ()
    """The parameters bound from ``arguments`` (all but the upload streams)."""
    passthrough: bool = False
    """No upload streams and no parameter converts: binding only checks the count."""
    copied_counts: frozenset[int] = frozenset()
    """Argument counts that bind by a plain copy: all valid ones when ``passthrough``."""

    @property
    def stream_converters(self) -> tuple[Converter, ...]:
        """Item converters of the upload streams, in the order ``streamIds`` map to them."""
        return tuple(self.parameters[index].convert for index in self.stream_parameters)

    def bind(self, arguments: Sequence[Any], *, per_argument_errors: bool) -> list[Any]:
        """Check the count and convert each argument, or raise ``BindingError``.

        ``per_argument_errors`` selects the MessagePack wording, which names the
        failing argument's index (MP-7); the JSON binder reports all at once.
        Upload-stream parameters take no argument; the caller inserts the
        streams at ``stream_parameters`` afterwards.
        """
        count = len(arguments)
        plain = self.plain_parameters
        if not self.required_count <= count <= len(plain):
            raise BindingError(
                f"Invocation provides {count} argument(s) but target expects {len(plain)}."
            )
        if self.passthrough:
            return list(arguments)
        bound: list[Any] = []
        for index, (parameter, value) in enumerate(zip(plain, arguments, strict=False)):
            try:
                bound.append(parameter.convert(value))
            except (ConversionError, TypeError, ValueError) as exc:
                what = f"argument {index}" if per_argument_errors else "arguments"
                raise BindingError(
                    f"Error binding {what}. Make sure that the types of the provided values "
                    "match the types of the hub method being invoked."
                ) from exc
        return bound


def _type_hints(function: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(function)
    except Exception:  # unresolvable forward references: those parameters go unconverted
        return {}


def _describe(attribute: str, function: Callable[..., Any], is_static: bool) -> HubMethod:
    settings: HubMethodSettings = getattr(function, HUB_METHOD_ATTRIBUTE, HubMethodSettings())
    hints = _type_hints(function)
    signature = inspect.signature(function)
    items = list(signature.parameters.values())
    if not is_static:
        items = items[1:]  # self
    parameters: list[_Parameter] = []
    required = 0
    for item in items:
        if item.kind in (item.VAR_POSITIONAL, item.VAR_KEYWORD) or (
            item.kind is item.KEYWORD_ONLY and item.default is item.empty
        ):
            raise TypeError(
                f"Hub method '{attribute}' has parameter '{item.name}' that clients cannot "
                "fill: only positional parameters are bound from an invocation"
            )
        if item.kind is item.KEYWORD_ONLY:
            continue
        annotation = hints.get(item.name, item.annotation)
        is_stream, item_type = _stream_item_type(annotation)
        if is_stream:
            parameters.append(_Parameter(item.name, converter_for(item_type), is_stream=True))
            continue
        plain_count = sum(1 for parameter in parameters if not parameter.is_stream)
        if item.default is item.empty:
            if plain_count > required:
                raise TypeError(f"Hub method '{attribute}': required parameter after optional")
            required += 1
        parameters.append(_Parameter(item.name, converter_for(annotation)))
    returns_stream, _ = _stream_item_type(hints.get("return", signature.return_annotation))
    passthrough = all(
        not parameter.is_stream and is_passthrough(parameter.convert) for parameter in parameters
    )
    return HubMethod(
        name=settings.name or pascal_case(attribute),
        attribute=attribute,
        parameters=tuple(parameters),
        required_count=required,
        is_streaming=inspect.isasyncgenfunction(function) or returns_stream,
        stream_parameters=tuple(
            index for index, parameter in enumerate(parameters) if parameter.is_stream
        ),
        plain_parameters=tuple(parameter for parameter in parameters if not parameter.is_stream),
        passthrough=passthrough,
        copied_counts=frozenset(range(required, len(parameters) + 1) if passthrough else ()),
    )


class MethodTable:
    """Case-insensitive name → ``HubMethod`` map for one hub class."""

    __slots__ = ("_methods", "methods")

    def __init__(self, hub_type: type[Hub]) -> None:
        found: dict[str, tuple[Callable[..., Any], bool]] = {}
        for cls in reversed(hub_type.__mro__):
            if cls is object or cls is Hub or not issubclass(cls, Hub):
                continue
            for attribute, value in vars(cls).items():
                if attribute.startswith("_") or attribute in _RESERVED:
                    found.pop(attribute, None)
                    continue
                if isinstance(value, staticmethod):
                    found[attribute] = (value.__func__, True)
                elif inspect.isfunction(value):
                    found[attribute] = (value, False)
                else:  # properties, class methods, constants, nested classes
                    found.pop(attribute, None)
        self._methods: dict[str, HubMethod] = {}
        methods: list[HubMethod] = []
        for attribute, (function, is_static) in found.items():
            settings = getattr(function, HUB_METHOD_ATTRIBUTE, None)
            if isinstance(settings, HubMethodSettings) and settings.hidden:
                continue
            method = _describe(attribute, function, is_static)
            methods.append(method)
            if isinstance(settings, HubMethodSettings) and settings.name:
                keys = {settings.name.lower()}
            else:
                keys = {attribute.lower(), method.name.lower()}
            for key in keys:
                other = self._methods.get(key)
                if other is not None and other is not method:
                    raise TypeError(
                        f"Duplicate definitions of '{method.name}' on {hub_type.__name__}. "
                        "Overloading is not supported."
                    )
                self._methods[key] = method
        self.methods: tuple[HubMethod, ...] = tuple(methods)

    def lookup(self, target: str) -> HubMethod | None:
        return self._methods.get(target.lower())

    def names(self) -> list[tuple[str, HubMethod]]:
        """Every name ``lookup`` knows (lowercased) with the method it finds."""
        return list(self._methods.items())


_TABLES: weakref.WeakKeyDictionary[type[Hub], MethodTable] = weakref.WeakKeyDictionary()


def method_table(hub_type: type[Hub]) -> MethodTable:
    """The (cached) method table of ``hub_type``; errors in the class surface here."""
    table = _TABLES.get(hub_type)
    if table is None:
        table = _TABLES[hub_type] = MethodTable(hub_type)
    return table
