"""Handshake parsing and writing, with the reference's HandshakeProtocolTests vectors."""

from __future__ import annotations

import pytest

from signalr_server.protocol.errors import HandshakeError, MessageTooLargeError
from signalr_server.protocol.handshake import (
    HandshakeParser,
    parse_handshake_request,
    parse_handshake_response,
    write_handshake_request,
    write_handshake_response,
)
from signalr_server.protocol.messages import HandshakeRequest, HandshakeResponse


@pytest.mark.parametrize(
    ("payload", "protocol", "version"),
    [
        ('{"protocol":"dummy","version":1}', "dummy", 1),
        ('{"protocol":"","version":10}', "", 10),
        ('{"protocol":"","version":10,"unknown":null}', "", 10),
        ('{"version":2, "protocol":"messagepack"}', "messagepack", 2),
        (' {"protocol":"json","version":1} ', "json", 1),
    ],
)
def test_parse_valid_requests(payload: str, protocol: str, version: int) -> None:
    assert parse_handshake_request(payload.encode()) == HandshakeRequest(protocol, version)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("42", "Unexpected JSON Token Type 'Number'. Expected a JSON Object."),
        ('"42"', "Unexpected JSON Token Type 'String'. Expected a JSON Object."),
        ("null", "Unexpected JSON Token Type 'Null'. Expected a JSON Object."),
        ("[]", "Unexpected JSON Token Type 'Array'. Expected a JSON Object."),
        ("{}", "Missing required property 'protocol'. Message content: {}"),
        (
            '{"protocol":"json"}',
            'Missing required property \'version\'. Message content: {"protocol":"json"}',
        ),
        ('{"version":1}', "Missing required property 'protocol'. Message content: {\"version\":1}"),
        (
            '{"type":4,"invocationId":"42","target":"foo","arguments":{}}',
            "Missing required property 'protocol'. Message content: "
            '{"type":4,"invocationId":"42","target":"foo","arguments":{}}',
        ),
        ('{"version":"123"}', "Expected 'version' to be of type Number."),
        ('{"protocol":null,"version":123}', "Expected 'protocol' to be of type String."),
        ('{"protocol":"json","version":', "Error reading JSON."),
        (b"\xff\xfe".decode("latin-1"), "Error reading JSON."),
    ],
)
def test_parse_invalid_requests(payload: str, message: str) -> None:
    data = payload.encode("latin-1") if payload.startswith("\xff") else payload.encode()
    with pytest.raises(HandshakeError) as info:
        parse_handshake_request(data)
    assert str(info.value) == message


def test_version_must_be_an_int32() -> None:
    with pytest.raises(HandshakeError, match="out of bounds for an Int32"):
        parse_handshake_request(b'{"protocol":"json","version":1.5}')
    with pytest.raises(HandshakeError, match="out of bounds for an Int32"):
        parse_handshake_request(b'{"protocol":"json","version":4294967296}')


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ('{"error":"dummy"}', "dummy"),
        ('{"error":""}', ""),
        ("{}", None),
        ('{"unknown":null}', None),
        ('{"error":"","minorVersion":34}', ""),
    ],
)
def test_parse_valid_responses(payload: str, error: str | None) -> None:
    assert parse_handshake_response(payload.encode()) == HandshakeResponse(error)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("42", "Unexpected JSON Token Type 'Number'. Expected a JSON Object."),
        ('"42"', "Unexpected JSON Token Type 'String'. Expected a JSON Object."),
        ("null", "Unexpected JSON Token Type 'Null'. Expected a JSON Object."),
        ("[]", "Unexpected JSON Token Type 'Array'. Expected a JSON Object."),
        ('{"error":null}', "Expected 'error' to be of type String."),
        ('{"type":6}', "Expected a handshake response from the server."),
    ],
)
def test_parse_invalid_responses(payload: str, message: str) -> None:
    with pytest.raises(HandshakeError) as info:
        parse_handshake_response(payload.encode())
    assert str(info.value) == message


def test_write_response() -> None:
    assert write_handshake_response() == b"{}\x1e"
    assert write_handshake_response("") == b"{}\x1e"
    assert (
        write_handshake_response("The protocol 'x' is not supported.")
        == b'{"error":"The protocol \'x\' is not supported."}\x1e'
    )
    assert write_handshake_response('quote " and \x1e') == b'{"error":"quote \\" and \\u001e"}\x1e'


def test_write_request_round_trips() -> None:
    data = write_handshake_request(HandshakeRequest("json", 1))
    assert data == b'{"protocol":"json","version":1}\x1e'
    assert parse_handshake_request(data[:-1]) == HandshakeRequest("json", 1)


def test_response_round_trips() -> None:
    data = write_handshake_response("Handshake was canceled.")
    assert parse_handshake_response(data[:-1]) == HandshakeResponse("Handshake was canceled.")


def test_parser_waits_for_separator_and_keeps_remainder() -> None:
    parser = HandshakeParser()
    assert parser.feed(b'{"protocol":"json",') is None
    request = parser.feed(b'"version":1}\x1e{"type":6}\x1e{"ty')
    assert request == HandshakeRequest("json", 1)
    assert parser.request == request
    assert parser.remainder == b'{"type":6}\x1e{"ty'
    with pytest.raises(RuntimeError):
        parser.feed(b"more")


def test_parser_empty_remainder() -> None:
    parser = HandshakeParser()
    assert parser.feed(b'{"protocol":"messagepack","version":2}\x1e') is not None
    assert parser.remainder == b""


def test_parser_binary_remainder_untouched() -> None:
    parser = HandshakeParser()
    parser.feed(b'{"protocol":"messagepack","version":1}\x1e\x02\x91\x06')
    assert parser.remainder == b"\x02\x91\x06"


def test_parser_byte_by_byte() -> None:
    data = b'{"protocol":"json","version":1}\x1e'
    parser = HandshakeParser()
    results = [parser.feed(bytes([byte])) for byte in data]
    assert results[:-1] == [None] * (len(data) - 1)
    assert results[-1] == HandshakeRequest("json", 1)


def test_parser_size_limit_while_buffering() -> None:
    parser = HandshakeParser(max_message_size=16)
    parser.feed(b"{" * 16)
    with pytest.raises(MessageTooLargeError):
        parser.feed(b" ")


def test_parser_size_limit_counts_separator() -> None:
    data = b'{"protocol":"json","version":1}\x1e'
    assert HandshakeParser(len(data)).feed(data) is not None
    with pytest.raises(MessageTooLargeError):
        HandshakeParser(len(data) - 1).feed(data)


def test_parser_reports_bad_request() -> None:
    with pytest.raises(HandshakeError, match="Missing required property 'protocol'"):
        HandshakeParser().feed(b"{}\x1e")
