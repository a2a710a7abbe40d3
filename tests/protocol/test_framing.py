"""0x1E and VarInt framing: splitting, partial data, VarInt edges, the size limit."""

from __future__ import annotations

import pytest

from signalr_server.protocol.errors import MessageTooLargeError, ProtocolError
from signalr_server.protocol.framing import (
    RECORD_SEPARATOR,
    BinaryMessageParser,
    TextMessageParser,
    read_varint,
    write_binary_frame,
    write_text_frame,
    write_varint,
)

# --- VarInt ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (0, b"\x00"),
        (53, b"\x35"),
        (127, b"\x7f"),
        (128, b"\x80\x01"),
        (5248, b"\x80\x29"),
        (16383, b"\xff\x7f"),
        (16384, b"\x80\x80\x01"),
        (2**31 - 1, b"\xff\xff\xff\xff\x07"),
    ],
)
def test_varint_round_trip(value: int, encoded: bytes) -> None:
    assert write_varint(value) == encoded
    assert read_varint(encoded) == (value, len(encoded))
    assert read_varint(b"xx" + encoded + b"tail", 2) == (value, len(encoded))


@pytest.mark.parametrize("value", [-1, 2**31])
def test_write_varint_rejects_out_of_range(value: int) -> None:
    with pytest.raises(ValueError):
        write_varint(value)


@pytest.mark.parametrize("data", [b"", b"\x80", b"\xff\xff", b"\xff\xff\xff\xff"])
def test_read_varint_incomplete(data: bytes) -> None:
    assert read_varint(data) is None


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xff\xff\xff\x08",  # 2**31: fifth byte above 7
        b"\xff\xff\xff\xff\x0f",
        b"\x80\x80\x80\x80\x80",  # continuation bit on the fifth byte
        b"\x80\x80\x80\x80\x80\x01",  # six bytes
    ],
)
def test_read_varint_overflow(data: bytes) -> None:
    with pytest.raises(ProtocolError, match=r"Messages over 2GB in size are not supported\."):
        read_varint(data)


def test_binary_frames_spec_vector() -> None:
    data = write_binary_frame(b"Hello\nWorld") + write_binary_frame(b"\x01\x02")
    assert data.hex(" ") == "0b 48 65 6c 6c 6f 0a 57 6f 72 6c 64 02 01 02"
    assert BinaryMessageParser().feed(data) == [b"Hello\nWorld", b"\x01\x02"]


# --- Text framing ---------------------------------------------------------


def test_write_text_frame() -> None:
    assert write_text_frame(b'{"type":6}') == b'{"type":6}\x1e'
    assert RECORD_SEPARATOR == b"\x1e"


def test_text_parser_splits_and_keeps_tail() -> None:
    parser = TextMessageParser()
    assert parser.feed(b"a\x1ebb\x1ecc") == [b"a", b"bb"]
    assert parser.buffered == 2
    assert parser.feed(b"c\x1e\x1e") == [b"ccc", b""]
    assert parser.buffered == 0


def test_text_parser_byte_by_byte() -> None:
    data = b'{"type":6}\x1e{"type":7}\x1e'
    parser = TextMessageParser()
    out: list[bytes] = []
    for byte in data:
        out.extend(parser.feed(bytes([byte])))
    assert out == [b'{"type":6}', b'{"type":7}']


@pytest.mark.parametrize("split", range(1, 12))
def test_text_parser_every_split_point(split: int) -> None:
    data = b"hello\x1eworld\x1e"
    parser = TextMessageParser()
    assert parser.feed(data[:split]) + parser.feed(data[split:]) == [b"hello", b"world"]


def test_text_parser_without_limit() -> None:
    parser = TextMessageParser(None)
    big = b"x" * 100_000
    assert parser.feed(big + b"\x1e" + big[:10]) == [big]
    assert parser.feed(b"\x1e") == [big[:10]]


def test_text_limit_counts_separator() -> None:
    assert TextMessageParser(4).feed(b"abc\x1e") == [b"abc"]
    with pytest.raises(MessageTooLargeError) as info:
        TextMessageParser(4).feed(b"abcd\x1e")
    assert str(info.value) == (
        "The maximum message size of 4B was exceeded. "
        "The message size can be configured in AddHubOptions."
    )


def test_text_limit_enforced_while_buffering() -> None:
    parser = TextMessageParser(10)
    assert parser.feed(b"x" * 6) == []
    assert parser.feed(b"x" * 4) == []
    assert parser.buffered == 10
    with pytest.raises(MessageTooLargeError):
        parser.feed(b"x")


def test_text_limit_on_fresh_partial_chunk() -> None:
    with pytest.raises(MessageTooLargeError):
        TextMessageParser(10).feed(b"ok\x1e" + b"y" * 11)


def test_text_limit_on_completion_of_buffered() -> None:
    parser = TextMessageParser(5)
    parser.feed(b"abc")
    with pytest.raises(MessageTooLargeError):
        parser.feed(b"de\x1e")


def test_text_limit_applies_per_message() -> None:
    parser = TextMessageParser(4)
    assert parser.feed(b"abc\x1e" * 50) == [b"abc"] * 50


# --- Binary framing -------------------------------------------------------


def test_binary_parser_keeps_partial_frames() -> None:
    data = write_binary_frame(b"abc") + write_binary_frame(b"x" * 200)
    parser = BinaryMessageParser()
    out: list[bytes] = []
    for byte in data:
        out.extend(parser.feed(bytes([byte])))
    assert out == [b"abc", b"x" * 200]
    assert parser.buffered == 0


@pytest.mark.parametrize("split", range(1, 9))
def test_binary_parser_every_split_point(split: int) -> None:
    data = write_binary_frame(b"ab") + write_binary_frame(b"cde")
    parser = BinaryMessageParser()
    assert parser.feed(data[:split]) + parser.feed(data[split:]) == [b"ab", b"cde"]


def test_binary_empty_frame() -> None:
    assert BinaryMessageParser().feed(b"\x00\x00") == [b"", b""]


def test_binary_limit_counts_prefix() -> None:
    assert BinaryMessageParser(4).feed(b"\x03abc") == [b"abc"]
    with pytest.raises(MessageTooLargeError):
        BinaryMessageParser(4).feed(b"\x04")


def test_binary_limit_fails_on_declared_length_before_body() -> None:
    parser = BinaryMessageParser(100)
    parser.feed(b"\x80")
    with pytest.raises(MessageTooLargeError):
        parser.feed(b"\x01")  # 128 bytes declared; nothing of the body yet


def test_binary_parser_without_limit() -> None:
    payload = b"z" * 70_000
    parser = BinaryMessageParser(None)
    frame = write_binary_frame(payload)
    assert parser.feed(frame[:1000]) == []
    assert parser.feed(frame[1000:]) == [payload]


def test_binary_parser_rejects_overlong_prefix() -> None:
    with pytest.raises(ProtocolError, match="2GB"):
        BinaryMessageParser(None).feed(b"\xff\xff\xff\xff\x7f")


def test_many_small_chunks_stay_linear() -> None:
    """A large message fed in small chunks is never re-scanned from the start."""
    payload = b"a" * 200_000
    parser = TextMessageParser(None)
    for start in range(0, len(payload), 16):
        assert parser.feed(payload[start : start + 16]) == []
    assert parser.feed(b"\x1e") == [payload]
