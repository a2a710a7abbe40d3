"""``JsonMessageReader`` parses a one-message chunk without the framing loop;
it must agree with the general framed path on every input."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from signalr_server.protocol import JsonHubProtocol, TextMessageParser
from signalr_server.protocol.base import FramedMessageReader
from signalr_server.protocol.json_protocol import JsonMessageReader

from .differential import feed_outcome

CHUNKS = [
    b'{"type":1,"invocationId":"1","target":"Echo","arguments":["x"]}\x1e',
    b'{"type":1,"target":"Send","arguments":[],"streamIds":["a"]}\x1e',
    b'{"type":6}\x1e',
    b'{"type":6}\x1e{"type":6}\x1e',
    b'{"type":6}',
    b"\x1e",
    b"",
    b'{"type":99,"x":1}\x1e',
    b'{"type":1,"arguments":[]}\x1e',
    b'{"type":1,"target":5,"arguments":[]}\x1e',
    b"[1,2]\x1e",
    b'{"type":1,\x1e',
    b'{"type":1,"target":"x","arguments":["' + b"y" * 100 + b'"]}\x1e',
    b'{"type":7,"error":"h\xc3\xa9"}\x1e',
    b'{"type":7,"error":"\xff"}\x1e',
]


@pytest.mark.parametrize("limit", [None, 32768, 60])
@pytest.mark.parametrize("chunk", CHUNKS, ids=repr)
def test_fast_path_agrees_with_the_framed_path(chunk: bytes, limit: int | None) -> None:
    protocol = JsonHubProtocol()

    def general() -> Callable[[bytes], list[Any]]:
        return FramedMessageReader(TextMessageParser(limit), protocol.parse_payload).feed

    for chunks in ([chunk], [b'{"type":', b"6}\x1e" + chunk], [chunk, chunk]):
        expected = feed_outcome(general(), chunks)
        assert feed_outcome(JsonMessageReader(limit).feed, chunks) == expected
        assert feed_outcome(protocol.reader(limit).feed, chunks) == expected


def test_a_held_tail_is_completed_before_a_whole_message() -> None:
    reader = JsonMessageReader(None)
    assert reader.feed(b'{"type"') == []
    # Ends with one separator, but it completes the held tail: not the fast path.
    assert [type(m).__name__ for m in reader.feed(b":6}\x1e")] == ["PingMessage"]
    assert [type(m).__name__ for m in reader.feed(b'{"type":6}\x1e')] == ["PingMessage"]
