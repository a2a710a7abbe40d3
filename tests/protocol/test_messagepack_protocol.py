"""The ``messagepack`` hub protocol: reference vectors, layouts, error texts, values."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import msgpack
import pytest

from signalr_server.protocol.base import HubProtocol
from signalr_server.protocol.errors import MessageTooLargeError, ProtocolError
from signalr_server.protocol.framing import write_binary_frame
from signalr_server.protocol.messagepack_protocol import MessagePackHubProtocol
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

PROTOCOL = MessagePackHubProtocol()
HEADERS = {
    "Foo": "Bar",
    "KeyWith\nNew\r\nLines": "Still Works",
    "ValueWithNewLines": "Also\nWorks\r\nFine",
}

# Unframed base64 bodies from the reference's MessagePackHubProtocolTestBase.
VECTORS: list[tuple[HubMessage, str]] = [
    (InvocationMessage("xyz", "method", []), "lgGAo3h5eqZtZXRob2SQkA=="),
    (InvocationMessage(None, "method", []), "lgGAwKZtZXRob2SQkA=="),
    (InvocationMessage(None, "method", [42]), "lgGAwKZtZXRob2SRKpA="),
    (InvocationMessage(None, "method", [42, "string"]), "lgGAwKZtZXRob2SSKqZzdHJpbmeQ"),
    (
        InvocationMessage(None, "Target", [], ["__test_id__"]),
        "lgGAwKZUYXJnZXSQkatfX3Rlc3RfaWRfXw==",
    ),
    (
        InvocationMessage(None, "Target", [42], ["__test_id__"]),
        "lgGAwKZUYXJnZXSRKpGrX190ZXN0X2lkX18=",
    ),
    (
        InvocationMessage(None, "Target", [], ["__test_id__", "__test_id2__"]),
        "lgGAwKZUYXJnZXSQkqtfX3Rlc3RfaWRfX6xfX3Rlc3RfaWQyX18=",
    ),
    (StreamItemMessage("xyz", 42), "lAKAo3h5eio="),
    (StreamItemMessage("xyz", "string"), "lAKAo3h5eqZzdHJpbmc="),
    (StreamItemMessage("xyz", True), "lAKAo3h5esM="),
    (
        CompletionMessage.with_error("xyz", "Error not found!"),
        "lQOAo3h5egGwRXJyb3Igbm90IGZvdW5kIQ==",
    ),
    (
        CompletionMessage.with_error("xyz", "Error not found!", HEADERS),
        "lQODo0Zvb6NCYXKyS2V5V2l0aApOZXcNCkxpbmVzq1N0aWxsIFdvcmtzsVZhbHVlV2l0aE5ld0xpbmVzsEFsc28K"
        "V29ya3MNCkZpbmWjeHl6AbBFcnJvciBub3QgZm91bmQh",
    ),
    (CompletionMessage.empty("xyz"), "lAOAo3h5egI="),
    (
        CompletionMessage.empty("xyz", HEADERS),
        "lAODo0Zvb6NCYXKyS2V5V2l0aApOZXcNCkxpbmVzq1N0aWxsIFdvcmtzsVZhbHVlV2l0aE5ld0xpbmVzsEFsc28K"
        "V29ya3MNCkZpbmWjeHl6Ag==",
    ),
    (CompletionMessage.with_result("xyz", 42), "lQOAo3h5egMq"),
    (CompletionMessage.with_result("xyz", "string"), "lQOAo3h5egOmc3RyaW5n"),
    (CompletionMessage.with_result("xyz", True), "lQOAo3h5egPD"),
    (StreamInvocationMessage("xyz", "method", []), "lgSAo3h5eqZtZXRob2SQkA=="),
    (StreamInvocationMessage("xyz", "method", [42]), "lgSAo3h5eqZtZXRob2SRKpA="),
    (
        StreamInvocationMessage("xyz", "method", [], ["__test_id__"]),
        "lgSAo3h5eqZtZXRob2SQkatfX3Rlc3RfaWRfXw==",
    ),
    (
        StreamInvocationMessage("xyz", "method", [42, "string"]),
        "lgSAo3h5eqZtZXRob2SSKqZzdHJpbmeQ",
    ),
    (CancelInvocationMessage("xyz"), "kwWAo3h5eg=="),
    (
        CancelInvocationMessage("xyz", HEADERS),
        "kwWDo0Zvb6NCYXKyS2V5V2l0aApOZXcNCkxpbmVzq1N0aWxsIFdvcmtzsVZhbHVlV2l0aE5ld0xpbmVzsEFsc28K"
        "V29ya3MNCkZpbmWjeHl6",
    ),
    (PING, "kQY="),
    (CloseMessage(), "kwfAwg=="),
    (CloseMessage("Error!"), "kwemRXJyb3Ihwg=="),
    (CloseMessage(None, True), "kwfAww=="),
    (CloseMessage("Error!", True), "kwemRXJyb3Ihww=="),
]


def test_protocol_identity() -> None:
    assert PROTOCOL.name == "messagepack"
    assert PROTOCOL.version == 2
    assert PROTOCOL.transfer_format is TransferFormat.BINARY
    assert isinstance(PROTOCOL, HubProtocol)


@pytest.mark.parametrize(("message", "encoded"), VECTORS)
def test_write_vectors(message: HubMessage, encoded: str) -> None:
    body = base64.b64decode(encoded)
    assert PROTOCOL.write_payload(message) == body
    assert PROTOCOL.write(message) == write_binary_frame(body)


@pytest.mark.parametrize(("message", "encoded"), VECTORS)
def test_parse_vectors(message: HubMessage, encoded: str) -> None:
    body = base64.b64decode(encoded)
    assert PROTOCOL.parse_payload(body) == message
    assert PROTOCOL.parse(write_binary_frame(body)) == [message]


@pytest.mark.parametrize(
    ("message", "hex_bytes"),
    [
        (PING, "02 91 06"),
        (CloseMessage(), "04 93 07 c0 c2"),
        (AckMessage(36), "03 92 08 24"),
        (SequenceMessage(19), "03 92 09 13"),
        (CloseMessage(""), "04 93 07 c0 c2"),  # the reference writes an empty error as nil
    ],
)
def test_framed_bytes(message: HubMessage, hex_bytes: str) -> None:
    assert PROTOCOL.write(message).hex(" ") == hex_bytes


def test_message_sizes_match_reference() -> None:
    sizes: list[tuple[HubMessage, int]] = [
        (InvocationMessage(None, "Target", [1]), 15),
        (InvocationMessage("1", "Target", [1]), 16),
        (InvocationMessage("1", "Target", [1], ["2"]), 18),
        (CloseMessage(), 5),
        (CloseMessage("error"), 10),
        (StreamItemMessage("1", None), 7),
        (StreamItemMessage("1", 1), 7),
        (CompletionMessage.empty("1"), 7),
        (CompletionMessage.with_result("1", 1), 8),
        (CompletionMessage.with_error("1", "error"), 13),
        (StreamInvocationMessage("1", "target", []), 15),
        (StreamInvocationMessage("1", "target", [], ["2"]), 17),
        (CancelInvocationMessage("1"), 6),
        (PING, 3),
    ]
    for message, size in sizes:
        assert len(PROTOCOL.write(message)) == size, message


@pytest.mark.parametrize(
    ("hex_bytes", "message"),
    [
        ("92 08 cc 24", AckMessage(36)),
        ("92 09 cc 13", SequenceMessage(19)),
        ("92 08 cf 7f ff ff ff ff ff ff ff", AckMessage(2**63 - 1)),
        ("92 07 c0", CloseMessage()),  # JS sends two elements
        ("92 07 a1 78", CloseMessage("x")),
        ("93 07 a0 c2", CloseMessage("")),
        # Five-element invocations (no stream ids), as JS sends them.
        ("95 01 80 c0 a1 74 90", InvocationMessage(None, "t", [])),
        ("95 01 80 a0 a1 74 90", InvocationMessage(None, "t", [])),
        ("95 04 80 a1 31 a1 74 91 01", StreamInvocationMessage("1", "t", [1])),
        ("96 01 80 c0 a1 74 90 90", InvocationMessage(None, "t", [])),
        # Extra trailing elements are ignored (MP-5), also on every type.
        (
            "98 01 80 a3 78 79 7a a6 6d 65 74 68 6f 64 90 90 c3 a2 65 78",
            InvocationMessage("xyz", "method", []),
        ),
        ("92 06 c3", PING),
        ("95 02 80 a1 31 01 ff", StreamItemMessage("1", 1)),
        ("96 03 80 a1 31 03 c0 ff", CompletionMessage.with_result("1", None)),
        ("95 03 80 a1 31 02 ff", CompletionMessage.empty("1")),
        ("94 05 80 a1 31 ff", CancelInvocationMessage("1")),
        ("94 07 c0 c3 ff", CloseMessage(None, True)),
        ("93 08 01 ff", AckMessage(1)),
        # Completion error kind with a nil error: no error, no result.
        ("95 03 80 a1 31 01 c0", CompletionMessage.empty("1")),
        # Result false / nil.
        ("95 03 80 a1 31 03 c2", CompletionMessage.with_result("1", False)),
        # Headers decode, empty headers are None.
        ("94 05 81 a1 61 a1 62 a1 31", CancelInvocationMessage("1", {"a": "b"})),
    ],
)
def test_accepted_layouts(hex_bytes: str, message: HubMessage) -> None:
    assert PROTOCOL.parse_payload(bytes.fromhex(hex_bytes)) == message


@pytest.mark.parametrize("hex_bytes", ["91 0a", "93 00 01 02", "91 ff", "91 cd ff ff", "92 63 c0"])
def test_unknown_types_are_skipped(hex_bytes: str) -> None:
    assert PROTOCOL.parse_payload(bytes.fromhex(hex_bytes)) is None
    data = write_binary_frame(bytes.fromhex(hex_bytes)) + b"\x02\x91\x06"
    assert PROTOCOL.parse(data) == [PING]


def _b(*parts: int | bytes) -> bytes:
    out = bytearray()
    for part in parts:
        if isinstance(part, int):
            out.append(part)
        else:
            out += part
    return bytes(out)


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        # The reference's BaseInvalidPayloads.
        (_b(0x91, 0xA3, b"foo"), "Reading 'messageType' as Int32 failed."),
        (_b(0x92, 1, 0xA3, b"foo"), "Reading map length for 'headers' failed."),
        (_b(0x92, 1, 0x82, 0x2A, 0xA3, b"foo"), "Reading 'headers[0].Key' as String failed."),
        (_b(0x92, 1, 0x82, 0xA3, b"foo", 42), "Reading 'headers[0].Value' as String failed."),
        (
            _b(0x92, 1, 0x84, 0xA3, b"foo", 0xA3, b"foo", 0x90, 0xA3, b"foo"),
            "Reading 'headers[1].Key' as String failed.",
        ),
        (
            _b(0x92, 1, 0x84, 0xA3, b"foo", 0xA3, b"foo", 0xA3, b"foo", 0x90),
            "Reading 'headers[1].Value' as String failed.",
        ),
        (_b(0x92, 1, 0x80), "Reading 'invocationId' as String failed."),
        (_b(0x91, 1, 0x80, 0xC2), "Reading 'invocationId' as String failed."),
        (_b(0x93, 1, 0x80, 0xA3, b"abc"), "Reading 'target' as String failed."),
        (_b(0x94, 1, 0x80, 0xA3, b"abc", 42), "Reading 'target' as String failed."),
        (_b(0x92, 4, 0x80), "Reading 'invocationId' as String failed."),
        (_b(0x93, 4, 0x80, 0xC2), "Reading 'invocationId' as String failed."),
        (_b(0x93, 4, 0x80, 0xA3, b"abc"), "Reading 'target' as String failed."),
        (_b(0x94, 4, 0x80, 0xA3, b"abc", 42), "Reading 'target' as String failed."),
        (_b(0x92, 2, 0x80), "Reading 'invocationId' as String failed."),
        (_b(0x93, 2, 0x80, 0xC2), "Reading 'invocationId' as String failed."),
        (_b(0x92, 3, 0x80), "Reading 'invocationId' as String failed."),
        (_b(0x93, 3, 0x80, 0xC2), "Reading 'invocationId' as String failed."),
        (
            _b(0x94, 3, 0x80, 0xA3, b"xyz", 0xA3, b"xyz"),
            "Reading 'resultKind' as Int32 failed.",
        ),
        (_b(0x94, 3, 0x80, 0xA3, b"xyz", 42), "Invalid invocation result kind."),
        (_b(0x94, 3, 0x80, 0xA3, b"xyz", 0x01), "Reading 'error' as String failed."),
        (_b(0x95, 3, 0x80, 0xA3, b"xyz", 0x01, 42), "Reading 'error' as String failed."),
        # The reference's argument errors (a binding failure there, fatal here).
        (
            _b(0x94, 1, 0x80, 0xA3, b"abc", 0xA3, b"xyz"),
            "Reading array length for 'arguments' failed.",
        ),
        (
            _b(0x95, 1, 0x80, 0xA3, b"abc", 0xA3, b"xyz", 42),
            "Reading array length for 'arguments' failed.",
        ),
        (
            _b(0x95, 4, 0x80, 0xA3, b"abc", 0xA3, b"xyz", 42),
            "Reading array length for 'arguments' failed.",
        ),
        # Empty ids, targets, header keys and values.
        (_b(0x95, 1, 0x80, 0xC0, 0xA0, 0x90), "Null or empty target for Invocation message."),
        (_b(0x95, 1, 0x80, 0xC0, 0xC0, 0x90), "Null or empty target for Invocation message."),
        (
            _b(0x95, 4, 0x80, 0xC0, 0xA1, b"t", 0x90),
            "Null or empty invocation ID for StreamInvocation message.",
        ),
        (
            _b(0x95, 4, 0x80, 0xA1, b"1", 0xA0, 0x90),
            "Null or empty target for StreamInvocation message.",
        ),
        (_b(0x94, 2, 0x80, 0xA0, 1), "Null or empty invocation ID for StreamItem message."),
        (_b(0x94, 3, 0x80, 0xC0, 2), "Null or empty invocation ID for Completion message."),
        (_b(0x93, 5, 0x80, 0xA0), "Null or empty invocation ID for CancelInvocation message."),
        (_b(0x93, 5, 0x81, 0xA0, 0xA1, b"v", 0xA1, b"1"), "Null or empty key in header."),
        (_b(0x93, 5, 0x81, 0xC0, 0xA1, b"v", 0xA1, b"1"), "Null or empty key in header."),
        (_b(0x93, 5, 0x81, 0xA1, b"k", 0xA0, 0xA1, b"1"), "Null or empty value in header."),
        # Stream ids.
        (
            _b(0x96, 1, 0x80, 0xC0, 0xA1, b"t", 0x90, 0xC0),
            "Reading array length for 'streamIds' failed.",
        ),
        (
            _b(0x96, 1, 0x80, 0xC0, 0xA1, b"t", 0x90, 0x91, 0xA0),
            "Null or empty value in streamIds received.",
        ),
        (
            _b(0x96, 1, 0x80, 0xC0, 0xA1, b"t", 0x90, 0x91, 0x01),
            "Reading 'streamIds[0]' as String failed.",
        ),
        # Items, results, close, sequence ids.
        (
            _b(0x93, 2, 0x80, 0xA3, b"xyz"),
            "Deserializing object of the `Object` type for 'item' failed.",
        ),
        (
            _b(0x94, 3, 0x80, 0xA3, b"xyz", 0x03),
            "Deserializing object of the `Object` type for 'argument' failed.",
        ),
        (_b(0x92, 7, 0x01), "Reading 'error' as String failed."),
        (_b(0x93, 7, 0xC0, 0x01), "Reading 'allowReconnect' as Boolean failed."),
        (_b(0x92, 8, 0xA1, b"1"), "Reading 'sequenceId' as Int64 failed."),
        (_b(0x92, 9, 0xCF, b"\xff" * 8), "Reading 'sequenceId' as Int64 failed."),
        (_b(0x91, 0xCE, b"\xff\xff\xff\xff"), "Reading 'messageType' as Int32 failed."),
        (_b(0x91, 0xC3), "Reading 'messageType' as Int32 failed."),
        (_b(0x90), "Reading 'messageType' as Int32 failed."),
    ],
)
def test_invalid_messages(payload: bytes, error: str) -> None:
    with pytest.raises(ProtocolError) as info:
        PROTOCOL.parse_payload(payload)
    assert str(info.value) == error


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"\xc1",
        b"\x01",
        b"\xa3abc",
        b"\x95\x01\x80\xc0\xa1t\x91\xa2\xff\xfe",  # invalid UTF-8 in an argument
        b"\x95\x01\x80\xc0\xa1t\x91\x81\x91\x01\x01",  # unhashable map key
        b"\x95\x01\x80\xc0\xa1t" + b"\x91" * 50_000,  # deep nesting
        b"\x95\x01\x80\xc0\xa1t\x91\xd4\xff\x01",  # timestamp of a wrong length
        b"\x95\x01\x80\xc0\xa1t\x91\xc7\x0c\xff"
        + b"\x00" * 4
        + b"\x7f"
        + b"\xff" * 7,  # far future
        b"\x95\x01\x80\xc0\xa1t\xdd\xff\xff\xff\xff",  # huge declared array
        b"\x95\x01\x80\xc0\xa1t\x91\xdb\xff\xff\xff\xff",  # huge declared string
    ],
)
def test_garbage_raises_only_protocol_errors(payload: bytes) -> None:
    with pytest.raises(ProtocolError):
        PROTOCOL.parse_payload(payload)


def test_truncations_raise_only_protocol_errors() -> None:
    for _message, encoded in VECTORS:
        body = base64.b64decode(encoded)
        for cut in range(len(body)):
            try:
                result = PROTOCOL.parse_payload(body[:cut])
            except ProtocolError:
                continue
            # A cut that still parses must be a complete message.
            assert result is None or isinstance(result, HubMessage)


# --- Values ---------------------------------------------------------------

UTC = dt.UTC


@pytest.mark.parametrize(
    ("value", "hex_bytes"),
    [
        (dt.datetime(2017, 4, 11, tzinfo=UTC), "d6 ff 58 ec 1c 80"),
        (dt.datetime(2018, 1, 1, 11, 24, tzinfo=UTC), "d6 ff 5a 4a 1a 50"),
        (dt.datetime(2017, 4, 11), "d6 ff 58 ec 1c 80"),  # naive means UTC
        (
            dt.datetime(2017, 4, 11, 2, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            "d6 ff 58 ec 1c 80",
        ),
        (dt.datetime(2017, 4, 11, 0, 0, 0, 500, tzinfo=UTC), "d7 ff 00 1e 84 80 58 ec 1c 80"),
        (dt.datetime(1, 1, 1, tzinfo=UTC), "c7 0c ff 00 00 00 00 ff ff ff f1 88 6e 09 00"),
        (
            dt.datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC),
            "c7 0c ff 00 00 00 00 ff ff ff ff ff ff ff ff",
        ),
    ],
)
def test_datetime_encoding(value: dt.datetime, hex_bytes: str) -> None:
    payload = PROTOCOL.write_payload(StreamItemMessage("1", value))
    assert payload.hex(" ").endswith(hex_bytes)
    decoded = PROTOCOL.parse_payload(payload)
    assert isinstance(decoded, StreamItemMessage)
    expected = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    assert decoded.item == expected
    assert decoded.item.tzinfo is UTC


def test_timestamp_nanoseconds_truncate_to_microseconds() -> None:
    stamp = msgpack.Timestamp(1, 999_999_999).to_bytes()
    payload = bytes.fromhex("94 02 80 a1 31 d7 ff") + stamp
    decoded = PROTOCOL.parse_payload(payload)
    assert isinstance(decoded, StreamItemMessage)
    assert decoded.item == dt.datetime(1970, 1, 1, 0, 0, 1, 999_999, tzinfo=UTC)


def test_value_mapping_round_trip() -> None:
    values: list[Any] = [
        b"\x01\x02\x03",
        "héllo ✓",
        2**64 - 1,
        -(2**63),
        1.5,
        None,
        {"Name": "x", "Items": [1, 2]},
        {1: "int keys survive"},
        [],
    ]
    message = InvocationMessage("1", "Method", values)
    decoded = PROTOCOL.parse_payload(PROTOCOL.write_payload(message))
    assert decoded == message


def test_bytes_written_as_bin() -> None:
    payload = PROTOCOL.write_payload(StreamItemMessage("1", b"\x01\x02\x03"))
    assert payload.endswith(bytes.fromhex("c4 03 01 02 03"))
    payload = PROTOCOL.write_payload(StreamItemMessage("1", bytearray(b"\x01")))
    assert payload.endswith(bytes.fromhex("c4 01 01"))


def test_other_ext_types_are_kept() -> None:
    payload = bytes.fromhex("94 02 80 a1 31 d4 05 01")
    decoded = PROTOCOL.parse_payload(payload)
    assert decoded == StreamItemMessage("1", msgpack.ExtType(5, b"\x01"))


def test_unwritable_values() -> None:
    with pytest.raises(TypeError):
        PROTOCOL.write_payload(StreamItemMessage("1", object()))


def test_empty_invocation_id_written_as_nil() -> None:
    payload = PROTOCOL.write_payload(InvocationMessage("", "t", []))
    assert payload.hex(" ") == "96 01 80 c0 a1 74 90 90"


# --- Framing and the reader -----------------------------------------------


def test_parse_multiple_and_incomplete() -> None:
    data = PROTOCOL.write(PING) + PROTOCOL.write(CloseMessage())
    assert PROTOCOL.parse(data) == [PING, CloseMessage()]
    assert PROTOCOL.parse(b"") == []
    with pytest.raises(ProtocolError, match=r"Incomplete message\."):
        PROTOCOL.parse(data[:-1])
    with pytest.raises(ProtocolError, match=r"Incomplete message\."):
        PROTOCOL.parse(b"\x80")


def test_reader_handles_split_chunks() -> None:
    data = b"".join(PROTOCOL.write(message) for message, _ in VECTORS)
    reader = PROTOCOL.reader()
    parsed: list[HubMessage] = []
    for start in range(0, len(data), 5):
        parsed.extend(reader.feed(data[start : start + 5]))
    assert parsed == [message for message, _ in VECTORS]


def test_reader_size_limit() -> None:
    big = PROTOCOL.write(StreamItemMessage("1", b"x" * 40_000))
    with pytest.raises(MessageTooLargeError):
        PROTOCOL.reader().feed(big[:10])
    assert PROTOCOL.reader(None).feed(big) == [StreamItemMessage("1", b"x" * 40_000)]
