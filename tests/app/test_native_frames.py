"""RFC 6455 framing of the native server, sans-IO."""

from __future__ import annotations

import os

import pytest

from signalr_server.app.native.frames import (
    OP_BINARY,
    OP_CLOSE,
    OP_PING,
    OP_TEXT,
    FrameReader,
    WebSocketProtocolError,
    accept_key,
    close_payload,
    encode_frame,
    parse_close,
)


def client_frame(
    opcode: int, payload: bytes, *, fin: bool = True, mask: bool = True, rsv: int = 0
) -> bytes:
    """A frame as a client sends it: masked with a random key."""
    first = (0x80 if fin else 0) | rsv << 4 | opcode
    length = len(payload)
    if length < 126:
        header = bytes((first, (0x80 if mask else 0) | length))
    elif length < 0x10000:
        header = bytes((first, (0x80 if mask else 0) | 126)) + length.to_bytes(2, "big")
    else:
        header = bytes((first, (0x80 if mask else 0) | 127)) + length.to_bytes(8, "big")
    if not mask:
        return header + payload
    key = os.urandom(4)
    return header + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def test_accept_key_matches_rfc_6455_example() -> None:
    assert accept_key(b"dGhlIHNhbXBsZSBub25jZQ==") == b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 200_000])
def test_server_frames_use_the_shortest_length_encoding(size: int) -> None:
    frame = encode_frame(OP_BINARY, b"x" * size)
    header = {True: 2, False: 4 if size < 0x10000 else 10}[size < 126]
    assert frame[0] == 0x82
    assert len(frame) == header + size
    # Our own reader reads it back once masked as a client would.
    assert FrameReader(1 << 20).feed(client_frame(OP_BINARY, b"x" * size)) == [
        (OP_BINARY, b"x" * size)
    ]


def test_text_is_decoded_and_frames_split_anywhere_are_reassembled() -> None:
    data = client_frame(OP_TEXT, "héllo".encode()) + client_frame(OP_BINARY, b"\x00\x01")
    reader = FrameReader(1024)
    out = []
    for i in range(len(data)):
        out += reader.feed(data[i : i + 1])
    assert out == [(OP_TEXT, "héllo"), (OP_BINARY, b"\x00\x01")]


def test_fragments_make_one_message_with_control_frames_between() -> None:
    reader = FrameReader(1024)
    data = (
        client_frame(OP_TEXT, b"ab", fin=False)
        + client_frame(OP_PING, b"p")
        + client_frame(0, b"cd", fin=False)
        + client_frame(0, b"e")
    )
    assert reader.feed(data) == [(OP_PING, b"p"), (OP_TEXT, "abcde")]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (client_frame(OP_TEXT, b"x", mask=False), 1002),
        (client_frame(OP_TEXT, b"x", rsv=4), 1002),
        (client_frame(0x3, b"x"), 1002),
        (client_frame(0, b"x"), 1002),
        (client_frame(OP_PING, b"x" * 126), 1002),
        (client_frame(OP_PING, b"x", fin=False), 1002),
        (client_frame(OP_TEXT, b"a", fin=False) + client_frame(OP_TEXT, b"b"), 1002),
        (client_frame(OP_TEXT, b"\xff\xfe"), 1007),
        (client_frame(OP_BINARY, b"x" * 101), 1009),
        (client_frame(OP_BINARY, b"x" * 60, fin=False) + client_frame(0, b"x" * 60), 1009),
    ],
    ids=[
        "unmasked",
        "reserved-bits",
        "unknown-opcode",
        "orphan-continuation",
        "long-control",
        "fragmented-control",
        "interleaved-message",
        "invalid-utf8",
        "too-big",
        "too-big-in-fragments",
    ],
)
def test_protocol_errors_carry_the_close_code(data: bytes, code: int) -> None:
    with pytest.raises(WebSocketProtocolError) as caught:
        FrameReader(100).feed(data)
    assert caught.value.code == code


def test_the_size_limit_is_checked_before_the_payload_arrives() -> None:
    # Only the header of a 1 GiB frame: refused at once, nothing buffered.
    header = bytes((0x82, 0x80 | 127)) + (1 << 30).to_bytes(8, "big")
    with pytest.raises(WebSocketProtocolError) as caught:
        FrameReader(16 * 1024 * 1024).feed(header)
    assert caught.value.code == 1009


def test_close_payloads() -> None:
    assert parse_close(b"") == (1005, "")
    assert parse_close(close_payload(1000, "bye")) == (1000, "bye")
    assert parse_close(close_payload(4000)) == (4000, "")
    for bad in (
        b"\x03",
        (999).to_bytes(2, "big"),
        (1005).to_bytes(2, "big"),
        (2000).to_bytes(2, "big"),
    ):
        with pytest.raises(WebSocketProtocolError) as caught:
            parse_close(bad)
        assert caught.value.code == 1002
    with pytest.raises(WebSocketProtocolError) as caught:
        parse_close(b"\x03\xe8\xff")
    assert caught.value.code == 1007
    assert len(close_payload(1000, "x" * 500)) == 125
    assert FrameReader(10).feed(client_frame(OP_CLOSE, b"\x03\xe8")) == [(OP_CLOSE, b"\x03\xe8")]
