"""The MessagePack reader's shortcuts: a chunk holding one small frame skips
the framing loop, and the usual invocation skips the layout checks. Each must
give exactly what the general path gives, messages and errors alike."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from signalr_server.protocol import MessagePackHubProtocol, messagepack_reading
from signalr_server.protocol.base import FramedMessageReader
from signalr_server.protocol.framing import BinaryMessageParser, write_varint
from signalr_server.protocol.messagepack_protocol import MessagePackMessageReader
from signalr_server.protocol.messagepack_reading import UNPACK_OPTIONS, fast_parse
from signalr_server.protocol.messages import InvocationMessage

from .differential import ANY_VALUE, feed_outcome

PROTOCOL = MessagePackHubProtocol()


def _framed(payload: bytes) -> bytes:
    return write_varint(len(payload)) + payload


CHUNKS = [
    PROTOCOL.write(InvocationMessage("1", "Echo", ["x"])),
    PROTOCOL.write(InvocationMessage("1", "Echo", ["x" * 200])),  # a two-byte prefix
    PROTOCOL.write(InvocationMessage(None, "Send", [])),
    _framed(msgpack.packb([6])),
    _framed(msgpack.packb([6])) * 2,
    _framed(msgpack.packb([6]))[:-1],  # incomplete
    b"\x00",  # an empty payload
    b"",
    _framed(msgpack.packb([99, "x"])),
    _framed(b"\xc1"),  # never valid MessagePack
    _framed(msgpack.packb([1, {}, "1", "x", ["y" * 100]])),  # 117 bytes: just fits
    b"\x05\x01\x02",  # the prefix promises more than the chunk has
]


@pytest.mark.parametrize("limit", [None, 32768, 60, 10])
@pytest.mark.parametrize("chunk", CHUNKS, ids=repr)
def test_one_frame_chunks_agree_with_the_framed_path(chunk: bytes, limit: int | None) -> None:
    def general() -> Callable[[bytes], list[Any]]:
        return FramedMessageReader(BinaryMessageParser(limit), PROTOCOL.parse_payload).feed

    for chunks in ([chunk], [b"\x02\x91", b"\x06" + chunk], [chunk, chunk]):
        expected = feed_outcome(general(), chunks)
        assert feed_outcome(
            MessagePackMessageReader(PROTOCOL.parse_payload, limit).feed, chunks
        ) == (expected)
        assert feed_outcome(PROTOCOL.reader(limit).feed, chunks) == expected


def test_payloads_are_unpacked_with_the_documented_options(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[dict[str, Any]] = []
    unpackb = msgpack.unpackb

    def spy(payload: bytes, **options: Any) -> Any:
        seen.append(options)
        return unpackb(payload, **options)

    monkeypatch.setattr(msgpack, "unpackb", spy)
    PROTOCOL.parse_payload(msgpack.packb([6]))
    assert seen == [UNPACK_OPTIONS]


def _parsed(obj: Any, *, general: bool) -> Any:
    with pytest.MonkeyPatch.context() as patched:
        if general:
            patched.setattr(messagepack_reading, "_CALL_LENGTH", -1)
        try:
            return fast_parse(obj)
        except Exception as exc:
            return type(exc)


@pytest.mark.parametrize(
    "obj",
    [
        [1, {}, "1", "Echo", ["x"]],
        [1, {}, "", "Echo", []],
        [1, {"a": "b"}, "1", "Echo", []],
        [1, None, "1", "Echo", []],
        [1, {}, None, "Echo", []],
        [1, {}, 5, "Echo", []],
        [1, {}, "1", "", []],
        [1, {}, "1", "Echo", None],
        [True, {}, "1", "Echo", []],
        [1.0, {}, "1", "Echo", []],
        [4, {}, "1", "Echo", []],
        [3, {}, "1", 3, "result"],
    ],
)
def test_the_usual_invocation_parses_as_the_general_path_does(obj: list[Any]) -> None:
    assert _parsed(obj, general=False) == _parsed(obj, general=True)


@given(st.lists(ANY_VALUE, min_size=5, max_size=5))
def test_any_five_element_array_agrees(obj: list[Any]) -> None:
    assert _parsed(obj, general=False) == _parsed(obj, general=True)
