"""Regenerate or validate the golden protocol vectors in this folder.

The JSON files are the deliverable; this script is how they were written and
how a reviewer can prove they have not drifted from their definitions.  It
deliberately builds every byte string by hand (hex, literal JSON text, the
reference tests' base64 bodies, a local VarInt and timestamp encoder) and
never imports ``signalr_server``: a golden file produced by the code under
test would only prove the code agrees with itself.

Usage (from the repository root)::

    python protocol_fixtures/check.py          # verify the files are current
    python protocol_fixtures/check.py --write  # rewrite them
"""

# ruff: noqa: E501  (long lines are the reference tests' base64 and JSON literals)
from __future__ import annotations

import base64
import json
import struct
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RS = "\x1e"

Vector = dict[str, Any]

# --------------------------------------------------------------------------
# Neutral message builders (the format is described in README.md)
# --------------------------------------------------------------------------


def inv(
    iid: str | None,
    target: str,
    args: list[Any],
    stream_ids: list[str] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "type": "Invocation",
        "invocationId": iid,
        "target": target,
        "arguments": args,
        "streamIds": stream_ids,
        "headers": headers,
    }


def sinv(
    iid: str,
    target: str,
    args: list[Any],
    stream_ids: list[str] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    msg = inv(iid, target, args, stream_ids, headers)
    msg["type"] = "StreamInvocation"
    return msg


def item(iid: str, value: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {"type": "StreamItem", "invocationId": iid, "item": value, "headers": headers}


def completion(
    iid: str,
    *,
    error: str | None = None,
    result: Any = None,
    has_result: bool = False,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "type": "Completion",
        "invocationId": iid,
        "error": error,
        "result": result,
        "hasResult": has_result,
        "headers": headers,
    }


def result(iid: str, value: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return completion(iid, result=value, has_result=True, headers=headers)


def error(iid: str, text: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return completion(iid, error=text, headers=headers)


def void(iid: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return completion(iid, headers=headers)


def cancel(iid: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {"type": "CancelInvocation", "invocationId": iid, "headers": headers}


PING: dict[str, Any] = {"type": "Ping"}


def close(err: str | None = None, allow_reconnect: bool = False) -> dict[str, Any]:
    return {"type": "Close", "error": err, "allowReconnect": allow_reconnect}


def ack(n: int) -> dict[str, Any]:
    return {"type": "Ack", "sequenceId": n}


def seq(n: int) -> dict[str, Any]:
    return {"type": "Sequence", "sequenceId": n}


def b64(data: bytes) -> dict[str, str]:
    return {"$bytes": base64.b64encode(data).decode("ascii")}


def dt(text: str) -> dict[str, str]:
    return {"$datetime": text}


def flt(text: str) -> dict[str, str]:
    return {"$float": text}


def big(n: int) -> dict[str, str]:
    return {"$int": str(n)}


# --------------------------------------------------------------------------
# Independent byte helpers
# --------------------------------------------------------------------------


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        low = n & 0x7F
        n >>= 7
        if n:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def frame(body: bytes) -> bytes:
    return varint(len(body)) + body


def mstr(text: str) -> bytes:
    """A msgpack str in its shortest form."""
    raw = text.encode("utf-8")
    n = len(raw)
    if n < 32:
        return bytes([0xA0 | n]) + raw
    if n < 256:
        return b"\xd9" + bytes([n]) + raw
    if n < 65536:
        return b"\xda" + struct.pack(">H", n) + raw
    return b"\xdb" + struct.pack(">I", n) + raw


def timestamp(seconds: int, nanoseconds: int) -> bytes:
    """msgpack timestamp extension (-1) in the shortest form the spec allows."""
    if seconds >> 34 == 0:
        data64 = (nanoseconds << 34) | seconds
        if data64 & 0xFFFFFFFF00000000 == 0:
            return b"\xd6\xff" + struct.pack(">I", data64)
        return b"\xd7\xff" + struct.pack(">Q", data64)
    return b"\xc7\x0c\xff" + struct.pack(">Iq", nanoseconds, seconds)


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


# --------------------------------------------------------------------------
# Vector assembly
# --------------------------------------------------------------------------

TEST_HEADERS = {
    "Foo": "Bar",
    "KeyWith\nNew\r\nLines": "Still Works",
    "ValueWithNewLines": "Also\nWorks\r\nFine",
}
JSON_HEADERS = (
    '"headers":{"Foo":"Bar","KeyWith\\nNew\\r\\nLines":"Still Works",'
    '"ValueWithNewLines":"Also\\nWorks\\r\\nFine"}'
)
MP_HEADERS = b"\x83" + b"".join(mstr(k) + mstr(val) for k, val in TEST_HEADERS.items())
# The reference CancelInvocation-with-headers body is 93 05 <headers> A3 'xyz'.
assert (
    base64.b64decode(
        "kwWDo0Zvb6NCYXKyS2V5V2l0aApOZXcNCkxpbmVzq1N0aWxsIFdvcmtzsVZhbHVlV2l0aE5ld0xpbmVzsEFsc28KV29ya3MNCkZpbmWjeHl6"
    )[2:-4]
    == MP_HEADERS
)

JS_IGNORES_4_5 = "skip: JS clients ignore message types 4 and 5 from a server"


def make(
    name: str,
    protocol: str,
    kind: str,
    description: str,
    data: bytes,
    *,
    message: Any = None,
    messages: list[Any] | None = None,
    error_text: str | None = None,
    js: str | None = None,
    text: bool = False,
    max_size: int | str | None = "default",
    side: str | None = None,
) -> Vector:
    vec: Vector = {"name": name, "protocol": protocol, "kind": kind, "description": description}
    if side is not None:
        vec["side"] = side
    if messages is not None:
        vec["messages"] = messages
    else:
        vec["message"] = message
    vec["bytes"] = data.hex()
    if text:
        vec["text"] = data.decode("utf-8", errors="replace")
    if max_size != "default":
        vec["maxMessageSize"] = max_size
    if error_text is not None:
        vec["error"] = error_text
    if js is not None:
        vec["js"] = js
    return vec


def jvec(
    name: str,
    kind: str,
    description: str,
    body: str | bytes,
    msg: Any = None,
    *,
    msgs: list[Any] | None = None,
    error_text: str | None = None,
    js: str | None = None,
    frame_it: bool = True,
) -> Vector:
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if frame_it:
        raw += RS.encode()
    is_4_or_5 = isinstance(msg, dict) and msg.get("type") in (
        "StreamInvocation",
        "CancelInvocation",
    )
    if js is None and msgs is None and is_4_or_5:
        js = JS_IGNORES_4_5
    return make(
        name,
        "json",
        kind,
        description,
        raw,
        message=msg,
        messages=msgs,
        error_text=error_text,
        js=js,
        text=True,
    )


def mvec(
    name: str,
    kind: str,
    description: str,
    body: bytes,
    msg: Any = None,
    *,
    msgs: list[Any] | None = None,
    error_text: str | None = None,
    js: str | None = None,
    framed: bool = False,
) -> Vector:
    raw = body if framed else frame(body)
    if js is None and msgs is None and isinstance(msg, dict):
        if msg.get("type") in ("StreamInvocation", "CancelInvocation"):
            js = JS_IGNORES_4_5
        elif msg.get("type") == "Invocation" and msg.get("streamIds"):
            js = "skip: the JS msgpack client never reads streamIds (always [])"
    return make(
        name,
        "messagepack",
        kind,
        description,
        raw,
        message=msg,
        messages=msgs,
        error_text=error_text,
        js=js,
    )


def json_vectors() -> list[Vector]:
    e, d, bad = "encode-exact", "decode-only", "invalid"
    v: list[Vector] = []
    add = v.append
    ref = "Reference JsonHubProtocolTestsBase: "

    # --- every message type, exact server output (JSON-7) -----------------
    add(
        jvec(
            "invocation-with-id",
            e,
            ref + "Invocation with an id and two arguments.",
            '{"type":1,"invocationId":"123","target":"Target","arguments":[1,"Foo"]}',
            inv("123", "Target", [1, "Foo"]),
        )
    )
    add(
        jvec(
            "invocation-bool-argument",
            e,
            ref + "non-blocking Invocation, bool argument.",
            '{"type":1,"target":"Target","arguments":[true]}',
            inv(None, "Target", [True]),
        )
    )
    add(
        jvec(
            "invocation-null-argument",
            e,
            ref + "null argument.",
            '{"type":1,"target":"Target","arguments":[null]}',
            inv(None, "Target", [None]),
        )
    )
    add(
        jvec(
            "invocation-no-arguments",
            e,
            "Invocation with an empty argument list.",
            '{"type":1,"target":"Target","arguments":[]}',
            inv(None, "Target", []),
        )
    )
    add(
        jvec(
            "invocation-stream-id",
            e,
            ref + "one upload stream id, no arguments.",
            '{"type":1,"target":"Target","arguments":[],"streamIds":["__test_id__"]}',
            inv(None, "Target", [], ["__test_id__"]),
        )
    )
    add(
        jvec(
            "invocation-stream-and-argument",
            e,
            ref + "argument plus stream id.",
            '{"type":1,"target":"Target","arguments":[42],"streamIds":["__test_id__"]}',
            inv(None, "Target", [42], ["__test_id__"]),
        )
    )
    add(
        jvec(
            "invocation-multiple-streams",
            e,
            ref + "two stream ids.",
            '{"type":1,"target":"Target","arguments":[],"streamIds":["__test_id__","__test_id2__"]}',
            inv(None, "Target", [], ["__test_id__", "__test_id2__"]),
        )
    )
    add(
        jvec(
            "invocation-datetimeoffset-string",
            e,
            ref + "a DateTimeOffset travels as its ISO 8601 string; decoding keeps the string.",
            '{"type":1,"target":"Method","arguments":["2016-05-10T13:51:20+12:34"]}',
            inv(None, "Method", ["2016-05-10T13:51:20+12:34"]),
        )
    )
    add(
        jvec(
            "invocation-with-headers",
            e,
            "Headers come right after type, with escaped newlines.",
            '{"type":1,' + JSON_HEADERS + ',"invocationId":"1","target":"T","arguments":[]}',
            inv("1", "T", [], headers=TEST_HEADERS),
        )
    )
    add(
        jvec(
            "invocation-client-result-id",
            e,
            "Server-to-client call expecting a result (CRES-1).",
            '{"type":1,"invocationId":"s1","target":"GetValue","arguments":["x"]}',
            inv("s1", "GetValue", ["x"]),
        )
    )

    add(
        jvec(
            "stream-item-int",
            e,
            ref + "integer item.",
            '{"type":2,"invocationId":"123","item":1}',
            item("123", 1),
        )
    )
    add(
        jvec(
            "stream-item-string",
            e,
            ref + "string item.",
            '{"type":2,"invocationId":"123","item":"Foo"}',
            item("123", "Foo"),
        )
    )
    add(
        jvec(
            "stream-item-bool",
            e,
            ref + "bool item.",
            '{"type":2,"invocationId":"123","item":true}',
            item("123", True),
        )
    )
    add(
        jvec(
            "stream-item-null",
            e,
            ref + "null item (the key must still be present).",
            '{"type":2,"invocationId":"123","item":null}',
            item("123", None),
        )
    )
    add(
        jvec(
            "stream-item-headers",
            e,
            "StreamItem with one header.",
            '{"type":2,"headers":{"a":"b"},"invocationId":"1","item":[1,2]}',
            item("1", [1, 2], {"a": "b"}),
        )
    )

    add(
        jvec(
            "completion-int-result",
            e,
            ref + "integer result.",
            '{"type":3,"invocationId":"123","result":1}',
            result("123", 1),
        )
    )
    add(
        jvec(
            "completion-string-result",
            e,
            ref + "string result.",
            '{"type":3,"invocationId":"123","result":"Foo"}',
            result("123", "Foo"),
        )
    )
    add(
        jvec(
            "completion-bool-result",
            e,
            ref + "true result.",
            '{"type":3,"invocationId":"123","result":true}',
            result("123", True),
        )
    )
    add(
        jvec(
            "completion-false-result",
            e,
            "false is a result, not a missing one.",
            '{"type":3,"invocationId":"123","result":false}',
            result("123", False),
        )
    )
    add(
        jvec(
            "completion-null-result",
            e,
            ref + "null result (what void hub methods send, D5).",
            '{"type":3,"invocationId":"123","result":null}',
            result("123", None),
        )
    )
    add(
        jvec(
            "completion-error",
            e,
            ref + "error completion.",
            '{"type":3,"invocationId":"123","error":"Whoops!"}',
            error("123", "Whoops!"),
        )
    )
    add(
        jvec(
            "completion-error-headers",
            e,
            ref + "error completion with escaped headers.",
            '{"type":3,' + JSON_HEADERS + ',"invocationId":"123","error":"Whoops!"}',
            error("123", "Whoops!", TEST_HEADERS),
        )
    )
    add(
        jvec(
            "completion-void",
            e,
            "Completion with neither result nor error (stream end).",
            '{"type":3,"invocationId":"123"}',
            void("123"),
        )
    )
    add(
        jvec(
            "completion-object-result",
            e,
            "Nested object result.",
            '{"type":3,"invocationId":"7","result":{"name":"x","items":[1,{"deep":[null,true]}],"empty":{}}}',
            result("7", {"name": "x", "items": [1, {"deep": [None, True]}], "empty": {}}),
        )
    )

    add(
        jvec(
            "stream-invocation",
            e,
            ref + "StreamInvocation with two arguments.",
            '{"type":4,"invocationId":"123","target":"Target","arguments":[1,"Foo"]}',
            sinv("123", "Target", [1, "Foo"]),
        )
    )
    add(
        jvec(
            "stream-invocation-bool",
            e,
            ref + "bool argument.",
            '{"type":4,"invocationId":"123","target":"Target","arguments":[true]}',
            sinv("123", "Target", [True]),
        )
    )
    add(
        jvec(
            "stream-invocation-null",
            e,
            ref + "null argument.",
            '{"type":4,"invocationId":"123","target":"Target","arguments":[null]}',
            sinv("123", "Target", [None]),
        )
    )
    add(
        jvec(
            "stream-invocation-stream-id",
            e,
            ref + "with an upload stream id.",
            '{"type":4,"invocationId":"123","target":"Target","arguments":[],"streamIds":["__test_id__"]}',
            sinv("123", "Target", [], ["__test_id__"]),
        )
    )

    add(
        jvec(
            "cancel-invocation",
            e,
            ref + "CancelInvocation.",
            '{"type":5,"invocationId":"123"}',
            cancel("123"),
        )
    )
    add(
        jvec(
            "cancel-invocation-headers",
            e,
            ref + "CancelInvocation with headers.",
            '{"type":5,' + JSON_HEADERS + ',"invocationId":"123"}',
            cancel("123", TEST_HEADERS),
        )
    )

    add(jvec("ping", e, ref + "Ping.", '{"type":6}', PING))
    add(jvec("close", e, ref + "Close without error.", '{"type":7}', close()))
    add(
        jvec(
            "close-error",
            e,
            ref + "Close with an error.",
            '{"type":7,"error":"Error!"}',
            close("Error!"),
        )
    )
    add(
        jvec(
            "close-allow-reconnect",
            e,
            "Close asking the client to reconnect.",
            '{"type":7,"allowReconnect":true}',
            close(None, True),
        )
    )
    add(
        jvec(
            "close-error-allow-reconnect",
            e,
            "Close with an error and allowReconnect (CLOSE-3).",
            '{"type":7,"error":"Connection closed with an error.","allowReconnect":true}',
            close("Connection closed with an error.", True),
        )
    )
    add(
        jvec(
            "close-empty-error",
            d,
            ref
            + "an empty error still counts as an error on input; the server never writes one (JSON-8).",
            '{"type":7,"error":""}',
            close(""),
        )
    )
    add(
        jvec(
            "close-allow-reconnect-false",
            d,
            "An explicit false allowReconnect is the default.",
            '{"type":7,"allowReconnect":false}',
            close(),
        )
    )
    add(jvec("ack", e, "Ack (stateful reconnect).", '{"type":8,"sequenceId":36}', ack(36)))
    add(
        jvec("sequence", e, "Sequence (stateful reconnect).", '{"type":9,"sequenceId":19}', seq(19))
    )
    add(
        jvec(
            "ack-int64-max",
            e,
            "sequenceId is an int64.",
            '{"type":8,"sequenceId":9223372036854775807}',
            ack(9223372036854775807),
            js="skip: JS numbers lose precision above 2^53",
        )
    )
    add(jvec("sequence-one", e, "First sequence id.", '{"type":9,"sequenceId":1}', seq(1)))

    # --- values ----------------------------------------------------------
    add(
        jvec(
            "unicode-bmp-and-astral",
            e,
            "Non-ASCII text is written as raw UTF-8 (BMP and astral plane); the reference escapes it,"
            " which clients treat the same.",
            '{"type":1,"target":"Chat","arguments":["h\u00e9llo \u4e16\u754c","\U0001f600"]}',
            inv(None, "Chat", ["h\u00e9llo \u4e16\u754c", "\U0001f600"]),
        )
    )
    add(
        jvec(
            "unicode-escaped",
            d,
            "The same text with \\u escapes (what System.Text.Json writes).",
            '{"type":1,"target":"Chat","arguments":["h\\u00E9llo \\u4E16\\u754C","\\uD83D\\uDE00"]}',
            inv(None, "Chat", ["h\u00e9llo \u4e16\u754c", "\U0001f600"]),
        )
    )
    add(
        jvec(
            "control-characters-escaped",
            e,
            "Control characters, including 0x1E, are escaped so no raw separator can appear (FR-1).",
            '{"type":2,"invocationId":"1","item":"a\\nb\\u001ec\\t\\"q\\"\\\\"}',
            item("1", 'a\nb\x1ec\t"q"\\'),
        )
    )
    add(
        jvec(
            "large-integers",
            e,
            "int64 and uint64 edges stay exact integers.",
            '{"type":3,"invocationId":"1","result":[9223372036854775807,-9223372036854775808,18446744073709551615,0,-1]}',
            result("1", [9223372036854775807, -9223372036854775808, 18446744073709551615, 0, -1]),
            js="skip: JS numbers lose precision above 2^53",
        )
    )
    add(
        jvec(
            "floats",
            e,
            "Floats that print the same in every JSON writer.",
            '{"type":2,"invocationId":"1","item":[1.5,-0.25,0.005]}',
            item("1", [1.5, -0.25, 0.005]),
        )
    )
    add(
        jvec(
            "float-exponent",
            d,
            ".NET writes large doubles with an upper-case exponent.",
            '{"type":2,"invocationId":"1","item":1E+300}',
            item("1", 1e300),
        )
    )
    add(
        jvec(
            "empty-containers",
            e,
            "Empty array and object arguments.",
            '{"type":1,"target":"T","arguments":[[],{}]}',
            inv(None, "T", [[], {}]),
        )
    )
    add(
        jvec(
            "deeply-nested",
            e,
            "Nested arrays and objects (well under the depth limit of 64).",
            '{"type":1,"target":"T","arguments":[{"a":{"b":{"c":[[[1]]]}}}]}',
            inv(None, "T", [{"a": {"b": {"c": [[[1]]]}}}]),
        )
    )
    add(
        jvec(
            "empty-strings",
            e,
            "Empty string values are kept.",
            '{"type":1,"target":"T","arguments":["",{"":""}]}',
            inv(None, "T", ["", {"": ""}]),
        )
    )

    # --- input we must accept -------------------------------------------
    ooo = ref + "out-of-order properties (JSON-1)."
    add(
        jvec(
            "ooo-arguments-first-string",
            d,
            ooo,
            '{ "arguments": ["2016-05-10T13:51:20+12:34"], "type":1, "target": "Method" }',
            inv(None, "Method", ["2016-05-10T13:51:20+12:34"]),
        )
    )
    add(
        jvec(
            "ooo-arguments-first-ints",
            d,
            ooo,
            '{ "arguments": [1,2], "type":1, "target": "Method" }',
            inv(None, "Method", [1, 2]),
        )
    )
    add(
        jvec(
            "ooo-stream-invocation",
            d,
            ooo,
            '{ "type":4, "arguments": [1,2], "target": "Method", "invocationId": "3" }',
            sinv("3", "Method", [1, 2]),
        )
    )
    add(
        jvec(
            "ooo-result-first",
            d,
            ooo,
            '{ "type":3, "result": 10, "invocationId": "15" }',
            result("15", 10),
        )
    )
    add(
        jvec(
            "ooo-item-first",
            d,
            ooo,
            '{ "item": "foo", "invocationId": "1a", "type":2 }',
            item("1a", "foo"),
        )
    )
    add(
        jvec(
            "ooo-type-last",
            d,
            "type as the last property.",
            '{"invocationId":"1","target":"T","arguments":[],"type":1}',
            inv("1", "T", []),
        )
    )
    add(
        jvec(
            "ooo-headers-last",
            d,
            "headers after everything else.",
            '{"type":5,"invocationId":"9","headers":{"k":"v"}}',
            cancel("9", {"k": "v"}),
        )
    )
    add(
        jvec(
            "ooo-sequence-id-first",
            d,
            "sequenceId before type.",
            '{"sequenceId":5,"type":8}',
            ack(5),
        )
    )
    add(
        jvec(
            "unknown-property",
            d,
            ref + "an unknown property is ignored (JSON-3, D3).",
            '{"type":1,"invocationId":"42","target":"foo","arguments":[],"extraParameter":"1"}',
            inv("42", "foo", []),
        )
    )
    add(
        jvec(
            "unknown-property-object",
            d,
            "An unknown property with a nested value is skipped whole.",
            '{"type":6,"future":{"a":[1,{"b":2}]}}',
            PING,
        )
    )
    add(
        jvec(
            "whitespace",
            d,
            "Insignificant whitespace everywhere.",
            ' { "type" : 2 ,\n "invocationId" : "1" ,\t"item" : [ 1 , 2 ] } ',
            item("1", [1, 2]),
        )
    )
    add(
        jvec(
            "invocation-id-null",
            d,
            "A null invocationId makes the call non-blocking.",
            '{"type":1,"invocationId":null,"target":"T","arguments":[]}',
            inv(None, "T", []),
            js="skip: JS requires a non-empty invocationId when the key is present",
        )
    )
    add(
        jvec(
            "invocation-id-empty",
            d,
            "An empty invocationId makes the call non-blocking (JSON-5).",
            '{"type":1,"invocationId":"","target":"T","arguments":[]}',
            inv(None, "T", []),
            js="skip: JS requires a non-empty invocationId when the key is present",
        )
    )
    add(
        jvec(
            "empty-headers",
            d,
            "An empty headers object decodes as no headers.",
            '{"type":1,"headers":{},"target":"T","arguments":[]}',
            inv(None, "T", []),
        )
    )
    add(
        jvec(
            "stream-ids-null",
            d,
            "A null streamIds means no streams.",
            '{"type":1,"target":"T","arguments":[],"streamIds":null}',
            inv(None, "T", []),
        )
    )
    add(
        jvec(
            "completion-result-and-headers-first",
            d,
            "Headers and result before invocationId.",
            '{"headers":{"x":"y"},"result":[1],"type":3,"invocationId":"2"}',
            result("2", [1], {"x": "y"}),
        )
    )
    add(
        jvec(
            "unknown-type-skipped",
            d,
            "An unknown message type decodes to no message (JSON-2).",
            '{"type":99,"whatever":[1,2,3]}',
            None,
        )
    )
    add(
        jvec(
            "unknown-type-then-ping",
            d,
            "Parsing continues after a skipped unknown type.",
            '{"type":10}' + RS + '{"type":6}',
            msgs=[PING],
        )
    )
    add(
        jvec(
            "several-messages",
            e,
            "Several framed messages in one buffer, in order.",
            '{"type":6}'
            + RS
            + '{"type":2,"invocationId":"1","item":1}'
            + RS
            + '{"type":3,"invocationId":"1"}',
            msgs=[PING, item("1", 1), void("1")],
        )
    )
    add(jvec("empty-buffer", d, "No bytes at all is no message.", "", msgs=[], frame_it=False))

    # --- invalid input, exact texts -------------------------------------
    invalid = [
        (
            "not-an-object-null",
            "null",
            "Unexpected JSON Token Type 'Null'. Expected a JSON Object.",
        ),
        (
            "not-an-object-string",
            '"foo"',
            "Unexpected JSON Token Type 'String'. Expected a JSON Object.",
        ),
        (
            "not-an-object-array",
            "[42]",
            "Unexpected JSON Token Type 'Array'. Expected a JSON Object.",
        ),
        ("missing-type", "{}", "Missing required property 'type'."),
        (
            "header-int",
            '{"type":1,"headers":{"Foo": 42},"target":"test","arguments":[]}',
            "Expected header 'Foo' to be of type String.",
        ),
        (
            "header-bool",
            '{"type":1,"headers":{"Foo": true},"target":"test","arguments":[]}',
            "Expected header 'Foo' to be of type String.",
        ),
        (
            "header-null",
            '{"type":1,"headers":{"Foo": null},"target":"test","arguments":[]}',
            "Expected header 'Foo' to be of type String.",
        ),
        (
            "header-array",
            '{"type":1,"headers":{"Foo": []},"target":"test","arguments":[]}',
            "Expected header 'Foo' to be of type String.",
        ),
        ("invocation-missing-target", '{"type":1}', "Missing required property 'target'."),
        (
            "invocation-id-int",
            '{"type":1,"invocationId":42}',
            "Expected 'invocationId' to be of type String.",
        ),
        (
            "invocation-id-only",
            '{"type":1,"invocationId":"42"}',
            "Missing required property 'target'.",
        ),
        (
            "invocation-target-int",
            '{"type":1,"invocationId":"42","target":42}',
            "Expected 'target' to be of type String.",
        ),
        (
            "invocation-missing-arguments",
            '{"type":1,"invocationId":"42","target":"foo"}',
            "Missing required property 'arguments'.",
        ),
        (
            "invocation-arguments-object",
            '{"type":1,"invocationId":"42","target":"foo","arguments":{}}',
            "Expected 'arguments' to be of type Array.",
        ),
        ("stream-item-missing-id", '{"type":2}', "Missing required property 'invocationId'."),
        (
            "stream-item-id-int",
            '{"type":2,"invocationId":42}',
            "Expected 'invocationId' to be of type String.",
        ),
        (
            "stream-item-missing-item",
            '{"type":2,"invocationId":"42"}',
            "Missing required property 'item'.",
        ),
        ("completion-missing-id", '{"type":3}', "Missing required property 'invocationId'."),
        (
            "completion-id-int",
            '{"type":3,"invocationId":42}',
            "Expected 'invocationId' to be of type String.",
        ),
        (
            "completion-error-array",
            '{"type":3,"invocationId":"42","error":[]}',
            "Expected 'error' to be of type String.",
        ),
        (
            "completion-error-and-result",
            '{"type":3,"invocationId":"42","error":"foo","result":true}',
            "The 'error' and 'result' properties are mutually exclusive.",
        ),
        ("stream-invocation-missing-target", '{"type":4}', "Missing required property 'target'."),
        (
            "stream-invocation-missing-id",
            '{"type":4,"target":"T","arguments":[]}',
            "Missing required property 'invocationId'.",
        ),
        (
            "stream-invocation-id-int",
            '{"type":4,"invocationId":42}',
            "Expected 'invocationId' to be of type String.",
        ),
        (
            "stream-invocation-target-int",
            '{"type":4,"invocationId":"42","target":42}',
            "Expected 'target' to be of type String.",
        ),
        (
            "stream-invocation-missing-arguments",
            '{"type":4,"invocationId":"42","target":"foo"}',
            "Missing required property 'arguments'.",
        ),
        (
            "stream-invocation-arguments-object",
            '{"type":4,"invocationId":"42","target":"foo","arguments":{}}',
            "Expected 'arguments' to be of type Array.",
        ),
        ("cancel-missing-id", '{"type":5}', "Missing required property 'invocationId'."),
        ("ack-missing-sequence-id", '{"type":8}', "Missing required property 'sequenceId'."),
        ("sequence-missing-sequence-id", '{"type":9}', "Missing required property 'sequenceId'."),
        (
            "malformed-json-truncated",
            '{"type":3,"invocationId":"42","result":true',
            "Error reading JSON.",
        ),
        ("malformed-json-garbage", "{type:1}", "Error reading JSON."),
    ]
    for name, body, text in invalid:
        desc = "Rejected with the reference's text."
        if name.startswith("header-"):
            desc += (
                " (The reference test omits the quotes around 'arguments'; it is valid JSON here.)"
            )
        if name == "completion-error-and-result":
            desc = "Both error and result present (JSON-5)."
        if name.startswith("malformed-json"):
            desc = "Not JSON at all; the reference reports 'Error reading JSON.' (JSON-9)."
        add(jvec(name, bad, desc, body, None, error_text=text))
    return v


def mp_ref(b64text: str) -> bytes:
    return base64.b64decode(b64text)


def custom_object() -> tuple[dict[str, Any], bytes]:
    """The reference's CustomObject, as a neutral value and as msgpack bytes."""
    double = struct.unpack(">d", bytes.fromhex("401921fb5442cf12"))[0]
    neutral = {
        "StringProp": "SignalR!",
        "DoubleProp": double,
        "IntProp": 42,
        "DateTimeProp": dt("2017-04-11T00:00:00Z"),
        "NullProp": None,
        "ByteArrProp": b64(b"\x01\x02\x03"),
    }
    raw = (
        b"\x86"
        + mstr("StringProp")
        + mstr("SignalR!")
        + mstr("DoubleProp")
        + b"\xcb"
        + struct.pack(">d", double)
        + mstr("IntProp")
        + b"\x2a"
        + mstr("DateTimeProp")
        + b"\xd6\xff\x58\xec\x1c\x80"
        + mstr("NullProp")
        + b"\xc0"
        + mstr("ByteArrProp")
        + b"\xc4\x03\x01\x02\x03"
    )
    return neutral, raw


def messagepack_vectors() -> list[Vector]:
    e, d, bad = "encode-exact", "decode-only", "invalid"
    v: list[Vector] = []
    add = v.append
    ref = "Reference MessagePackHubProtocolTestBase: "
    ts_ref = "Reference TS MessagePackHubProtocol.test: "
    co, co_raw = custom_object()

    base = [
        ("invocation-no-args", "lgGAo3h5eqZtZXRob2SQkA==", inv("xyz", "method", [])),
        ("invocation-no-id-no-args", "lgGAwKZtZXRob2SQkA==", inv(None, "method", [])),
        ("invocation-no-id-int-arg", "lgGAwKZtZXRob2SRKpA=", inv(None, "method", [42])),
        (
            "invocation-no-id-int-string-args",
            "lgGAwKZtZXRob2SSKqZzdHJpbmeQ",
            inv(None, "method", [42, "string"]),
        ),
        (
            "invocation-stream-id",
            "lgGAwKZUYXJnZXSQkatfX3Rlc3RfaWRfXw==",
            inv(None, "Target", [], ["__test_id__"]),
        ),
        (
            "invocation-stream-and-argument",
            "lgGAwKZUYXJnZXSRKpGrX190ZXN0X2lkX18=",
            inv(None, "Target", [42], ["__test_id__"]),
        ),
        (
            "invocation-multiple-streams",
            "lgGAwKZUYXJnZXSQkqtfX3Rlc3RfaWRfX6xfX3Rlc3RfaWQyX18=",
            inv(None, "Target", [], ["__test_id__", "__test_id2__"]),
        ),
        ("stream-item-int", "lAKAo3h5eio=", item("xyz", 42)),
        ("stream-item-string", "lAKAo3h5eqZzdHJpbmc=", item("xyz", "string")),
        ("stream-item-bool", "lAKAo3h5esM=", item("xyz", True)),
        ("stream-item-null", "lAKAo3h5esA=", item("xyz", None)),
        ("stream-item-enum-string", "lAKAo3h5eqNPbmU=", item("xyz", "One")),
        (
            "completion-error",
            "lQOAo3h5egGwRXJyb3Igbm90IGZvdW5kIQ==",
            error("xyz", "Error not found!"),
        ),
        (
            "completion-error-headers",
            "lQODo0Zvb6NCYXKyS2V5V2l0aApOZXcNCkxpbmVzq1N0aWxsIFdvcmtzsVZhbHVlV2l0aE5ld0xpbmVzsEFsc28KV29ya3MNCkZpbmWjeHl6AbBFcnJvciBub3QgZm91bmQh",
            error("xyz", "Error not found!", TEST_HEADERS),
        ),
        ("completion-void", "lAOAo3h5egI=", void("xyz")),
        (
            "completion-void-headers",
            "lAODo0Zvb6NCYXKyS2V5V2l0aApOZXcNCkxpbmVzq1N0aWxsIFdvcmtzsVZhbHVlV2l0aE5ld0xpbmVzsEFsc28KV29ya3MNCkZpbmWjeHl6Ag==",
            void("xyz", TEST_HEADERS),
        ),
        ("completion-int-result", "lQOAo3h5egMq", result("xyz", 42)),
        ("completion-string-result", "lQOAo3h5egOmc3RyaW5n", result("xyz", "string")),
        ("completion-bool-result", "lQOAo3h5egPD", result("xyz", True)),
        ("completion-null-result", "lQOAo3h5egPA", result("xyz", None)),
        ("completion-enum-result", "lQOAo3h5egOjT25l", result("xyz", "One")),
        ("stream-invocation-no-args", "lgSAo3h5eqZtZXRob2SQkA==", sinv("xyz", "method", [])),
        ("stream-invocation-int-arg", "lgSAo3h5eqZtZXRob2SRKpA=", sinv("xyz", "method", [42])),
        (
            "stream-invocation-stream-id",
            "lgSAo3h5eqZtZXRob2SQkatfX3Rlc3RfaWRfXw==",
            sinv("xyz", "method", [], ["__test_id__"]),
        ),
        (
            "stream-invocation-stream-and-argument",
            "lgSAo3h5eqZtZXRob2SRKpGrX190ZXN0X2lkX18=",
            sinv("xyz", "method", [42], ["__test_id__"]),
        ),
        (
            "stream-invocation-int-string-args",
            "lgSAo3h5eqZtZXRob2SSKqZzdHJpbmeQ",
            sinv("xyz", "method", [42, "string"]),
        ),
        ("stream-invocation-null-arg", "lgSAo3h5eqZtZXRob2SRwJA=", sinv("xyz", "method", [None])),
        ("invocation-null-arg", "lgGAwKZtZXRob2SRwJA=", inv(None, "method", [None])),
        ("cancel-invocation", "kwWAo3h5eg==", cancel("xyz")),
        (
            "cancel-invocation-headers",
            "kwWDo0Zvb6NCYXKyS2V5V2l0aApOZXcNCkxpbmVzq1N0aWxsIFdvcmtzsVZhbHVlV2l0aE5ld0xpbmVzsEFsc28KV29ya3MNCkZpbmWjeHl6",
            cancel("xyz", TEST_HEADERS),
        ),
        ("ping", "kQY=", PING),
        ("close", "kwfAwg==", close()),
        ("close-error", "kwemRXJyb3Ihwg==", close("Error!")),
        ("close-allow-reconnect", "kwfAww==", close(None, True)),
        ("close-error-allow-reconnect", "kwemRXJyb3Ihww==", close("Error!", True)),
    ]
    for name, body, msg in base:
        add(mvec(name, e, ref + name.replace("-", " ") + ".", mp_ref(body), msg))

    add(
        mvec(
            "completion-custom-object",
            e,
            "Reference MessagePackHubProtocolTests: CustomObject result (PascalCase keys, float64,"
            " timestamp32, nil, bin).",
            mp_ref(
                "lQOAo3h5egOGqlN0cmluZ1Byb3CoU2lnbmFsUiGqRG91YmxlUHJvcMtAGSH7VELPEqdJbnRQcm9wKqxEYXRlVGltZVByb3DW/1jsHICoTnVsbFByb3DAq0J5dGVBcnJQcm9wxAMBAgM="
            ),
            result("xyz", co),
        )
    )
    add(
        mvec(
            "invocation-custom-object-array-headers",
            e,
            "Reference MessagePackHubProtocolTests: headers and two CustomObject arguments.",
            b"\x96\x01"
            + MP_HEADERS
            + b"\xc0"
            + mstr("method")
            + b"\x92"
            + co_raw
            + co_raw
            + b"\x90",
            inv(None, "method", [co, co], headers=TEST_HEADERS),
        )
    )
    add(
        mvec(
            "stream-item-custom-object",
            e,
            "Reference MessagePackHubProtocolTests: CustomObject item.",
            mp_ref(
                "lAKAo3h5eoaqU3RyaW5nUHJvcKhTaWduYWxSIapEb3VibGVQcm9wy0AZIftUQs8Sp0ludFByb3AqrERhdGVUaW1lUHJvcNb/WOwcgKhOdWxsUHJvcMCrQnl0ZUFyclByb3DEAwECAw=="
            ),
            item("xyz", co),
        )
    )
    add(
        mvec(
            "completion-list-result",
            e,
            "Reference: a list result [42].",
            b"\x95\x03\x80" + mstr("0") + b"\x03\x91\x2a",
            result("0", [42]),
        )
    )
    add(
        mvec(
            "stream-item-float32",
            d,
            ref + "a .NET float is float32 (CA); Python floats are always written as float64.",
            mp_ref("lAKAo3h5espCKAAA"),
            item("xyz", 42.0),
        )
    )
    add(
        mvec(
            "completion-float32-result",
            d,
            ref + "float32 result; decode-only for the same reason.",
            mp_ref("lQOAo3h5egPKQigAAA=="),
            result("xyz", 42.0),
        )
    )

    # --- JS client shapes (TS tests and X-6) -----------------------------
    add(
        mvec(
            "ts-completion-error",
            d,
            ts_ref + "error completion.",
            bytes([0x95, 0x03, 0x80, 0xA3, 0x61, 0x62, 0x63, 0x01, 0xA3, 0x45, 0x72, 0x72]),
            error("abc", "Err"),
        )
    )
    add(
        mvec(
            "ts-completion-result",
            e,
            ts_ref + "string result.",
            bytes([0x95, 0x03, 0x80, 0xA3, 0x61, 0x62, 0x63, 0x03, 0xA2, 0x4F, 0x4B]),
            result("abc", "OK"),
        )
    )
    add(
        mvec(
            "ts-completion-void",
            e,
            ts_ref + "void completion.",
            bytes([0x94, 0x03, 0x80, 0xA3, 0x61, 0x62, 0x63, 0x02]),
            void("abc"),
        )
    )
    add(
        mvec(
            "ts-completion-date",
            e,
            ts_ref + "timestamp32 result 2018-01-01T11:24:00Z.",
            bytes.fromhex("950380a3616263 03 d6ff5a4a1a50".replace(" ", "")),
            result("abc", dt("2018-01-01T11:24:00Z")),
        )
    )
    add(
        mvec(
            "ts-completion-extra-item",
            d,
            ts_ref + "an extra trailing element is ignored (MP-5).",
            bytes([0x95, 0x03, 0x80, 0xA3, 0x61, 0x62, 0x63, 0x02, 0x00]),
            void("abc"),
        )
    )
    add(
        mvec(
            "ts-stream-item",
            e,
            ts_ref + "StreamItem 8.",
            bytes([0x94, 0x02, 0x80, 0xA3, 0x61, 0x62, 0x63, 0x08]),
            item("abc", 8),
        )
    )
    add(
        mvec(
            "ts-stream-item-date",
            e,
            ts_ref + "StreamItem with a timestamp32.",
            bytes.fromhex("940280a3616263d6ff5a4a1a50"),
            item("abc", dt("2018-01-01T11:24:00Z")),
        )
    )
    add(
        mvec(
            "ts-stream-item-headers",
            e,
            ts_ref + "StreamItem with one header.",
            bytes([0x94, 0x02, 0x81, 0xA1, 0x74, 0xA1, 0x75, 0xA3, 0x61, 0x62, 0x63, 0x08]),
            item("abc", 8, {"t": "u"}),
        )
    )
    add(
        mvec(
            "ts-multiple-messages",
            e,
            ts_ref + "two framed messages in one buffer.",
            bytes(
                [
                    0x08,
                    0x94,
                    0x02,
                    0x80,
                    0xA3,
                    0x61,
                    0x62,
                    0x63,
                    0x08,
                    0x0B,
                    0x95,
                    0x03,
                    0x80,
                    0xA3,
                    0x61,
                    0x62,
                    0x63,
                    0x03,
                    0xA2,
                    0x4F,
                    0x4B,
                ]
            ),
            msgs=[item("abc", 8), result("abc", "OK")],
            framed=True,
        )
    )
    add(
        mvec(
            "ts-ping-framed",
            e,
            ts_ref + "Ping is exactly 02 91 06 on the wire.",
            bytes([0x02, 0x91, 0x06]),
            PING,
            framed=True,
        )
    )
    add(
        mvec(
            "ts-cancel",
            e,
            ts_ref + "the bytes JS writes for CancelInvocation.",
            bytes([0x93, 0x05, 0x80, 0xA3, 0x61, 0x62, 0x63]),
            cancel("abc"),
        )
    )
    add(
        mvec(
            "ts-completion-false-result",
            e,
            ts_ref + "false result (kind 3).",
            bytes([0x95, 0x03, 0x80, 0xA3, 0x61, 0x62, 0x63, 0x03, 0xC2]),
            result("abc", False),
        )
    )
    add(
        mvec(
            "ts-completion-null-result",
            e,
            ts_ref + "null result (kind 3 + nil).",
            bytes([0x95, 0x03, 0x80, 0xA3, 0x61, 0x62, 0x63, 0x03, 0xC0]),
            result("abc", None),
        )
    )
    add(
        mvec(
            "js-invocation-five-elements",
            d,
            "JS sends 5-element Invocations when there are no streams (X-6).",
            b"\x95\x01\x80" + mstr("1") + mstr("Send") + b"\x92\x2a\xc3",
            inv("1", "Send", [42, True]),
        )
    )
    add(
        mvec(
            "js-stream-invocation-five-elements",
            d,
            "5-element StreamInvocation from JS.",
            b"\x95\x04\x80" + mstr("2") + mstr("Counter") + b"\x91\x05",
            sinv("2", "Counter", [5]),
        )
    )
    add(
        mvec(
            "js-close-two-elements",
            d,
            "JS writes Close as [7, nil] (X-6).",
            b"\x92\x07\xc0",
            close(),
        )
    )
    add(
        mvec(
            "close-two-elements-error",
            d,
            "Two-element Close with an error (the spec's form, D6).",
            b"\x92\x07" + mstr("Error!"),
            close("Error!"),
        )
    )
    add(
        mvec(
            "reference-extra-data",
            d,
            ref + "an 8-element Invocation; the extra items are ignored.",
            b"\x98\x01\x80" + mstr("xyz") + mstr("method") + b"\x90\x90\xc3" + mstr("ex"),
            inv("xyz", "method", []),
        )
    )
    add(
        mvec(
            "close-extra-item",
            d,
            "A 4-element Close; the extra item is ignored.",
            b"\x94\x07\xc0\xc3\x01",
            close(None, True),
        )
    )
    add(mvec("ping-extra-item", d, "A Ping with a trailing element.", b"\x92\x06\xc0", PING))
    add(
        mvec(
            "invocation-id-empty",
            d,
            "An empty invocationId is non-blocking (MP-4).",
            b"\x96\x01\x80\xa0" + mstr("T") + b"\x90\x90",
            inv(None, "T", []),
            js="skip: JS keeps the empty string as the id",
        )
    )
    add(
        mvec(
            "ack-spec",
            d,
            "HubProtocol.md: Ack 36 with a uint8 (non-minimal) integer.",
            bytes.fromhex("9208cc24"),
            ack(36),
        )
    )
    add(
        mvec(
            "sequence-spec",
            d,
            "HubProtocol.md: Sequence 19 with a uint8 integer.",
            bytes.fromhex("9209cc13"),
            seq(19),
        )
    )
    add(mvec("ack", e, "Ack 36 in the shortest integer form.", bytes.fromhex("920824"), ack(36)))
    add(
        mvec(
            "sequence",
            e,
            "Sequence 19 in the shortest integer form.",
            bytes.fromhex("920913"),
            seq(19),
        )
    )
    add(
        mvec(
            "ack-uint32",
            e,
            "Ack with a 32-bit sequence id.",
            bytes.fromhex("9208ce00010000"),
            ack(65536),
        )
    )
    add(
        mvec(
            "sequence-int64-max",
            e,
            "Sequence with the largest int64.",
            bytes.fromhex("9209cf7fffffffffffffff"),
            seq(9223372036854775807),
            js="skip: JS numbers lose precision above 2^53",
        )
    )
    add(
        mvec(
            "message-type-uint8",
            d,
            "The type may use any integer width (MP-11).",
            bytes.fromhex("91cc06"),
            PING,
        )
    )
    add(
        mvec(
            "message-type-int64",
            d,
            "The type as an int64.",
            bytes.fromhex("91d30000000000000006"),
            PING,
        )
    )
    add(
        mvec(
            "result-kind-uint16",
            d,
            "The result kind in a wide integer form.",
            b"\x94\x03\x80" + mstr("abc") + b"\xcd\x00\x02",
            void("abc"),
        )
    )
    add(
        mvec(
            "unknown-type-skipped",
            d,
            "An unknown message type decodes to no message (MP-6).",
            b"\x92\x63\xc0",
            None,
        )
    )
    add(
        mvec(
            "unknown-type-then-ping",
            d,
            "Parsing continues after a skipped unknown type.",
            frame(b"\x93\x0a\x01\x02") + frame(b"\x91\x06"),
            msgs=[PING],
            framed=True,
        )
    )
    add(
        mvec(
            "empty-headers-map16",
            d,
            "An empty headers map in map16 form.",
            b"\x94\x02\xde\x00\x00" + mstr("a") + b"\x01",
            item("a", 1),
        )
    )

    # --- values ------------------------------------------------------------
    def val(
        name: str, kind: str, desc: str, raw_value: bytes, neutral: Any, js: str | None = None
    ) -> None:
        add(
            mvec(
                name, kind, desc, b"\x94\x02\x80" + mstr("1") + raw_value, item("1", neutral), js=js
            )
        )

    big_js = "skip: JS numbers lose precision above 2^53"
    val("int-positive-fixint-max", e, "127 is a positive fixint.", b"\x7f", 127)
    val("int-uint8", e, "128 needs uint8.", b"\xcc\x80", 128)
    val("int-uint16", e, "256 needs uint16.", b"\xcd\x01\x00", 256)
    val("int-uint32", e, "65536 needs uint32.", b"\xce\x00\x01\x00\x00", 65536)
    val("int-uint64", e, "2^32 needs uint64.", b"\xcf\x00\x00\x00\x01\x00\x00\x00\x00", 4294967296)
    val(
        "int-uint64-max",
        e,
        "The largest uint64.",
        b"\xcf" + b"\xff" * 8,
        18446744073709551615,
        big_js,
    )
    val(
        "int-int64-max",
        e,
        "The largest int64 (written as uint64, the shortest form).",
        b"\xcf\x7f" + b"\xff" * 7,
        9223372036854775807,
        big_js,
    )
    val("int-negative-fixint", e, "-1 and -32 are negative fixints.", b"\x92\xff\xe0", [-1, -32])
    val("int-int8", e, "-33 needs int8.", b"\xd0\xdf", -33)
    val("int-int16", e, "-129 needs int16.", b"\xd1\xff\x7f", -129)
    val("int-int32", e, "-32769 needs int32.", b"\xd2\xff\xff\x7f\xff", -32769)
    val(
        "int-int64-min",
        e,
        "The smallest int64.",
        b"\xd3\x80" + b"\x00" * 7,
        -9223372036854775808,
        big_js,
    )
    val(
        "int-non-minimal",
        d,
        "A small value in a wide form is the same integer.",
        b"\xd3" + b"\x00" * 7 + b"\x05",
        5,
    )
    val("float64", e, "A double.", b"\xcb" + struct.pack(">d", 1.5), 1.5)
    val(
        "float64-small",
        e,
        "0.005 keeps double precision (TS test).",
        b"\xcb" + struct.pack(">d", 0.005),
        0.005,
    )
    val("float-nan", e, "NaN as float64.", b"\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00", flt("NaN"))
    val(
        "float-infinities",
        e,
        "Positive and negative infinity.",
        b"\x92\xcb\x7f\xf0" + b"\x00" * 6 + b"\xcb\xff\xf0" + b"\x00" * 6,
        [flt("Infinity"), flt("-Infinity")],
    )
    val(
        "float32-fraction",
        d,
        "float32 0.5 decodes to the same double.",
        b"\xca\x3f\x00\x00\x00",
        0.5,
    )
    val("bool-and-nil", e, "true, false and nil.", b"\x93\xc3\xc2\xc0", [True, False, None])
    val("bin8", e, "byte[] is bin (MP-10).", b"\xc4\x03\x01\x02\x03", b64(b"\x01\x02\x03"))
    val("bin8-empty", e, "Empty bin.", b"\xc4\x00", b64(b""))
    val(
        "bin16",
        e,
        "A 300-byte bin needs bin16.",
        b"\xc5\x01\x2c" + bytes(range(256)) + bytes(range(44)),
        b64(bytes(range(256)) + bytes(range(44))),
    )
    val(
        "str-unicode",
        e,
        "BMP and astral-plane text as UTF-8.",
        mstr("h\u00e9llo \u4e16\u754c \U0001f600"),
        "h\u00e9llo \u4e16\u754c \U0001f600",
    )
    val("str8", e, "A 40-byte string needs str8.", mstr("x" * 40), "x" * 40)
    val("str16", e, "A 300-byte string needs str16.", mstr("y" * 300), "y" * 300)
    val(
        "str-with-separator-bytes",
        e,
        "Strings may hold 0x1E and NUL in msgpack.",
        mstr("a\x1eb\x00c"),
        "a\x1eb\x00c",
    )
    val(
        "array16",
        e,
        "16 elements need array16.",
        b"\xdc\x00\x10" + bytes(range(16)),
        list(range(16)),
    )
    val(
        "nested-map",
        e,
        "Nested maps and arrays.",
        b"\x82" + mstr("a") + b"\x81" + mstr("b") + b"\x92\x01\x90" + mstr("c") + b"\x80",
        {"a": {"b": [1, []]}, "c": {}},
    )
    val(
        "map-int-keys",
        d,
        "A .NET Dictionary<int,string> arrives as a map with integer keys.",
        b"\x82\x01" + mstr("one") + b"\x02" + mstr("two"),
        {"$map": [[1, "one"], [2, "two"]]},
        "skip: JS turns integer keys into strings",
    )
    val(
        "timestamp32",
        e,
        "Timestamp32: 2017-04-11T00:00:00Z (MP-9).",
        b"\xd6\xff\x58\xec\x1c\x80",
        dt("2017-04-11T00:00:00Z"),
    )
    val(
        "timestamp64",
        e,
        "Timestamp64: sub-second value.",
        timestamp(epoch("2017-04-11T00:00:00"), 500_000_000),
        dt("2017-04-11T00:00:00.500000Z"),
    )
    val(
        "timestamp64-micro",
        e,
        "Timestamp64 with microseconds.",
        timestamp(epoch("2020-02-29T12:34:56"), 123_456_000),
        dt("2020-02-29T12:34:56.123456Z"),
    )
    val(
        "timestamp96-before-epoch",
        e,
        "Timestamp96: negative seconds (1960).",
        timestamp(epoch("1960-01-01T00:00:00"), 0),
        dt("1960-01-01T00:00:00Z"),
    )
    val(
        "timestamp96-far-future",
        e,
        "Timestamp96: seconds beyond 34 bits (year 2600).",
        timestamp(epoch("2600-01-01T00:00:00"), 0),
        dt("2600-01-01T00:00:00Z"),
    )
    val(
        "timestamp64-nanoseconds-truncated",
        d,
        "Python keeps microseconds: 123456789 ns decodes as .123456 (truncated, not rounded).",
        timestamp(epoch("2017-04-11T00:00:00"), 123_456_789),
        dt("2017-04-11T00:00:00.123456Z"),
    )
    val(
        "timestamp96-small-value",
        d,
        "A value that fits 32 bits but arrives in the 96-bit form.",
        b"\xc7\x0c\xff" + struct.pack(">Iq", 0, 1491868800),
        dt("2017-04-11T00:00:00Z"),
    )

    # --- invalid input, exact texts -----------------------------------------
    foo = mstr("foo")
    abc = mstr("abc")
    xyz = mstr("xyz")
    invalid = [
        ("message-type-string", b"\x91" + foo, "Reading 'messageType' as Int32 failed."),
        ("headers-not-a-map", b"\x92\x01" + foo, "Reading map length for 'headers' failed."),
        ("header-key-int", b"\x92\x01\x82\x2a" + foo, "Reading 'headers[0].Key' as String failed."),
        (
            "header-value-int",
            b"\x92\x01\x82" + foo + b"\x2a",
            "Reading 'headers[0].Value' as String failed.",
        ),
        (
            "header-key-array",
            b"\x92\x01\x84" + foo + foo + b"\x90" + foo,
            "Reading 'headers[1].Key' as String failed.",
        ),
        (
            "header-value-array",
            b"\x92\x01\x84" + foo + foo + foo + b"\x90",
            "Reading 'headers[1].Value' as String failed.",
        ),
        ("invocation-missing-id", b"\x92\x01\x80", "Reading 'invocationId' as String failed."),
        ("invocation-id-boolean", b"\x91\x01\x80\xc2", "Reading 'invocationId' as String failed."),
        ("invocation-target-missing", b"\x93\x01\x80" + abc, "Reading 'target' as String failed."),
        (
            "invocation-target-int",
            b"\x94\x01\x80" + abc + b"\x2a",
            "Reading 'target' as String failed.",
        ),
        (
            "stream-invocation-missing-id",
            b"\x92\x04\x80",
            "Reading 'invocationId' as String failed.",
        ),
        (
            "stream-invocation-id-boolean",
            b"\x93\x04\x80\xc2",
            "Reading 'invocationId' as String failed.",
        ),
        (
            "stream-invocation-target-missing",
            b"\x93\x04\x80" + abc,
            "Reading 'target' as String failed.",
        ),
        (
            "stream-invocation-target-int",
            b"\x94\x04\x80" + abc + b"\x2a",
            "Reading 'target' as String failed.",
        ),
        ("stream-item-missing-id", b"\x92\x02\x80", "Reading 'invocationId' as String failed."),
        ("stream-item-id-boolean", b"\x93\x02\x80\xc2", "Reading 'invocationId' as String failed."),
        ("completion-missing-id", b"\x92\x03\x80", "Reading 'invocationId' as String failed."),
        ("completion-id-boolean", b"\x93\x03\x80\xc2", "Reading 'invocationId' as String failed."),
        (
            "completion-result-kind-string",
            b"\x94\x03\x80" + xyz + xyz,
            "Reading 'resultKind' as Int32 failed.",
        ),
        (
            "completion-result-kind-out-of-range",
            b"\x94\x03\x80" + xyz + b"\x2a",
            "Invalid invocation result kind.",
        ),
        (
            "completion-error-missing",
            b"\x94\x03\x80" + xyz + b"\x01",
            "Reading 'error' as String failed.",
        ),
        (
            "completion-error-int",
            b"\x95\x03\x80" + xyz + b"\x01\x2a",
            "Reading 'error' as String failed.",
        ),
        (
            "invocation-arguments-missing",
            b"\x94\x01\x80" + abc + xyz,
            "Reading array length for 'arguments' failed.",
        ),
        (
            "invocation-arguments-not-array",
            b"\x95\x01\x80" + abc + xyz + b"\x2a",
            "Reading array length for 'arguments' failed.",
        ),
        (
            "stream-invocation-arguments-missing",
            b"\x94\x04\x80" + abc + xyz,
            "Reading array length for 'arguments' failed.",
        ),
        (
            "stream-invocation-arguments-not-array",
            b"\x95\x04\x80" + abc + xyz + b"\x2a",
            "Reading array length for 'arguments' failed.",
        ),
        (
            "header-empty-key",
            b"\x94\x02\x81\xa0" + mstr("v") + abc + b"\x01",
            "Null or empty key in header.",
        ),
        (
            "header-empty-value",
            b"\x94\x02\x81" + mstr("k") + b"\xa0" + abc + b"\x01",
            "Null or empty value in header.",
        ),
    ]
    for name, payload, text in invalid:
        desc = "Rejected with the reference's text (MP-8)."
        if "arguments" in name:
            desc = (
                "The reference reports this as a binding failure with this text; without a binder"
                " it is a protocol error here."
            )
        add(mvec(name, bad, desc, payload, None, error_text=text))
    return v


def handshake_vectors() -> list[Vector]:
    e, d, bad = "encode-exact", "decode-only", "invalid"
    ref = "Reference HandshakeProtocolTests: "
    v: list[Vector] = []

    def req(
        name: str, kind: str, desc: str, body: str, msg: Any = None, err: str | None = None
    ) -> None:
        data = (body + RS).encode("utf-8")
        message = (
            None
            if msg is None
            else {"type": "HandshakeRequest", "protocol": msg[0], "version": msg[1]}
        )
        v.append(
            make(
                name,
                "handshake",
                kind,
                desc,
                data,
                message=message,
                error_text=err,
                text=True,
                side="request",
                js="skip: the JS client only writes handshake requests",
            )
        )

    def resp(
        name: str, kind: str, desc: str, body: str, msg: Any = "none", err: str | None = None
    ) -> None:
        data = (body + RS).encode("utf-8")
        message = None if msg == "none" else {"type": "HandshakeResponse", "error": msg}
        v.append(
            make(
                name,
                "handshake",
                kind,
                desc,
                data,
                message=message,
                error_text=err,
                text=True,
                side="response",
            )
        )

    req(
        "request-json-v1",
        e,
        "What official clients send (HS-1).",
        '{"protocol":"json","version":1}',
        ("json", 1),
    )
    req(
        "request-messagepack-v1",
        e,
        "MessagePack handshake, still JSON text.",
        '{"protocol":"messagepack","version":1}',
        ("messagepack", 1),
    )
    req(
        "request-json-v2",
        e,
        "Version 2 when stateful reconnect was negotiated (HS-3).",
        '{"protocol":"json","version":2}',
        ("json", 2),
    )
    req(
        "request-dummy",
        d,
        ref + "any protocol name parses.",
        '{"protocol":"dummy","version":1}',
        ("dummy", 1),
    )
    req(
        "request-empty-protocol",
        d,
        ref + "empty protocol name.",
        '{"protocol":"","version":10}',
        ("", 10),
    )
    req(
        "request-unknown-property",
        d,
        ref + "unknown properties are ignored.",
        '{"protocol":"","version":10,"unknown":null}',
        ("", 10),
    )
    req(
        "request-reversed",
        d,
        "Property order does not matter.",
        '{"version":1,"protocol":"json"}',
        ("json", 1),
    )
    req(
        "request-whitespace",
        d,
        "Whitespace is allowed.",
        ' { "protocol" : "json" , "version" : 1 } ',
        ("json", 1),
    )
    for name, body, text in [
        ("request-number", "42", "Unexpected JSON Token Type 'Number'. Expected a JSON Object."),
        ("request-string", '"42"', "Unexpected JSON Token Type 'String'. Expected a JSON Object."),
        ("request-null", "null", "Unexpected JSON Token Type 'Null'. Expected a JSON Object."),
        ("request-array", "[]", "Unexpected JSON Token Type 'Array'. Expected a JSON Object."),
        ("request-empty-object", "{}", "Missing required property 'protocol'. Message content: {}"),
        (
            "request-missing-version",
            '{"protocol":"json"}',
            'Missing required property \'version\'. Message content: {"protocol":"json"}',
        ),
        (
            "request-missing-protocol",
            '{"version":1}',
            "Missing required property 'protocol'. Message content: {\"version\":1}",
        ),
        (
            "request-hub-message",
            '{"type":4,"invocationId":"42","target":"foo","arguments":{}}',
            "Missing required property 'protocol'. Message content: "
            '{"type":4,"invocationId":"42","target":"foo","arguments":{}}',
        ),
        ("request-version-string", '{"version":"123"}', "Expected 'version' to be of type Number."),
        (
            "request-protocol-null",
            '{"protocol":null,"version":123}',
            "Expected 'protocol' to be of type String.",
        ),
    ]:
        req(name, bad, ref + "rejected with the reference's text.", body, err=text)

    resp("response-success", e, "Success is exactly {} + 0x1E (HS-6).", "{}", None)
    resp("response-error", e, "Failure carries the error text.", '{"error":"dummy"}', "dummy")
    resp(
        "response-error-escaped",
        e,
        "Error text with quotes is JSON-escaped.",
        '{"error":"The protocol \'x\\"y\' is not supported."}',
        "The protocol 'x\"y' is not supported.",
    )
    resp("response-empty-error", d, ref + "an empty error string.", '{"error":""}', "")
    resp(
        "response-unknown-property",
        d,
        ref + "unknown properties are ignored.",
        '{"unknown":null}',
        None,
    )
    resp(
        "response-minor-version",
        d,
        ref + "minorVersion from older servers is ignored.",
        '{"error":"","minorVersion":34}',
        "",
    )
    for name, body, text in [
        ("response-number", "42", "Unexpected JSON Token Type 'Number'. Expected a JSON Object."),
        ("response-string", '"42"', "Unexpected JSON Token Type 'String'. Expected a JSON Object."),
        ("response-null", "null", "Unexpected JSON Token Type 'Null'. Expected a JSON Object."),
        ("response-array", "[]", "Unexpected JSON Token Type 'Array'. Expected a JSON Object."),
        ("response-error-null", '{"error":null}', "Expected 'error' to be of type String."),
    ]:
        resp(name, bad, ref + "rejected with the reference's text.", body, err=text)
    return v


def framing_vectors() -> list[Vector]:
    e, d, bad = "encode-exact", "decode-only", "invalid"
    v: list[Vector] = []
    tref = "Reference TextMessageParserTests: "
    bref = "Reference BinaryMessageParserTests/FormatterTests: "

    def frames(payloads: list[bytes]) -> dict[str, Any]:
        return {"type": "Frames", "payloads": [p.hex() for p in payloads]}

    def text(
        name: str,
        kind: str,
        desc: str,
        data: bytes,
        payloads: list[bytes] | None = None,
        err: str | None = None,
        max_size: int | str | None = "default",
    ) -> None:
        v.append(
            make(
                name,
                "text-framing",
                kind,
                desc,
                data,
                message=None if payloads is None else frames(payloads),
                error_text=err,
                max_size=max_size,
                js="skip: framing is checked through the protocols",
            )
        )

    def binary(
        name: str,
        kind: str,
        desc: str,
        data: bytes,
        payloads: list[bytes] | None = None,
        err: str | None = None,
        max_size: int | str | None = "default",
    ) -> None:
        v.append(
            make(
                name,
                "binary-framing",
                kind,
                desc,
                data,
                message=None if payloads is None else frames(payloads),
                error_text=err,
                max_size=max_size,
                js="skip: framing is checked through the protocols",
            )
        )

    def var(name: str, value: int, data: bytes, desc: str) -> None:
        v.append(
            make(
                name,
                "binary-framing",
                e,
                desc,
                data,
                message={"type": "VarInt", "value": value},
                js="skip: framing is checked through the protocols",
            )
        )

    text("text-one", e, tref + "one record.", b"ABC\x1e", [b"ABC"])
    text("text-two", e, tref + "two records.", b"ABC\x1eXYZ\x1e", [b"ABC", b"XYZ"])
    text("text-incomplete", d, tref + "no separator yet: nothing is complete.", b"ABC", [])
    text(
        "text-incomplete-trailing",
        d,
        tref + "the trailing partial record is kept back.",
        b"ABC\x1eXYZ\x1e123",
        [b"ABC", b"XYZ"],
    )
    text("text-empty-record", e, "An empty record between separators.", b"\x1e", [b""])
    text(
        "text-utf8",
        e,
        "Payload bytes are passed through untouched.",
        "h\u00e9 \U0001f600".encode() + b"\x1e",
        ["h\u00e9 \U0001f600".encode()],
    )
    text(
        "text-at-limit",
        e,
        "Payload plus separator exactly at the limit is accepted (LIM-1).",
        b"ABC\x1e",
        [b"ABC"],
        max_size=4,
    )
    text(
        "text-over-limit",
        bad,
        "One byte over the limit (the separator counts).",
        b"ABCD\x1e",
        err="The maximum message size of 4B was exceeded. The message size can be configured in AddHubOptions.",
        max_size=4,
    )
    text(
        "text-over-limit-partial",
        bad,
        "No separator within the limit: fail while buffering.",
        b"ABCDEFGH",
        err="The maximum message size of 4B was exceeded. The message size can be configured in"
        " AddHubOptions.",
        max_size=4,
    )
    text(
        "text-unlimited",
        d,
        "No limit configured.",
        b"x" * 100 + b"\x1e",
        [b"x" * 100],
        max_size=None,
    )

    binary("binary-empty", e, bref + "an empty payload.", b"\x00", [b""])
    binary("binary-abc", e, bref + "ABC.", b"\x03ABC", [b"ABC"])
    binary(
        "binary-newlines",
        e,
        bref + "payload with CR/LF.",
        bytes.fromhex("0b410a520d430d0a3b444546"),
        [b"A\nR\rC\r\n;DEF"],
    )
    binary(
        "binary-four-bytes",
        e,
        bref + "raw bytes.",
        bytes.fromhex("04abcdef12"),
        [bytes.fromhex("abcdef12")],
    )
    binary(
        "binary-128",
        e,
        bref + "a 128-byte payload needs a two-byte prefix.",
        b"\x80\x01" + bytes(range(128)),
        [bytes(range(128))],
    )
    binary(
        "binary-multiple",
        e,
        bref + "an empty and a 14-byte payload.",
        b"\x00\x0eHello,\r\nWorld!",
        [b"", b"Hello,\r\nWorld!"],
    )
    binary(
        "binary-spec-example",
        e,
        "FR-2: 'hello\\nworld' and 01 02.",
        bytes.fromhex("0b68656c6c6f0a776f726c640201 02".replace(" ", "")),
        [b"hello\nworld", b"\x01\x02"],
    )
    binary(
        "binary-incomplete-payload",
        d,
        bref + "not enough data for the payload.",
        b"\x09\x00\x00",
        [],
    )
    binary("binary-incomplete-prefix", d, bref + "the size is cut.", b"\x80", [])
    binary("binary-empty-input", d, bref + "no bytes.", b"", [])
    binary(
        "binary-2gb-minus-one-partial",
        d,
        bref + "a 2 GB - 1 prefix with no payload yet (no limit).",
        b"\xff\xff\xff\xff\x07",
        [],
        max_size=None,
    )
    binary(
        "binary-over-2gb",
        bad,
        bref + "five 0xFF bytes.",
        b"\xff\xff\xff\xff\xff",
        err="Messages over 2GB in size are not supported.",
        max_size=None,
    )
    binary(
        "binary-2gb-plus-one",
        bad,
        bref + "2 GB + 1.",
        b"\x80\x80\x80\x80\x08",
        err="Messages over 2GB in size are not supported.",
        max_size=None,
    )
    binary(
        "binary-six-byte-prefix",
        bad,
        bref + "a prefix longer than 5 bytes.",
        b"\xff" * 6,
        err="Messages over 2GB in size are not supported.",
        max_size=None,
    )
    binary(
        "binary-at-limit",
        e,
        "Prefix plus payload exactly at the limit is accepted (LIM-1).",
        b"\x05" + b"12345",
        [b"12345"],
        max_size=6,
    )
    binary(
        "binary-over-limit",
        bad,
        "One byte over the limit (the prefix counts).",
        b"\x05" + b"12345",
        err="The maximum message size of 5B was exceeded. The message size can be configured in AddHubOptions.",
        max_size=5,
    )
    binary(
        "binary-over-limit-declared",
        bad,
        "A declared size over the limit fails before the payload arrives.",
        b"\xe8\x07",
        err="The maximum message size of 100B was exceeded. The message size can be configured"
        " in AddHubOptions.",
        max_size=100,
    )

    for value, hexed, desc in [
        (0, "00", "zero"),
        (1, "01", "one"),
        (53, "35", "FR-2 example"),
        (127, "7f", "largest one-byte value"),
        (128, "8001", "smallest two-byte value"),
        (5248, "8029", "FR-2 example"),
        (16383, "ff7f", "largest two-byte value"),
        (16384, "808001", "smallest three-byte value"),
        (2097151, "ffff7f", "largest three-byte value"),
        (2097152, "80808001", "smallest four-byte value"),
        (268435455, "ffffff7f", "largest four-byte value"),
        (268435456, "8080808001", "smallest five-byte value"),
        (2147483647, "ffffffff07", "largest allowed value, 2^31-1"),
    ]:
        var(f"varint-{value}", value, bytes.fromhex(hexed), f"VarInt {value}: {desc}.")
    return v


FILES = {
    "json.json": json_vectors,
    "messagepack.json": messagepack_vectors,
    "handshake.json": handshake_vectors,
    "framing.json": framing_vectors,
}


def render(vectors: list[Vector]) -> str:
    names = [vec["name"] for vec in vectors]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise SystemExit(f"duplicate vector names: {sorted(duplicates)}")
    return json.dumps({"vectors": vectors}, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    write = "--write" in argv
    stale = []
    total = 0
    for filename, build in FILES.items():
        vectors = build()
        total += len(vectors)
        content = render(vectors)
        path = HERE / filename
        if write:
            path.write_text(content, encoding="utf-8")
        elif not path.exists() or path.read_text(encoding="utf-8") != content:
            stale.append(filename)
    if stale:
        print(f"out of date: {', '.join(stale)} (run with --write)")
        return 1
    print(f"{total} vectors {'written' if write else 'up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
