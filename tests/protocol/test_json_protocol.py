"""The ``json`` hub protocol: reference vectors, error texts, output format, framing."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

import pytest

from signalr_server.protocol.base import HubProtocol
from signalr_server.protocol.errors import MessageTooLargeError, ProtocolError
from signalr_server.protocol.json_protocol import JsonHubProtocol
from signalr_server.protocol.messages import (
    PING,
    AckMessage,
    CancelInvocationMessage,
    CloseMessage,
    CompletionMessage,
    HubMessage,
    InvocationMessage,
    SequenceMessage,
    StreamInvocationMessage,
    StreamItemMessage,
    TransferFormat,
)

PROTOCOL = JsonHubProtocol()

HEADERS = {
    "Foo": "Bar",
    "KeyWith\nNew\r\nLines": "Still Works",
    "ValueWithNewLines": "Also\nWorks\r\nFine",
}
SERIALIZED_HEADERS = (
    '"headers":{"Foo":"Bar","KeyWith\\nNew\\r\\nLines":"Still Works",'
    '"ValueWithNewLines":"Also\\nWorks\\r\\nFine"}'
)

# (message, exact JSON) pairs from the reference's JsonHubProtocolTestsBase, plus
# Ack/Sequence/allowReconnect shapes from the checklist (JSON-7).
VECTORS: list[tuple[HubMessage, str]] = [
    (
        InvocationMessage("123", "Target", [1, "Foo"]),
        '{"type":1,"invocationId":"123","target":"Target","arguments":[1,"Foo"]}',
    ),
    (InvocationMessage(None, "Target", [True]), '{"type":1,"target":"Target","arguments":[true]}'),
    (InvocationMessage(None, "Target", [None]), '{"type":1,"target":"Target","arguments":[null]}'),
    (
        InvocationMessage(None, "Target", [], ["__test_id__"]),
        '{"type":1,"target":"Target","arguments":[],"streamIds":["__test_id__"]}',
    ),
    (
        InvocationMessage(None, "Target", [42], ["__test_id__", "__test_id2__"]),
        '{"type":1,"target":"Target","arguments":[42],"streamIds":["__test_id__","__test_id2__"]}',
    ),
    (StreamItemMessage("123", 1), '{"type":2,"invocationId":"123","item":1}'),
    (StreamItemMessage("123", "Foo"), '{"type":2,"invocationId":"123","item":"Foo"}'),
    (StreamItemMessage("123", True), '{"type":2,"invocationId":"123","item":true}'),
    (StreamItemMessage("123", None), '{"type":2,"invocationId":"123","item":null}'),
    (CompletionMessage.with_result("123", 1), '{"type":3,"invocationId":"123","result":1}'),
    (CompletionMessage.with_result("123", "Foo"), '{"type":3,"invocationId":"123","result":"Foo"}'),
    (CompletionMessage.with_result("123", True), '{"type":3,"invocationId":"123","result":true}'),
    (CompletionMessage.with_result("123", None), '{"type":3,"invocationId":"123","result":null}'),
    (
        CompletionMessage.with_error("123", "Whoops!"),
        '{"type":3,"invocationId":"123","error":"Whoops!"}',
    ),
    (
        CompletionMessage.with_error("123", "Whoops!", HEADERS),
        '{"type":3,' + SERIALIZED_HEADERS + ',"invocationId":"123","error":"Whoops!"}',
    ),
    (CompletionMessage.empty("123"), '{"type":3,"invocationId":"123"}'),
    (
        StreamInvocationMessage("123", "Target", [1, "Foo"]),
        '{"type":4,"invocationId":"123","target":"Target","arguments":[1,"Foo"]}',
    ),
    (
        StreamInvocationMessage("123", "Target", [], ["__test_id__"]),
        '{"type":4,"invocationId":"123","target":"Target","arguments":[],"streamIds":["__test_id__"]}',
    ),
    (CancelInvocationMessage("123"), '{"type":5,"invocationId":"123"}'),
    (
        CancelInvocationMessage("123", HEADERS),
        '{"type":5,' + SERIALIZED_HEADERS + ',"invocationId":"123"}',
    ),
    (PING, '{"type":6}'),
    (CloseMessage(), '{"type":7}'),
    (CloseMessage("Error!"), '{"type":7,"error":"Error!"}'),
    (CloseMessage(""), '{"type":7,"error":""}'),
    (
        CloseMessage("Connection closed with an error.", True),
        '{"type":7,"error":"Connection closed with an error.","allowReconnect":true}',
    ),
    (CloseMessage(None, True), '{"type":7,"allowReconnect":true}'),
    (AckMessage(36), '{"type":8,"sequenceId":36}'),
    (SequenceMessage(19), '{"type":9,"sequenceId":19}'),
    (
        InvocationMessage("s1", "Target", [1], None, {"a": "b"}),
        '{"type":1,"headers":{"a":"b"},"invocationId":"s1","target":"Target","arguments":[1]}',
    ),
]


def test_protocol_identity() -> None:
    assert PROTOCOL.name == "json"
    assert PROTOCOL.version == 2
    assert PROTOCOL.transfer_format is TransferFormat.TEXT
    assert isinstance(PROTOCOL, HubProtocol)


@pytest.mark.parametrize(("message", "text"), VECTORS)
def test_write_vectors(message: HubMessage, text: str) -> None:
    assert PROTOCOL.write_payload(message) == text.encode()
    assert PROTOCOL.write(message) == text.encode() + b"\x1e"


@pytest.mark.parametrize(("message", "text"), VECTORS)
def test_parse_vectors(message: HubMessage, text: str) -> None:
    assert PROTOCOL.parse_payload(text.encode()) == message
    assert PROTOCOL.parse(text.encode() + b"\x1e") == [message]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{ "arguments": ["2016-05-10T13:51:20+12:34"], "type":1, "target": "Method" }',
            InvocationMessage(None, "Method", ["2016-05-10T13:51:20+12:34"]),
        ),
        (
            '{ "arguments": [1,2], "type":1, "target": "Method" }',
            InvocationMessage(None, "Method", [1, 2]),
        ),
        (
            '{ "type":4, "arguments": [1,2], "target": "Method", "invocationId": "3" }',
            StreamInvocationMessage("3", "Method", [1, 2]),
        ),
        (
            '{ "type":3, "result": 10, "invocationId": "15" }',
            CompletionMessage.with_result("15", 10),
        ),
        (
            '{ "item": "foo", "invocationId": "1a", "type":2 }',
            StreamItemMessage("1a", "foo"),
        ),
    ],
)
def test_out_of_order_properties(text: str, message: HubMessage) -> None:
    assert PROTOCOL.parse_payload(text.encode()) == message


def test_extra_properties_are_ignored() -> None:
    text = '{"type":1,"invocationId":"42","target":"foo","arguments":[],"extraParameter":"1"}'
    assert PROTOCOL.parse_payload(text.encode()) == InvocationMessage("42", "foo", [])


@pytest.mark.parametrize(
    "text",
    [
        '{"type":1,"target":"T","arguments":[]}',
        '{"type":1,"invocationId":"","target":"T","arguments":[]}',
        '{"type":1,"invocationId":null,"target":"T","arguments":[]}',
    ],
)
def test_invocation_without_id_is_non_blocking(text: str) -> None:
    message = PROTOCOL.parse_payload(text.encode())
    assert isinstance(message, InvocationMessage)
    assert message.invocation_id is None


def test_empty_headers_and_stream_ids_decode_to_none() -> None:
    text = '{"type":1,"headers":{},"target":"T","arguments":[],"streamIds":[]}'
    assert PROTOCOL.parse_payload(text.encode()) == InvocationMessage(None, "T", [])


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("null", "Unexpected JSON Token Type 'Null'. Expected a JSON Object."),
        ('"foo"', "Unexpected JSON Token Type 'String'. Expected a JSON Object."),
        ("[42]", "Unexpected JSON Token Type 'Array'. Expected a JSON Object."),
        ("true", "Unexpected JSON Token Type 'True'. Expected a JSON Object."),
        ("{}", "Missing required property 'type'."),
        ('{"type":"1"}', "Expected 'type' to be of type Number."),
        ('{"type":null}', "Expected 'type' to be of type Number."),
        # The reference reads headers before reaching the broken key.
        (
            '{"type":1,"headers":{"Foo": 42},"target":"test",arguments:[]}',
            "Expected header 'Foo' to be of type String.",
        ),
        (
            '{"type":1,"headers":{"Foo": true},"target":"test",arguments:[]}',
            "Expected header 'Foo' to be of type String.",
        ),
        (
            '{"type":1,"headers":{"Foo": null},"target":"test",arguments:[]}',
            "Expected header 'Foo' to be of type String.",
        ),
        (
            '{"type":1,"headers":{"Foo": []},"target":"test",arguments:[]}',
            "Expected header 'Foo' to be of type String.",
        ),
        (
            '{"type":1,"headers":{"Foo": 1},"target":"test","arguments":[]}',
            "Expected header 'Foo' to be of type String.",
        ),
        (
            '{"type":1,"headers":[],"target":"test","arguments":[]}',
            "Expected 'headers' to be of type StartObject.",
        ),
        ('{"type":1}', "Missing required property 'target'."),
        ('{"type":1,"invocationId":42}', "Expected 'invocationId' to be of type String."),
        ('{"type":1,"invocationId":"42"}', "Missing required property 'target'."),
        ('{"type":1,"invocationId":"42","target":42}', "Expected 'target' to be of type String."),
        ('{"type":1,"target":"","arguments":[]}', "Missing required property 'target'."),
        ('{"type":1,"invocationId":"42","target":"foo"}', "Missing required property 'arguments'."),
        (
            '{"type":1,"invocationId":"42","target":"foo","arguments":{}}',
            "Expected 'arguments' to be of type Array.",
        ),
        (
            '{"type":1,"target":"foo","arguments":[],"streamIds":"x"}',
            "Expected 'streamIds' to be of type Array.",
        ),
        (
            '{"type":1,"target":"foo","arguments":[],"streamIds":[null]}',
            "Null value for 'streamIds' is not valid.",
        ),
        ('{"type":2}', "Missing required property 'invocationId'."),
        ('{"type":2,"invocationId":42}', "Expected 'invocationId' to be of type String."),
        ('{"type":2,"invocationId":"42"}', "Missing required property 'item'."),
        ('{"type":2,"invocationId":"","item":1}', "Missing required property 'invocationId'."),
        ('{"type":3}', "Missing required property 'invocationId'."),
        ('{"type":3,"invocationId":42}', "Expected 'invocationId' to be of type String."),
        ('{"type":3,"invocationId":"42","error":[]}', "Expected 'error' to be of type String."),
        (
            '{"type":3,"invocationId":"42","error":"foo","result":true}',
            "The 'error' and 'result' properties are mutually exclusive.",
        ),
        ('{"type":4}', "Missing required property 'target'."),
        ('{"type":4,"target":"foo","arguments":[]}', "Missing required property 'invocationId'."),
        ('{"type":4,"invocationId":42}', "Expected 'invocationId' to be of type String."),
        ('{"type":4,"invocationId":"42","target":42}', "Expected 'target' to be of type String."),
        ('{"type":4,"invocationId":"42","target":"foo"}', "Missing required property 'arguments'."),
        (
            '{"type":4,"invocationId":"42","target":"foo","arguments":{}}',
            "Expected 'arguments' to be of type Array.",
        ),
        ('{"type":5}', "Missing required property 'invocationId'."),
        ('{"type":7,"error":1}', "Expected 'error' to be of type String."),
        ('{"type":7,"allowReconnect":"yes"}', "Expected 'allowReconnect' to be true or false."),
        ('{"type":8}', "Missing required property 'sequenceId'."),
        ('{"type":9,"sequenceId":null}', "Missing required property 'sequenceId'."),
        ('{"type":9,"sequenceId":"1"}', "Expected 'sequenceId' to be of type Number."),
        # Properties a type does not use are still type-checked, as the reference does.
        ('{"type":6,"target":1}', "Expected 'target' to be of type String."),
        ('{"type":99,"invocationId":1}', "Expected 'invocationId' to be of type String."),
        # The first bad property in document order wins.
        ('{"type":1,"target":1,"invocationId":2}', "Expected 'target' to be of type String."),
        ('{"type":1,"invocationId":2,"target":1}', "Expected 'invocationId' to be of type String."),
        # Malformed JSON of every kind.
        ('{"type":1,', "Error reading JSON."),
        ("", "Error reading JSON."),
        ("{", "Error reading JSON."),
        ("nope", "Error reading JSON."),
        ('{"type":1}{"type":6}', "Error reading JSON."),
        ('{"type":6,}', "Error reading JSON."),
        ('{"type":6,"x":NaN}', "Error reading JSON."),
        ('{"type":6,"x":Infinity}', "Error reading JSON."),
        ("{'type':6}", "Error reading JSON."),
        ('{"type":6,"x":"\x01"}', "Error reading JSON."),
    ],
)
def test_invalid_messages(text: str, error: str) -> None:
    with pytest.raises(ProtocolError) as info:
        PROTOCOL.parse_payload(text.encode())
    assert str(info.value) == error


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xfe",
        b'{"type":1,"target":"\xc3","arguments":[]}',
        b"[" * 5000 + b"]" * 5000,
        b'{"type":1,"target":"T","arguments":' + b"[" * 100_000,
        b'{"type":1,"target":"T","arguments":[' + b"9" * 5000 + b"]}",
        b'{"type":1.5}',
        b'{"type":4294967296}',
        b'{"type":8,"sequenceId":1.5}',
        b'{"type":8,"sequenceId":99999999999999999999}',
    ],
)
def test_garbage_raises_only_protocol_errors(data: bytes) -> None:
    with pytest.raises(ProtocolError):
        PROTOCOL.parse_payload(data)


def test_nesting_limit() -> None:
    def nested(depth: int) -> bytes:
        # The envelope object is level 1; the arguments array is level 2.
        inner = "[" * (depth - 1) + "]" * (depth - 1)
        return ('{"type":1,"target":"T","arguments":' + inner + "}").encode()

    assert PROTOCOL.parse_payload(nested(64)) is not None
    with pytest.raises(ProtocolError, match=r"^Error reading JSON\.$"):
        PROTOCOL.parse_payload(nested(65))
    # Many sibling containers are not deep.
    wide = '{"type":1,"target":"T","arguments":[' + ",".join(["[]"] * 500) + "]}"
    assert PROTOCOL.parse_payload(wide.encode()) is not None


@pytest.mark.parametrize("text", ['{"type":10}', '{"type":-1,"x":[1]}', '{"type":0}'])
def test_unknown_types_are_skipped(text: str) -> None:
    assert PROTOCOL.parse_payload(text.encode()) is None
    data = text.encode() + b"\x1e" + b'{"type":6}\x1e'
    assert PROTOCOL.parse(data) == [PING]


def test_completion_null_error_rejected_and_result_kept() -> None:
    message = PROTOCOL.parse_payload(b'{"type":3,"invocationId":"1","result":{"a":[1,null]}}')
    assert message == CompletionMessage.with_result("1", {"a": [1, None]})


def test_close_parsing() -> None:
    assert PROTOCOL.parse_payload(b'{"type":7}') == CloseMessage()
    assert PROTOCOL.parse_payload(b'{"type":7,"error":""}') == CloseMessage("")
    assert PROTOCOL.parse_payload(b'{"type":7,"allowReconnect":true}') == CloseMessage(None, True)


def test_whitespace_around_payload() -> None:
    assert PROTOCOL.parse_payload(b' \r\n{"type":6}\t ') == PING


def test_empty_completion_error_is_not_written() -> None:
    # The reference leaves out an empty error; clients read that as success.
    message = CompletionMessage("1", "", None, False)
    assert PROTOCOL.write_payload(message) == b'{"type":3,"invocationId":"1"}'


# --- Output conventions ---------------------------------------------------


def test_record_separator_never_raw() -> None:
    message = InvocationMessage(None, "T\x1e", ["a\x1eb", {"k\x1e": "v"}], None, {"h\x1e": "\x1e"})
    payload = PROTOCOL.write_payload(message)
    assert b"\x1e" not in payload
    assert PROTOCOL.parse_payload(payload) == message


def test_non_ascii_written_as_utf8() -> None:
    message = InvocationMessage(None, "Send", ["héllo ✓ 😀"])
    payload = PROTOCOL.write_payload(message)
    assert "héllo ✓ 😀".encode() in payload
    assert PROTOCOL.parse_payload(payload) == message


def test_lone_surrogate_falls_back_to_escapes() -> None:
    message = InvocationMessage(None, "Send", ["bad \ud800 é"])
    payload = PROTOCOL.write_payload(message)
    assert b"\\ud800" in payload
    assert payload.decode("ascii")
    assert PROTOCOL.parse_payload(payload) == message


class Color(enum.Enum):
    RED = 1


def test_argument_conventions() -> None:
    arguments: list[Any] = [
        dt.datetime(
            2016, 5, 10, 13, 51, 20, tzinfo=dt.timezone(dt.timedelta(hours=12, minutes=34))
        ),
        dt.datetime(2007, 3, 1, 13, 0, tzinfo=dt.UTC),
        dt.datetime(2007, 3, 1, 13, 0, 0, 500),
        dt.date(2020, 1, 2),
        b"\x01\x02\x03",
        Color.RED,
        uuid.UUID(int=1),
        (1, 2),
    ]
    payload = PROTOCOL.write_payload(InvocationMessage(None, "M", arguments))
    assert payload == (
        b'{"type":1,"target":"M","arguments":["2016-05-10T13:51:20+12:34",'
        b'"2007-03-01T13:00:00Z","2007-03-01T13:00:00.000500","2020-01-02","AQID",1,'
        b'"00000000-0000-0000-0000-000000000001",[1,2]]}'
    )


def test_unwritable_values() -> None:
    with pytest.raises(ValueError):
        PROTOCOL.write_payload(StreamItemMessage("1", float("nan")))
    with pytest.raises(TypeError):
        PROTOCOL.write_payload(StreamItemMessage("1", object()))


def test_big_integers_round_trip() -> None:
    message = CompletionMessage.with_result("1", [2**64, -(2**63), 10**30])
    assert PROTOCOL.parse_payload(PROTOCOL.write_payload(message)) == message


# --- Framing and the reader -----------------------------------------------


def test_parse_multiple_and_incomplete() -> None:
    data = b'{"type":6}\x1e{"type":7}\x1e'
    assert PROTOCOL.parse(data) == [PING, CloseMessage()]
    assert PROTOCOL.parse(b"") == []
    with pytest.raises(ProtocolError, match=r"Message is incomplete\."):
        PROTOCOL.parse(b'{"type":6}\x1e{"type":7}')


def test_reader_handles_split_chunks() -> None:
    messages = [PROTOCOL.write(message) for message, _ in VECTORS]
    data = b"".join(messages)
    reader = PROTOCOL.reader()
    parsed: list[HubMessage] = []
    for start in range(0, len(data), 7):
        parsed.extend(reader.feed(data[start : start + 7]))
    assert parsed == [message for message, _ in VECTORS]


def test_reader_skips_unknown_types() -> None:
    reader = PROTOCOL.reader()
    assert reader.feed(b'{"type":42}\x1e{"type":6}\x1e') == [PING]


def test_reader_size_limit() -> None:
    reader = PROTOCOL.reader(max_message_size=20)
    with pytest.raises(MessageTooLargeError):
        reader.feed(b'{"type":1,"target":"x')
    assert PROTOCOL.reader(max_message_size=None).feed(
        PROTOCOL.write(StreamItemMessage("1", "x" * 100_000))
    ) == [StreamItemMessage("1", "x" * 100_000)]
