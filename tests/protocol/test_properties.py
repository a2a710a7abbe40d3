"""Property tests: write→parse is the identity, and chunking never matters.

Generators only produce values each protocol can carry unchanged, and the
restrictions are the protocol's, not the codec's:

* JSON has no NaN/Infinity, no binary and no dates: ``bytes`` and ``datetime``
  are written as base64/ISO strings and come back as strings (JSON-10), so the
  JSON generator leaves them out.
* MessagePack integers stop at int64/uint64; dates travel as timestamp
  extension -1 with microsecond precision here (Python's ``datetime``), and
  always come back as aware UTC, so generated datetimes are aware UTC.
* Empty header maps and empty stream id lists are "none" on the wire, so
  generators use ``None`` or a non-empty collection.
* Empty error texts are never written (JSON-8), so errors are non-empty.

Comparison uses the fixtures' neutral form, which is strict about bool/int/
float and treats NaN as equal to itself.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signalr_server.protocol.framing import (
    BinaryMessageParser,
    TextMessageParser,
    write_binary_frame,
    write_text_frame,
)
from signalr_server.protocol.handshake import HandshakeParser, write_handshake_request
from signalr_server.protocol.json_protocol import JsonHubProtocol
from signalr_server.protocol.messagepack_protocol import MessagePackHubProtocol
from signalr_server.protocol.messages import (
    PING,
    AckMessage,
    CancelInvocationMessage,
    CloseMessage,
    CompletionMessage,
    HandshakeRequest,
    HubMessage,
    InvocationMessage,
    SequenceMessage,
    StreamInvocationMessage,
    StreamItemMessage,
)

from .fixture_loader import canonical, to_neutral

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

JSON = JsonHubProtocol()
MSGPACK = MessagePackHubProtocol()

INT64 = st.integers(min_value=-(2**63), max_value=2**64 - 1)
TEXT = st.text(max_size=12)
NON_EMPTY = st.text(min_size=1, max_size=12)

json_scalars = (
    st.none() | st.booleans() | INT64 | st.floats(allow_nan=False, allow_infinity=False) | TEXT
)
msgpack_scalars = (
    st.none()
    | st.booleans()
    | INT64
    | st.floats()
    | TEXT
    | st.binary(max_size=16)
    | st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.just(UTC),
    )
)


def _values(scalars: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
        max_leaves=8,
    )


def _messages(values: st.SearchStrategy[Any]) -> st.SearchStrategy[HubMessage]:
    headers = st.none() | st.dictionaries(NON_EMPTY, NON_EMPTY, min_size=1, max_size=3)
    stream_ids = st.none() | st.lists(NON_EMPTY, min_size=1, max_size=3)
    arguments = st.lists(values, max_size=4)
    return st.one_of(
        st.builds(
            InvocationMessage, st.none() | NON_EMPTY, NON_EMPTY, arguments, stream_ids, headers
        ),
        st.builds(StreamInvocationMessage, NON_EMPTY, NON_EMPTY, arguments, stream_ids, headers),
        st.builds(StreamItemMessage, NON_EMPTY, values, headers),
        st.builds(CompletionMessage.with_result, NON_EMPTY, values, headers),
        st.builds(CompletionMessage.with_error, NON_EMPTY, NON_EMPTY, headers),
        st.builds(CompletionMessage.empty, NON_EMPTY, headers),
        st.builds(CancelInvocationMessage, NON_EMPTY, headers),
        st.just(PING),
        st.builds(CloseMessage, st.none() | NON_EMPTY, st.booleans()),
        st.builds(AckMessage, st.integers(min_value=0, max_value=2**63 - 1)),
        st.builds(SequenceMessage, st.integers(min_value=0, max_value=2**63 - 1)),
    )


json_messages = _messages(_values(json_scalars))
msgpack_messages = _messages(_values(msgpack_scalars))


def _same(decoded: list[HubMessage], original: list[HubMessage]) -> None:
    assert [canonical(to_neutral(m)) for m in decoded] == [
        canonical(to_neutral(m)) for m in original
    ]


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    """Cut ``data`` at the given offsets (any values; clamped and sorted)."""
    points = sorted({min(max(c, 0), len(data)) for c in cuts})
    chunks, start = [], 0
    for point in [*points, len(data)]:
        chunks.append(data[start:point])
        start = point
    return chunks


@FAST
@given(json_messages)
def test_json_round_trip(message: HubMessage) -> None:
    _same(JSON.parse(JSON.write(message)), [message])


@FAST
@given(msgpack_messages)
def test_messagepack_round_trip(message: HubMessage) -> None:
    _same(MSGPACK.parse(MSGPACK.write(message)), [message])


@FAST
@given(st.lists(json_messages, min_size=1, max_size=5), st.lists(st.integers(0, 4000), max_size=12))
def test_json_reader_any_chunking(messages: list[HubMessage], cuts: list[int]) -> None:
    data = b"".join(JSON.write(m) for m in messages)
    reader = JSON.reader(None)
    _same([m for chunk in _split(data, cuts) for m in reader.feed(chunk)], messages)


@FAST
@given(
    st.lists(msgpack_messages, min_size=1, max_size=5), st.lists(st.integers(0, 4000), max_size=12)
)
def test_messagepack_reader_any_chunking(messages: list[HubMessage], cuts: list[int]) -> None:
    data = b"".join(MSGPACK.write(m) for m in messages)
    reader = MSGPACK.reader(None)
    _same([m for chunk in _split(data, cuts) for m in reader.feed(chunk)], messages)


@FAST
@given(
    st.lists(st.binary(max_size=300).map(lambda b: b.replace(b"\x1e", b"")), max_size=6),
    st.lists(st.integers(0, 2000), max_size=12),
)
def test_text_framing_any_chunking(payloads: list[bytes], cuts: list[int]) -> None:
    data = b"".join(write_text_frame(p) for p in payloads)
    parser = TextMessageParser(None)
    assert [bytes(p) for chunk in _split(data, cuts) for p in parser.feed(chunk)] == payloads
    assert parser.buffered == 0


@FAST
@given(st.lists(st.binary(max_size=300), max_size=6), st.lists(st.integers(0, 2000), max_size=12))
def test_binary_framing_any_chunking(payloads: list[bytes], cuts: list[int]) -> None:
    data = b"".join(write_binary_frame(p) for p in payloads)
    parser = BinaryMessageParser(None)
    assert [bytes(p) for chunk in _split(data, cuts) for p in parser.feed(chunk)] == payloads
    assert parser.buffered == 0


@FAST
@given(st.lists(st.binary(min_size=128, max_size=20000), min_size=1, max_size=3), st.data())
def test_binary_framing_multibyte_prefixes_split(
    payloads: list[bytes], data: st.DataObject
) -> None:
    """Long payloads need 2-3 byte VarInt prefixes; cut inside them too."""
    stream = b"".join(write_binary_frame(p) for p in payloads)
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=20))
    parser = BinaryMessageParser(None)
    assert [bytes(p) for chunk in _split(stream, cuts) for p in parser.feed(chunk)] == payloads


@FAST
@given(
    st.sampled_from(["json", "messagepack", "x"]) | NON_EMPTY,
    st.integers(min_value=0, max_value=2**31 - 1),
    st.binary(max_size=40),
    st.lists(st.integers(0, 200), max_size=8),
)
def test_handshake_any_chunking(protocol: str, version: int, tail: bytes, cuts: list[int]) -> None:
    """The request is found wherever the chunks split, and what follows is kept."""
    request = HandshakeRequest(protocol, version)
    data = write_handshake_request(request) + tail
    parser = HandshakeParser(None)
    chunks = _split(data, cuts)
    for index, chunk in enumerate(chunks):
        parsed = parser.feed(chunk)
        if parsed is not None:
            assert parsed == request
            assert parser.remainder + b"".join(chunks[index + 1 :]) == tail
            return
    raise AssertionError("the handshake request was never completed")
