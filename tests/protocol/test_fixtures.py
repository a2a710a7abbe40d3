"""Every golden vector in ``protocol_fixtures/`` against our codecs.

The vectors come from the reference's own tests and the spec (see the
fixtures' README), so a failure here means we would disagree with ASP.NET
Core on the wire, not merely that a unit test changed.
"""

from __future__ import annotations

from typing import Any

import pytest

from signalr_server.protocol.errors import ProtocolError
from signalr_server.protocol.framing import (
    BinaryMessageParser,
    TextMessageParser,
    read_varint,
    write_binary_frame,
    write_text_frame,
    write_varint,
)
from signalr_server.protocol.handshake import (
    HandshakeParser,
    parse_handshake_request,
    parse_handshake_response,
    write_handshake_request,
    write_handshake_response,
)
from signalr_server.protocol.json_protocol import JsonHubProtocol
from signalr_server.protocol.messagepack_protocol import MessagePackHubProtocol

from .fixture_loader import Vector, canonical, from_neutral, load_vectors, to_neutral

VECTORS = load_vectors()
PROTOCOLS: dict[str, Any] = {"json": JsonHubProtocol(), "messagepack": MessagePackHubProtocol()}


def _ids(vectors: list[Vector]) -> list[str]:
    return [v.id for v in vectors]


def _select(*kinds: str) -> list[Vector]:
    return [v for v in VECTORS if v.kind in kinds]


DECODABLE = _select("encode-exact", "decode-only")
ENCODABLE = _select("encode-exact")
INVALID = _select("invalid")


def test_fixture_files_are_substantial() -> None:
    """Guard against a truncated or accidentally emptied fixture file."""
    assert len(VECTORS) >= 150
    for protocol in ("json", "messagepack", "handshake", "text-framing", "binary-framing"):
        assert any(v.protocol == protocol for v in VECTORS), protocol
    for v in INVALID:
        assert v.error, v.id


def _frames(data: bytes, vector: Vector) -> list[str]:
    if vector.protocol == "text-framing":
        payloads = TextMessageParser(vector.max_message_size).feed(data)
    else:
        payloads = BinaryMessageParser(vector.max_message_size).feed(data)
    return [bytes(p).hex() for p in payloads]


def _decode(vector: Vector, data: bytes) -> list[Any]:
    """Decode through the path the vector's protocol uses, as neutral dicts."""
    if vector.protocol in PROTOCOLS:
        reader = PROTOCOLS[vector.protocol].reader(vector.max_message_size)
        return [to_neutral(m) for m in reader.feed(data)]
    if vector.protocol == "handshake":
        if vector.side == "request":
            parser = HandshakeParser(vector.max_message_size)
            request = parser.feed(data)
            return [] if request is None else [to_neutral(request)]
        assert data.endswith(b"\x1e")
        return [to_neutral(parse_handshake_response(data[:-1]))]
    if vector.messages and vector.messages[0]["type"] == "VarInt":
        decoded = read_varint(data)
        assert decoded is not None
        value, consumed = decoded
        assert consumed == len(data)
        return [{"type": "VarInt", "value": value}]
    return [{"type": "Frames", "payloads": _frames(data, vector)}]


def _expected(vector: Vector) -> list[Any]:
    return [canonical(m) for m in vector.messages]


@pytest.mark.parametrize("vector", DECODABLE, ids=_ids(DECODABLE))
def test_decode(vector: Vector) -> None:
    assert [canonical(m) for m in _decode(vector, vector.data)] == _expected(vector)


def _incremental(vector: Vector) -> bool:
    if vector.protocol == "handshake":
        return vector.side == "request"
    if vector.protocol.endswith("framing"):
        return bool(vector.messages) and vector.messages[0]["type"] == "Frames"
    return True


INCREMENTAL = [v for v in DECODABLE if _incremental(v)]


@pytest.mark.parametrize("vector", INCREMENTAL, ids=_ids(INCREMENTAL))
def test_decode_one_byte_at_a_time(vector: Vector) -> None:
    """The incremental readers must give the same result however bytes arrive."""
    if vector.protocol in PROTOCOLS:
        reader = PROTOCOLS[vector.protocol].reader(vector.max_message_size)
        decoded = [
            to_neutral(m)
            for i in range(len(vector.data))
            for m in reader.feed(vector.data[i : i + 1])
        ]
    elif vector.protocol == "handshake" and vector.side == "request":
        handshake = HandshakeParser(vector.max_message_size)
        results = [handshake.feed(vector.data[i : i + 1]) for i in range(len(vector.data))]
        decoded = [to_neutral(r) for r in results if r is not None]
    else:
        text = vector.protocol == "text-framing"
        parser: Any = (TextMessageParser if text else BinaryMessageParser)(vector.max_message_size)
        payloads = [
            bytes(p).hex()
            for i in range(len(vector.data))
            for p in parser.feed(vector.data[i : i + 1])
        ]
        decoded = [{"type": "Frames", "payloads": payloads}]
    assert [canonical(m) for m in decoded] == _expected(vector)


HUB_DECODABLE = [v for v in DECODABLE if v.protocol in PROTOCOLS]


@pytest.mark.parametrize("vector", HUB_DECODABLE, ids=_ids(HUB_DECODABLE))
def test_parse_whole_buffer(vector: Vector) -> None:
    """``parse`` (complete buffers) and ``reader().feed`` must agree."""
    decoded = [to_neutral(m) for m in PROTOCOLS[vector.protocol].parse(vector.data)]
    assert [canonical(m) for m in decoded] == _expected(vector)


def _encode(vector: Vector) -> bytes:
    if vector.protocol in PROTOCOLS:
        protocol = PROTOCOLS[vector.protocol]
        return b"".join(protocol.write(from_neutral(m)) for m in vector.messages)
    if vector.protocol == "handshake":
        (message,) = vector.messages
        if vector.side == "request":
            return write_handshake_request(from_neutral(message))
        return write_handshake_response(message["error"])
    (message,) = vector.messages
    if message["type"] == "VarInt":
        return write_varint(message["value"])
    write = write_text_frame if vector.protocol == "text-framing" else write_binary_frame
    return b"".join(write(bytes.fromhex(p)) for p in message["payloads"])


@pytest.mark.parametrize("vector", ENCODABLE, ids=_ids(ENCODABLE))
def test_encode_exact(vector: Vector) -> None:
    assert _encode(vector).hex() == vector.data.hex()


def _fail(vector: Vector) -> None:
    data = vector.data
    if vector.protocol in PROTOCOLS:
        PROTOCOLS[vector.protocol].reader(vector.max_message_size).feed(data)
    elif vector.protocol == "handshake":
        if vector.side == "request":
            parse_handshake_request(data[:-1])
        else:
            parse_handshake_response(data[:-1])
    else:
        _frames(data, vector)


@pytest.mark.parametrize("vector", INVALID, ids=_ids(INVALID))
def test_invalid(vector: Vector) -> None:
    with pytest.raises(ProtocolError) as caught:
        _fail(vector)
    assert str(caught.value) == vector.error


SECOND_PATH_INVALID = [v for v in INVALID if v.protocol in PROTOCOLS or v.side == "request"]


@pytest.mark.parametrize("vector", SECOND_PATH_INVALID, ids=_ids(SECOND_PATH_INVALID))
def test_invalid_through_second_path(vector: Vector) -> None:
    """``parse`` and the handshake parser report the same text as the reader."""
    with pytest.raises(ProtocolError) as caught:
        if vector.protocol in PROTOCOLS:
            PROTOCOLS[vector.protocol].parse(vector.data)
        else:
            HandshakeParser(vector.max_message_size).feed(vector.data)
    assert str(caught.value) == vector.error
