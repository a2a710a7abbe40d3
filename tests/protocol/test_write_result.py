"""``write_result``: the Completion every answered invocation sends, written
without building a ``CompletionMessage``, must be the bytes ``write`` gives."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import pytest

from signalr_server.protocol import CompletionMessage, JsonHubProtocol, MessagePackHubProtocol
from signalr_server.protocol.base import HubProtocol, result_writer
from signalr_server.protocol.messages import HubMessage, TransferFormat


class _Mood(enum.StrEnum):
    """A ``str`` subclass: not the plain-string shortcut, same bytes."""

    CALM = "calm \u00e9"


RESULTS: list[Any] = [
    None,
    0,
    -1,
    2**40,
    1.5,
    True,
    False,
    "",
    "plain",
    'quote " backslash \\ separator \x1e newline \n',
    "non-ASCII: héllo 日本 🎉",
    "lone surrogate \ud800 here",
    _Mood.CALM,
    [1, "two", None, [3.0]],
    {"nested": {"list": [1, 2], "text": "ü"}},
    dt.datetime(2026, 11, 26, 12, 30, tzinfo=dt.UTC),
    # With the id "1", MessagePack payloads of 127 and 128 bytes: the last
    # one-byte frame prefix and the first two-byte one.
    "x" * 119,
    "x" * 120,
]
IDS = ["1", "42", 'an id with "quotes" and ü', "\x1e"]


@pytest.mark.parametrize("protocol", [JsonHubProtocol(), MessagePackHubProtocol()])
@pytest.mark.parametrize("result", RESULTS, ids=repr)
@pytest.mark.parametrize("invocation_id", IDS)
def test_write_result_matches_write(protocol: Any, result: Any, invocation_id: str) -> None:
    try:
        expected = protocol.write(CompletionMessage(invocation_id, None, result, True))
    except Exception as exc:  # MessagePack cannot carry lone surrogates: same failure
        with pytest.raises(type(exc)):
            protocol.write_result(invocation_id, result)
        return
    assert protocol.write_result(invocation_id, result) == expected
    assert result_writer(protocol)(invocation_id, result) == expected


@pytest.mark.parametrize("protocol", [JsonHubProtocol(), MessagePackHubProtocol()])
def test_write_result_bytes(protocol: Any) -> None:
    result = b"\x00\x01binary"
    expected = protocol.write(CompletionMessage("7", None, result, True))
    assert protocol.write_result("7", result) == expected


def test_json_write_result_refuses_nan_like_write() -> None:
    protocol = JsonHubProtocol()
    with pytest.raises(ValueError):
        protocol.write(CompletionMessage("1", None, float("nan"), True))
    with pytest.raises(ValueError):
        protocol.write_result("1", float("nan"))


class _WriteOnly:
    """A protocol written without ``write_result``."""

    name = "json"
    version = 1
    transfer_format = TransferFormat.TEXT

    def __init__(self) -> None:
        self.written: list[HubMessage] = []

    def write(self, message: HubMessage) -> bytes:
        self.written.append(message)
        return JsonHubProtocol().write(message)


def test_result_writer_falls_back_to_write() -> None:
    protocol = _WriteOnly()
    write = result_writer(protocol)  # type: ignore[arg-type]
    assert write("5", [1]) == b'{"type":3,"invocationId":"5","result":[1]}\x1e'
    assert protocol.written == [CompletionMessage("5", None, [1], True)]


def test_builtin_protocols_qualify() -> None:
    assert isinstance(JsonHubProtocol(), HubProtocol)
    assert isinstance(MessagePackHubProtocol(), HubProtocol)
