"""Read the golden vectors in ``protocol_fixtures/`` and translate between their
neutral JSON message form and our message classes.

Comparison goes through the neutral form (``to_neutral``) rather than dataclass
equality, because Python's ``==`` would let ``True`` equal ``1``, ``1`` equal
``1.0`` and NaN differ from itself, and would treat a tuple of arguments as
different from a list; the neutral form makes each of those explicit.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from signalr_server.protocol.messages import (
    PING,
    AckMessage,
    CancelInvocationMessage,
    CloseMessage,
    CompletionMessage,
    HandshakeRequest,
    HandshakeResponse,
    HubMessage,
    InvocationMessage,
    PingMessage,
    SequenceMessage,
    StreamInvocationMessage,
    StreamItemMessage,
)

__all__ = [
    "FIXTURE_DIR",
    "Vector",
    "from_neutral",
    "from_neutral_value",
    "load_vectors",
    "to_neutral",
    "to_neutral_value",
]

FIXTURE_DIR = Path(__file__).resolve().parents[2] / "protocol_fixtures"
FIXTURE_FILES = ("json.json", "messagepack.json", "handshake.json", "framing.json")
DEFAULT_MAX_MESSAGE_SIZE = 32768


@dataclass(frozen=True)
class Vector:
    """One golden vector, with the defaults of the file format filled in."""

    name: str
    protocol: str
    kind: str
    description: str
    data: bytes
    messages: list[Any]
    error: str | None
    max_message_size: int | None
    side: str | None
    raw: Mapping[str, Any]

    @property
    def id(self) -> str:
        return f"{self.protocol}:{self.name}"


def load_vectors(protocol: str | None = None) -> list[Vector]:
    """Every vector of every fixture file, optionally only one protocol's."""
    vectors: list[Vector] = []
    for filename in FIXTURE_FILES:
        document = json.loads((FIXTURE_DIR / filename).read_text(encoding="utf-8"))
        for raw in document["vectors"]:
            if protocol is not None and raw["protocol"] != protocol:
                continue
            if "messages" in raw:
                messages = list(raw["messages"])
            elif raw.get("message") is None:
                messages = []
            else:
                messages = [raw["message"]]
            vectors.append(
                Vector(
                    name=raw["name"],
                    protocol=raw["protocol"],
                    kind=raw["kind"],
                    description=raw["description"],
                    data=bytes.fromhex(raw["bytes"]),
                    messages=messages,
                    error=raw.get("error"),
                    max_message_size=raw.get("maxMessageSize", DEFAULT_MAX_MESSAGE_SIZE),
                    side=raw.get("side"),
                    raw=raw,
                )
            )
    return vectors


# --------------------------------------------------------------------------
# values
# --------------------------------------------------------------------------


def _format_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        raise AssertionError(f"decoded datetime {value!r} is naive; expected aware UTC")
    value = value.astimezone(UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}"
    return text + "Z"


def _parse_datetime(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed.astimezone(UTC)


def to_neutral_value(value: Any) -> Any:
    """A decoded wire value in the fixtures' tagged JSON form."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return {"$float": "NaN"}
        if math.isinf(value):
            return {"$float": "Infinity" if value > 0 else "-Infinity"}
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, datetime):
        return {"$datetime": _format_datetime(value)}
    if isinstance(value, Mapping):
        if all(isinstance(key, str) for key in value):
            return {key: to_neutral_value(item) for key, item in value.items()}
        return {"$map": [[to_neutral_value(k), to_neutral_value(v)] for k, v in value.items()]}
    if isinstance(value, Sequence):
        return [to_neutral_value(item) for item in value]
    raise AssertionError(f"unexpected decoded value type {type(value).__name__}: {value!r}")


def from_neutral_value(value: Any) -> Any:
    """The Python wire value a tagged JSON value stands for."""
    if isinstance(value, list):
        return [from_neutral_value(item) for item in value]
    if isinstance(value, dict):
        if len(value) == 1:
            ((tag, payload),) = value.items()
            if tag == "$bytes":
                return base64.b64decode(payload)
            if tag == "$datetime":
                return _parse_datetime(payload)
            if tag == "$float":
                return float(payload.replace("Infinity", "inf"))
            if tag == "$int":
                return int(payload)
            if tag == "$map":
                return {from_neutral_value(k): from_neutral_value(v) for k, v in payload}
        return {key: from_neutral_value(item) for key, item in value.items()}
    return value


def _canonical(value: Any) -> Any:
    """Make a neutral value comparable strictly: tag each scalar with its kind."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, float):
        return ("float", value)
    if isinstance(value, list):
        return ("list", [_canonical(item) for item in value])
    if isinstance(value, dict):
        if len(value) == 1 and "$int" in value:
            return ("int", int(value["$int"]))
        return ("dict", {key: _canonical(item) for key, item in value.items()})
    return (type(value).__name__, value)


def canonical(value: Any) -> Any:
    """Public alias used by the tests for readable strict comparisons."""
    return _canonical(value)


# --------------------------------------------------------------------------
# messages
# --------------------------------------------------------------------------


def _headers(value: Mapping[str, str] | None) -> dict[str, str] | None:
    return dict(value) if value else None


def _stream_ids(value: Sequence[str] | None) -> list[str] | None:
    return list(value) if value else None


def to_neutral(message: HubMessage | HandshakeRequest | HandshakeResponse) -> dict[str, Any]:
    """A decoded message in the fixtures' neutral form.

    Empty headers and empty stream id lists become ``None``: on the wire both
    mean "none" and the two protocols cannot tell them apart.
    """
    if isinstance(message, (InvocationMessage, StreamInvocationMessage)):
        return {
            "type": "Invocation" if isinstance(message, InvocationMessage) else "StreamInvocation",
            "invocationId": message.invocation_id,
            "target": message.target,
            "arguments": to_neutral_value(list(message.arguments)),
            "streamIds": _stream_ids(message.stream_ids),
            "headers": _headers(message.headers),
        }
    if isinstance(message, StreamItemMessage):
        return {
            "type": "StreamItem",
            "invocationId": message.invocation_id,
            "item": to_neutral_value(message.item),
            "headers": _headers(message.headers),
        }
    if isinstance(message, CompletionMessage):
        return {
            "type": "Completion",
            "invocationId": message.invocation_id,
            "error": message.error,
            "result": to_neutral_value(message.result),
            "hasResult": message.has_result,
            "headers": _headers(message.headers),
        }
    if isinstance(message, CancelInvocationMessage):
        return {
            "type": "CancelInvocation",
            "invocationId": message.invocation_id,
            "headers": _headers(message.headers),
        }
    if isinstance(message, PingMessage):
        return {"type": "Ping"}
    if isinstance(message, CloseMessage):
        return {"type": "Close", "error": message.error, "allowReconnect": message.allow_reconnect}
    if isinstance(message, AckMessage):
        return {"type": "Ack", "sequenceId": message.sequence_id}
    if isinstance(message, SequenceMessage):
        return {"type": "Sequence", "sequenceId": message.sequence_id}
    if isinstance(message, HandshakeRequest):
        return {
            "type": "HandshakeRequest",
            "protocol": message.protocol,
            "version": message.version,
        }
    if isinstance(message, HandshakeResponse):
        return {"type": "HandshakeResponse", "error": message.error}
    raise AssertionError(f"unexpected message {message!r}")


def from_neutral(neutral: Mapping[str, Any]) -> Any:
    """Build our message object from a neutral description."""
    kind = neutral["type"]
    headers = neutral.get("headers")
    if kind in ("Invocation", "StreamInvocation"):
        cls = InvocationMessage if kind == "Invocation" else StreamInvocationMessage
        return cls(
            neutral["invocationId"],
            neutral["target"],
            from_neutral_value(neutral["arguments"]),
            neutral.get("streamIds"),
            headers,
        )
    if kind == "StreamItem":
        return StreamItemMessage(
            neutral["invocationId"], from_neutral_value(neutral["item"]), headers
        )
    if kind == "Completion":
        return CompletionMessage(
            neutral["invocationId"],
            neutral.get("error"),
            from_neutral_value(neutral.get("result")),
            bool(neutral.get("hasResult")),
            headers,
        )
    if kind == "CancelInvocation":
        return CancelInvocationMessage(neutral["invocationId"], headers)
    if kind == "Ping":
        return PING
    if kind == "Close":
        return CloseMessage(neutral.get("error"), bool(neutral.get("allowReconnect")))
    if kind == "Ack":
        return AckMessage(neutral["sequenceId"])
    if kind == "Sequence":
        return SequenceMessage(neutral["sequenceId"])
    if kind == "HandshakeRequest":
        return HandshakeRequest(neutral["protocol"], neutral["version"])
    if kind == "HandshakeResponse":
        return HandshakeResponse(neutral.get("error"))
    raise AssertionError(f"unknown neutral message type {kind!r}")
