"""``load_json_object`` with orjson in front must answer exactly as the
stdlib-only decoder does: same values (types included), same errors.

Each case runs twice, once as shipped and once with the fast decoder
switched off, and the two outcomes are compared in a strict neutral form
(``1`` and ``1.0`` and ``True`` all differ; key order counts).
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signalr_server.protocol import json_loading
from signalr_server.protocol.errors import ProtocolError
from signalr_server.protocol.json_loading import load_json_object

pytestmark = pytest.mark.skipif(
    json_loading._fast_loads is None, reason="orjson is not installed here"
)


def _strict(value: Any) -> Any:
    """Types and order made visible: the decoders must agree on both."""
    if isinstance(value, dict):
        return ("dict", [(key, _strict(item)) for key, item in value.items()])
    if isinstance(value, list):
        return ("list", [_strict(item) for item in value])
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, value)


def _outcome(payload: bytes, fast: bool, monkeypatch: pytest.MonkeyPatch) -> Any:
    fast_loads = json_loading._fast_loads
    with monkeypatch.context() as patch:
        if not fast:
            patch.setattr(json_loading, "_fast_loads", None)
        try:
            return _strict(load_json_object(payload))
        except ProtocolError as exc:
            return ("error", str(exc))
        finally:
            assert json_loading._fast_loads is (fast_loads if fast else None)


def _same_either_way(payload: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _outcome(payload, True, monkeypatch) == _outcome(payload, False, monkeypatch), payload


EDGE_CASES = [
    b'{"type":1,"invocationId":"1","target":"Echo","arguments":["x"]}',
    b'{"a":1,"a":2}',  # duplicate keys: the last wins
    b'{"a":"\\ud800"}',  # a lone surrogate escape: orjson refuses, the stdlib keeps it
    b'{"a":"\\ud83d\\ude00"}',
    b'{"a":NaN}',
    b'{"a":-Infinity}',
    b'{"a":1e400}',  # past the double range: the stdlib reads inf
    b'{"a":123456789012345678901234567890}',  # orjson would read this as a float
    b'{"a":-9223372036854775809}',
    b'{"a":18446744073709551615}',
    b'{"a":18446744073709551616}',
    b'{"a":9223372036854775807,"b":-9223372036854775808}',
    b'{"s":"1234567890123456789012345"}',  # a long digit run inside a string
    b'{"a":0.1,"b":-0.0,"c":-0,"d":1E5,"e":4.9e-324,"f":1.7976931348623157e308}',
    b'{"a":1.00000000000000000000001}',
    b'{"a":true,"b":false,"c":null,"d":[],"e":{}}',
    b'\xef\xbb\xbf{"a":1}',  # a byte order mark
    b' \t\r\n{"a":1} \n',
    b'{"a":"\x01"}',  # a raw control character
    b'{"a":"\xff"}',  # not UTF-8
    b'{"a":"\xed\xa0\x80"}',  # an encoded surrogate
    b'{"a":1}x',
    b'{"a":01}',
    b'{"a":[1,2,]}',
    b"[1,2]",
    b'"text"',
    b"",
    b'{"\\u00e9":"\xc3\xa9"}',
    b'{"a":' + b"[" * 63 + b"]" * 63 + b"}",  # at the nesting limit
    b'{"a":' + b"[" * 64 + b"]" * 64 + b"}",  # one past it
    b'{"a":' + b"[" * 5000 + b"]" * 5000 + b"}",  # past orjson's own limit
    b'{"a":' + b'{"b":' * 100_000,  # deep and broken
]


@pytest.mark.parametrize("payload", EDGE_CASES, ids=lambda payload: repr(payload[:40]))
def test_edge_cases_decode_as_the_stdlib_does(
    payload: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    _same_either_way(payload, monkeypatch)


def test_integers_past_64_bits_stay_exact() -> None:
    value = load_json_object(b'{"big":123456789012345678901234567890,"neg":-18446744073709551617}')
    assert value == {"big": 123456789012345678901234567890, "neg": -18446744073709551617}
    assert type(value["big"]) is int


_NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
)
_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), _NUMBERS, st.text(max_size=20)),
    lambda children: st.one_of(
        st.lists(children, max_size=5), st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.text(max_size=8), _VALUES, max_size=6), st.booleans())
def test_generated_objects_decode_as_the_stdlib_does(value: dict[str, Any], ascii: bool) -> None:
    payload = json.dumps(value, ensure_ascii=ascii).encode("utf-8", "surrogatepass")
    with pytest.MonkeyPatch.context() as monkeypatch:
        _same_either_way(payload, monkeypatch)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=60))
def test_arbitrary_bytes_in_an_object_decode_as_the_stdlib_does(noise: bytes) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        _same_either_way(b'{"a":' + noise + b"}", monkeypatch)
        _same_either_way(b'{"a":"' + noise + b'"}', monkeypatch)


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(item) for item in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(item) for item in value), default=0)
    return 0


def _nested(kinds: str, leaf: Any = 1, pad: str = "") -> Any:
    """Containers nested in the order ``kinds`` names them ('l' list, 'd' dict),
    each also holding ``pad`` (brackets in a string, when it has any)."""
    value = leaf
    for kind in reversed(kinds):
        value = [value, pad] if kind == "l" else {"k": value, "pad": pad}
    return value


@pytest.mark.parametrize(
    "kinds",
    ["d" + "l" * 63, "d" + "l" * 64, "d" + "dl" * 31 + "d", "d" + "ld" * 32, "dl" * 32, "dl" * 33],
)
@pytest.mark.parametrize("pad", ["", "[{"])
def test_the_nesting_limit_holds_for_any_mix_of_containers(kinds: str, pad: str) -> None:
    value = _nested(kinds, pad=pad)
    payload = json.dumps(value, separators=(",", ":")).encode()
    assert _depth(value) == len(kinds)
    if len(kinds) > json_loading.MAX_DEPTH:
        with pytest.raises(ProtocolError, match=r"^Error reading JSON\.$"):
            load_json_object(payload)
    else:
        assert load_json_object(payload) == value


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.text(alphabet="ld", min_size=1, max_size=90),
    st.lists(st.sampled_from(["[", "]", "{", "}", "[]", "{}", "a"]), max_size=8).map("".join),
    st.integers(min_value=1, max_value=40),
)
def test_the_bracket_shortcut_never_lets_a_deep_value_through(
    kinds: str, noise: str, width: int
) -> None:
    """``_too_deep`` with its bracket shortcut agrees with a plain depth count,
    also with brackets inside strings and many siblings."""
    value = {"wide": [_nested(kinds, noise, noise) for _ in range(width)], "noise": noise}
    payload = json.dumps(value, separators=(",", ":")).encode()
    assert json_loading._too_deep(payload, value) == (_depth(value) > json_loading.MAX_DEPTH)
