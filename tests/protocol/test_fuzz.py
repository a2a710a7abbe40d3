"""Hostile input: every parser fails only with ``ProtocolError``, fast, and bounded.

A peer controls every byte we parse, so a stray ``KeyError``, a
``RecursionError`` on deep nesting, a hang on a huge declared length or a
buffer that grows past the configured limit would each be a denial-of-service
hole. Inputs are random bytes, mutations of the golden fixtures (which reach
much deeper into the parsers than noise does) and a few hand-made extremes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signalr_server.protocol.errors import MessageTooLargeError, ProtocolError
from signalr_server.protocol.framing import BinaryMessageParser, TextMessageParser, read_varint
from signalr_server.protocol.handshake import (
    HandshakeParser,
    parse_handshake_request,
    parse_handshake_response,
)
from signalr_server.protocol.json_protocol import JsonHubProtocol
from signalr_server.protocol.messagepack_protocol import MessagePackHubProtocol

from .fixture_loader import load_vectors

pytestmark = pytest.mark.timeout(60)

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LIMIT = 64

JSON = JsonHubProtocol()
MSGPACK = MessagePackHubProtocol()

Target = Callable[[bytes], Any]


def _handshake_parser(data: bytes) -> Any:
    return HandshakeParser(LIMIT).feed(data)


def _read_all_varints(data: bytes) -> None:
    offset = 0
    while offset < len(data):
        decoded = read_varint(data, offset)
        if decoded is None:
            return
        offset += max(decoded[1], 1)


TARGETS: dict[str, Target] = {
    "json-reader": lambda d: JSON.reader(LIMIT).feed(d),
    "json-reader-unlimited": lambda d: JSON.reader(None).feed(d),
    "json-parse": JSON.parse,
    "json-parse-payload": JSON.parse_payload,
    "messagepack-reader": lambda d: MSGPACK.reader(LIMIT).feed(d),
    "messagepack-reader-unlimited": lambda d: MSGPACK.reader(None).feed(d),
    "messagepack-parse": MSGPACK.parse,
    "messagepack-parse-payload": MSGPACK.parse_payload,
    "handshake-parser": _handshake_parser,
    "handshake-request": parse_handshake_request,
    "handshake-response": parse_handshake_response,
    "text-framing": lambda d: TextMessageParser(LIMIT).feed(d),
    "binary-framing": lambda d: BinaryMessageParser(LIMIT).feed(d),
    "binary-framing-unlimited": lambda d: BinaryMessageParser(None).feed(d),
    "varint": _read_all_varints,
}

SEEDS = [v.data for v in load_vectors()]


def _only_protocol_errors(target: Target, data: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        target(data)


@st.composite
def mutated_fixture(draw: st.DrawFn) -> bytes:
    """A fixture's bytes with a few byte-level edits."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        action = draw(
            st.sampled_from(["flip", "insert", "delete", "truncate", "duplicate", "interesting"])
        )
        position = draw(st.integers(0, len(data))) if data else 0
        if action == "flip" and data:
            index = min(position, len(data) - 1)
            data[index] ^= 1 << draw(st.integers(0, 7))
        elif action == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=4))
        elif action == "delete" and data:
            del data[position : position + draw(st.integers(1, 4))]
        elif action == "truncate":
            del data[position:]
        elif action == "duplicate":
            data[position:position] = data[position : position + draw(st.integers(1, 8))]
        elif action == "interesting":
            special = draw(
                st.sampled_from(
                    [
                        b"\x1e",
                        b"\x00",
                        b"\xff",
                        b"\xc1",
                        b"\xdd\xff\xff\xff\xff",
                        b"\xdb\xff\xff\xff\xff",
                        b"\xc7\xff\xff",
                        b"\x80\x80\x80\x80\x80",
                        b'"',
                        b"{",
                        b"[",
                        b"\\u",
                        b"\xed\xa0\x80",
                    ]
                )
            )
            data[position:position] = special
    return bytes(data)


@pytest.mark.parametrize("name", sorted(TARGETS))
@FUZZ
@given(data=st.binary(max_size=200))
def test_random_bytes_raise_only_protocol_errors(name: str, data: bytes) -> None:
    _only_protocol_errors(TARGETS[name], data)


@pytest.mark.parametrize("name", sorted(TARGETS))
@FUZZ
@given(data=mutated_fixture())
def test_mutated_fixtures_raise_only_protocol_errors(name: str, data: bytes) -> None:
    _only_protocol_errors(TARGETS[name], data)


DEEP = 100_000
EXTREMES = {
    "json-deep-arrays": b'{"type":1,"target":"T","arguments":['
    + b"[" * DEEP
    + b"]" * DEEP
    + b"]}\x1e",
    "json-deep-objects": b'{"type":2,"invocationId":"1","item":'
    + b'{"a":' * DEEP
    + b"1"
    + b"}" * DEEP
    + b"}\x1e",
    "json-unterminated-deep": b"[" * DEEP + b"\x1e",
    "json-huge-number": b'{"type":8,"sequenceId":' + b"9" * 5000 + b"}\x1e",
    "json-lone-surrogate": b'{"type":1,"target":"\\ud800","arguments":[]}\x1e',
    "json-invalid-utf8": b'{"type":1,"target":"\xff\xfe","arguments":[]}\x1e',
    "json-nan": b'{"type":2,"invocationId":"1","item":NaN}\x1e',
    "msgpack-deep-arrays": b"\x95\x01\x80\xc0\xa1T" + b"\x91" * DEEP + b"\xc0",
    "msgpack-huge-array-header": b"\x94\x02\x80\xa11\xdd\xff\xff\xff\xff",
    "msgpack-huge-map-header": b"\x94\x02\xdf\xff\xff\xff\xff",
    "msgpack-huge-str-header": b"\x94\x02\x80\xdb\xff\xff\xff\xff",
    "msgpack-huge-bin-header": b"\x94\x02\x80\xa11\xc6\xff\xff\xff\xff",
    "msgpack-bad-timestamp": b"\x94\x02\x80\xa11\xd5\xff\x00\x00",
    "msgpack-timestamp-out-of-range": (
        b"\x94\x02\x80\xa11\xc7\x0c\xff\x00\x00\x00\x00\x7f" + b"\xff" * 7
    ),
    "msgpack-never-used-byte": b"\x94\x02\x80\xa11\xc1",
    "msgpack-invalid-utf8": b"\x94\x02\x80\xa2\xff\xfe\x01",
    "msgpack-map-list-key": b"\x94\x02\x80\xa11\x81\x90\x01",
}


def _framed(name: str, payload: bytes) -> bytes:
    if name.startswith("json"):
        return payload
    length, prefix = len(payload), bytearray()
    while True:
        low, length = length & 0x7F, length >> 7
        prefix.append(low | (0x80 if length else 0))
        if not length:
            return bytes(prefix) + payload


@pytest.mark.parametrize("name", sorted(EXTREMES))
def test_extreme_inputs(name: str) -> None:
    """Deep nesting and huge declared lengths fail cleanly, without hanging."""
    data = _framed(name, EXTREMES[name])
    protocol = JSON if name.startswith("json") else MSGPACK
    _only_protocol_errors(protocol.reader(None).feed, data)
    _only_protocol_errors(protocol.parse, data)


# --------------------------------------------------------------------------
# bounded buffering (LIM-1)
# --------------------------------------------------------------------------


@FUZZ
@given(
    st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\x1e", b"")), min_size=1, max_size=20)
)
def test_text_parser_never_buffers_past_limit(chunks: list[bytes]) -> None:
    parser = TextMessageParser(LIMIT)
    for chunk in chunks:
        try:
            parser.feed(chunk)
        except MessageTooLargeError:
            # A dead parser may still hold the chunk that broke the limit,
            # which the caller has in memory anyway; it must hold no more.
            assert parser.buffered <= LIMIT + len(chunk)
            return
        assert parser.buffered <= LIMIT


@FUZZ
@given(st.lists(st.binary(max_size=40), min_size=1, max_size=20))
def test_binary_parser_never_buffers_past_limit(chunks: list[bytes]) -> None:
    parser = BinaryMessageParser(LIMIT)
    for chunk in chunks:
        try:
            parser.feed(chunk)
        except ProtocolError:
            assert parser.buffered <= LIMIT + len(chunk)
            return
        assert parser.buffered <= LIMIT


@pytest.mark.parametrize("protocol", [JSON, MSGPACK], ids=["json", "messagepack"])
def test_reader_rejects_as_soon_as_limit_is_passed(protocol: Any) -> None:
    """Byte by byte, the reader must fail on the first byte beyond the limit.

    The readers expose no buffer size, so this checks the same property from
    outside: the failure comes exactly when the limit is crossed, not later.
    """
    if protocol is JSON:
        data = b'{"type":2,"invocationId":"1","item":"' + b"x" * (LIMIT * 2)
    else:
        data = b"\xc0\x01" + b"\x94\x02\x80" + b"x" * (LIMIT * 2)
    reader = protocol.reader(LIMIT)
    for index in range(len(data)):
        try:
            reader.feed(data[index : index + 1])
        except MessageTooLargeError as exc:
            assert exc.limit == LIMIT
            if protocol is JSON:
                assert index == LIMIT  # the 65th byte without a separator
            else:
                assert index <= LIMIT  # a declared length can fail even earlier
            return
    raise AssertionError("the reader accepted an over-limit message")


def test_handshake_parser_rejects_past_limit() -> None:
    parser = HandshakeParser(LIMIT)
    with pytest.raises(MessageTooLargeError):
        for _ in range(LIMIT + 1):
            parser.feed(b" ")
