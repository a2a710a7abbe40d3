"""Negotiate responses byte for byte (NEG-1..NEG-15), and ids (NEG-15)."""

from __future__ import annotations

import json
import re

import pytest

from signalr_server.connections.context import RequestInfo
from signalr_server.connections.ids import new_connection_id, new_id_and_token
from signalr_server.connections.negotiate import available_transports, negotiate
from signalr_server.connections.options import (
    ALL_TRANSPORTS,
    HttpConnectionOptions,
    HttpTransportType,
)

ALL_LISTED = (
    '[{"transport":"WebSockets","transferFormats":["Text","Binary"]},'
    '{"transport":"ServerSentEvents","transferFormats":["Text"]},'
    '{"transport":"LongPolling","transferFormats":["Text","Binary"]}]'
)


def request(query: str) -> RequestInfo:
    return RequestInfo.from_scope({"path": "/hub/negotiate", "query_string": query.encode()})


def body_for(query: str, options: HttpConnectionOptions | None = None) -> bytes:
    outcome = negotiate(request(query), options or HttpConnectionOptions(), "ID", "TOKEN")
    assert outcome.status == 200
    assert outcome.content_type == b"application/json"
    return outcome.body


def test_version_1_carries_token_and_version() -> None:
    expected = (
        '{"negotiateVersion":1,"connectionId":"ID","connectionToken":"TOKEN",'
        f'"availableTransports":{ALL_LISTED}}}'
    )
    assert body_for("negotiateVersion=1") == expected.encode()


def test_version_0_omits_the_token() -> None:
    expected = f'{{"negotiateVersion":0,"connectionId":"ID","availableTransports":{ALL_LISTED}}}'
    assert body_for("") == expected.encode()
    assert body_for("negotiateVersion=0") == expected.encode()


@pytest.mark.parametrize(
    "query", ["negotiateVersion=7", "NEGOTIATEVERSION=2", "negotiateversion=+5"]
)
def test_higher_versions_are_answered_with_1(query: str) -> None:
    assert json.loads(body_for(query))["negotiateVersion"] == 1


@pytest.mark.parametrize("value", ["abc", "1.0", "", "99999999999", "1_0", "٣"])
def test_non_integer_version(value: str) -> None:
    outcome = negotiate(request(f"negotiateVersion={value}"), HttpConnectionOptions(), "I", "T")
    assert outcome.body == b'{"error":"The client requested a non-integer protocol version."}'
    assert outcome.error is not None


def test_version_below_minimum() -> None:
    options = HttpConnectionOptions(minimum_protocol_version=1)
    assert body_for("negotiateVersion=0", options) == (
        b'{"error":"The client requested version \'0\', '
        b'but the server does not support this version."}'
    )
    assert body_for("", options) == (
        b'{"error":"The client requested version \'0\', '
        b'but the server does not support this version."}'
    )
    assert b"version '-1'" in body_for("negotiateVersion=-1")


@pytest.mark.parametrize(
    ("allow", "query", "expected"),
    [
        (True, "negotiateVersion=1&useStatefulReconnect=true", True),
        (True, "negotiateVersion=1&UseStatefulReconnect=True", True),
        (True, "negotiateVersion=1&useStatefulReconnect=false", False),
        (True, "negotiateVersion=1", False),
        (False, "negotiateVersion=1&useStatefulReconnect=true", False),
    ],
)
def test_stateful_reconnect_only_when_allowed_and_requested(
    allow: bool, query: str, expected: bool
) -> None:
    options = HttpConnectionOptions(allow_stateful_reconnects=allow)
    outcome = negotiate(request(query), options, "ID", "TOKEN")
    payload = json.loads(outcome.body)
    assert outcome.use_stateful_reconnect is expected
    if expected:
        assert payload["useStatefulReconnect"] is True
        assert outcome.body.endswith(b',"useStatefulReconnect":true}')
    else:
        assert "useStatefulReconnect" not in payload


def test_never_redirects_nor_claims_legacy_protocol() -> None:
    payload = json.loads(body_for("negotiateVersion=1&foo=bar&_=123"))
    assert not {"url", "accessToken", "ProtocolVersion", "error"} & payload.keys()


def test_disabled_transports_are_left_out() -> None:
    options = HttpConnectionOptions(transports=HttpTransportType.LongPolling)
    assert json.loads(body_for("negotiateVersion=1", options))["availableTransports"] == [
        {"transport": "LongPolling", "transferFormats": ["Text", "Binary"]}
    ]
    options = HttpConnectionOptions(transports=HttpTransportType.NONE)
    assert json.loads(body_for("negotiateVersion=1", options))["availableTransports"] == []


def test_reference_transport_list_order_and_formats() -> None:
    assert available_transports(ALL_TRANSPORTS) == [
        {"transport": "WebSockets", "transferFormats": ["Text", "Binary"]},
        {"transport": "ServerSentEvents", "transferFormats": ["Text"]},
        {"transport": "LongPolling", "transferFormats": ["Text", "Binary"]},
    ]


def test_ids_are_22_url_safe_chars_and_distinct() -> None:
    ids = {new_connection_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", value) for value in ids)
    connection_id, token = new_id_and_token()
    assert connection_id != token


def test_option_defaults_match_the_reference() -> None:
    options = HttpConnectionOptions()
    assert options.transports == ALL_TRANSPORTS
    assert (options.disconnect_timeout, options.websocket_close_timeout) == (15.0, 5.0)
    assert (options.transport_send_timeout, options.long_polling_poll_timeout) == (10.0, 90.0)
    assert options.transport_max_buffer_size == options.application_max_buffer_size == 65536
    assert options.allow_stateful_reconnects is False
    assert options.minimum_protocol_version == 0
