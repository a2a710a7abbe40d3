"""Decoding one JSON object the way the reference's reader reports failures.

Shared by the ``json`` hub protocol and the handshake, which both start from
"this payload must be one JSON object". The C scanner decodes valid payloads
in one call; only a payload it rejects (or one that is not an object) is
looked at again, to tell "Unexpected JSON Token Type '...'" apart from
"Error reading JSON." and, for broken JSON, to let a wrongly typed property
that came *before* the break win, as it would in the reference's streaming
reader. Nesting deeper than 64 levels (the envelope counts) is
"Error reading JSON.".

Where ``orjson`` is installed (a dependency on CPython) it decodes first:
several times faster than the stdlib's scanner on payloads of a few
kilobytes (on a 100-byte invocation the digit-run check below takes most of
what it saves). Its answer is taken only when it is what the
stdlib would have produced: every payload it refuses goes the stdlib way
(lone surrogate escapes, numbers past the double range and all broken JSON,
whose error texts come from there), and so does any payload with a run of 19
digits, since orjson reads integers beyond 64 bits as floats where the
stdlib keeps them exact.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .errors import ProtocolError

_fast_loads: Callable[[bytes], Any] | None
try:
    from orjson import loads as _fast_loads
except ImportError:  # pragma: no cover - orjson is a dependency wherever it builds
    _fast_loads = None

__all__ = ["ERROR_READING_JSON", "MAX_DEPTH", "json_token_name", "load_json_object"]

MAX_DEPTH = 64
ERROR_READING_JSON = "Error reading JSON."
_WHITESPACE = " \t\n\r"


def _reject_constant(name: str) -> Any:
    """NaN and Infinity are not JSON; the reference's reader refuses them."""
    raise ValueError(f"invalid JSON literal {name}")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
# Neither name is in typeshed, but both are the stdlib's C implementations.
_scan_once: Callable[[str, int], tuple[Any, int]] = getattr(_DECODER, "scan_once")  # noqa: B009
_scanstring: Callable[[str, int], tuple[str, int]] = getattr(json.decoder, "scanstring")  # noqa: B009
_DECODE_ERRORS = (StopIteration, ValueError, RecursionError, IndexError)
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_DIGIT_RUN = b"0" * 19
"""Any integer of 19 digits or more may lie outside 64 bits (which orjson
would read as a float); shorter ones never do. Looked for with ``find``, not
``in``: ``bytes.__contains__`` first tries its argument as an integer, and the
TypeError it raises and drops costs more than the search itself."""


def json_token_name(text: str, index: int = 0) -> str | None:
    """The .NET ``JsonTokenType`` name of the value starting at ``index``.

    Used for "Unexpected JSON Token Type '...'" errors; ``None`` when the
    text does not start with any valid token.
    """
    if index >= len(text):
        return None
    first = text[index]
    if first == "{":
        return "Object"
    if first == "[":
        return "Array"
    if first == '"':
        return "String"
    if first == "-" or first.isdigit():
        return "Number"
    for literal, name in (("null", "Null"), ("true", "True"), ("false", "False")):
        if text.startswith(literal, index):
            return name
    return None


def _skip_whitespace(text: str, index: int) -> int:
    end = len(text)
    while index < end and text[index] in _WHITESPACE:
        index += 1
    return index


_SURELY_SHALLOW = 2 * MAX_DEPTH
"""No payload this short can nest past the limit (see ``_too_deep``)."""


def _too_deep(payload: bytes, value: Any) -> bool:
    """Whether ``value`` nests more than ``MAX_DEPTH`` containers.

    Each level needs an opening and a closing bracket, so a payload shorter
    than twice the limit cannot be too deep, nor one with no more brackets
    than the limit. Past that, ``_brackets_nest_shallowly`` settles nearly
    every real payload from its brackets alone, at C speed; only what it
    cannot vouch for is walked.
    """
    if len(payload) <= _SURELY_SHALLOW or payload.count(b"[") + payload.count(b"{") <= MAX_DEPTH:
        return False
    if _brackets_nest_shallowly(payload):
        return False
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        if type(item) is dict:
            stack.extend((child, depth + 1) for child in item.values() if _is_container(child))
        elif type(item) is list:
            stack.extend((child, depth + 1) for child in item if _is_container(child))
    return False


_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")


def _brackets_nest_shallowly(payload: bytes) -> bool:
    """True only if the payload's brackets nest at most ``MAX_DEPTH`` deep.

    A pass deletes the innermost pairs (``[]``, then ``{}``, with only
    non-brackets between them), which lowers the nesting by one at least and
    by two at most (one per ``replace``, which does not rescan what it made);
    so brackets gone within ``MAX_DEPTH // 2`` passes nest no deeper than the
    limit. Brackets inside strings only ever add to what is left, so a False
    here just means "walk the value to be sure".
    """
    brackets = payload.translate(None, _NOT_BRACKETS)
    for _ in range(MAX_DEPTH // 2):
        if not brackets:
            return True
        brackets = brackets.replace(b"[]", b"").replace(b"{}", b"")
    return not brackets


def _is_container(value: Any) -> bool:
    return type(value) is dict or type(value) is list


def load_json_object(
    payload: bytes,
    check_property: Callable[[str, Any], None] | None = None,
) -> dict[str, Any]:
    """Decode one payload that must be a JSON object.

    Raises ``ProtocolError`` with the reference texts: a non-object top level
    gives "Unexpected JSON Token Type '...'. Expected a JSON Object."; any
    syntax error gives "Error reading JSON.". If the JSON is broken but
    ``check_property`` rejects a property that came before the break, that
    error wins, as it would in a streaming reader.
    """
    if _fast_loads is not None and payload.translate(_DIGITS_AS_ZERO).find(_LONG_DIGIT_RUN) < 0:
        try:
            value = _fast_loads(payload)
        except ValueError:  # orjson.JSONDecodeError; the stdlib says which error it is
            pass
        else:
            if type(value) is dict and (
                len(payload) <= _SURELY_SHALLOW or not _too_deep(payload, value)
            ):
                return value
    try:
        text = payload.decode()
    except UnicodeDecodeError:
        raise ProtocolError(ERROR_READING_JSON) from None
    try:
        value, end = _scan_once(text, 0)
    except _DECODE_ERRORS:
        pass
    else:
        if end == len(text) and type(value) is dict:
            if _too_deep(payload, value):
                raise ProtocolError(ERROR_READING_JSON)
            return value
    return _load_json_object_slowly(payload, text, check_property)


def _load_json_object_slowly(
    payload: bytes, text: str, check_property: Callable[[str, Any], None] | None
) -> dict[str, Any]:
    start = _skip_whitespace(text, 0)
    token = json_token_name(text, start)
    if token is None:
        raise ProtocolError(ERROR_READING_JSON)
    if token != "Object":
        raise ProtocolError(f"Unexpected JSON Token Type '{token}'. Expected a JSON Object.")
    try:
        value, end = _scan_once(text, start)
        if _skip_whitespace(text, end) != len(text):
            raise ValueError("trailing data")
    except _DECODE_ERRORS:
        if check_property is not None:
            _check_properties_until_broken(text, start, check_property)
        raise ProtocolError(ERROR_READING_JSON) from None
    if _too_deep(payload, value):
        raise ProtocolError(ERROR_READING_JSON)
    assert type(value) is dict
    return value


def _check_properties_until_broken(
    text: str, index: int, check_property: Callable[[str, Any], None]
) -> None:
    """Walk a broken object's properties in order, checking each complete one.

    Returns at the first syntax error; the caller then reports that.
    """
    try:
        index = _skip_whitespace(text, index + 1)
        while index < len(text) and text[index] == '"':
            key, index = _scanstring(text, index + 1)
            index = _skip_whitespace(text, index)
            if text[index] != ":":
                return
            value, index = _scan_once(text, _skip_whitespace(text, index + 1))
            check_property(key, value)
            index = _skip_whitespace(text, index)
            if text[index] != ",":
                return
            index = _skip_whitespace(text, index + 1)
    except _DECODE_ERRORS:
        return
