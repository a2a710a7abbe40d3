"""What each server under test expects on the wire, pre-encoded once.

A dialect turns the four benchmark operations (echo, broadcast, join group,
send to group) into ready-to-write client frames and says how a connection
becomes ready (SignalR handshake, Socket.IO namespace connect, nothing for
the raw apps). Replies are recognised by a marker inside the payload, which
every protocol carries verbatim, so the hot loop never decodes anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import msgpack

from .wsclient import client_frame

__all__ = ["BCAST_MARK", "DIALECTS", "ECHO_MARK", "Dialect", "dialect"]

ECHO_MARK = b"ECHO"
BCAST_MARK = b"BCAST"
ECHO_VALUE = (ECHO_MARK + b"-" * 28).decode()
BCAST_VALUE = (BCAST_MARK + b"-" * 27).decode()

RS = b"\x1e"


@dataclass(frozen=True)
class Dialect:
    name: str
    path: str
    echo: bytes
    broadcast: bytes
    hello: tuple[bytes, ...] = ()
    """Frames written right after the upgrade."""
    ready_prefix: bytes | None = None
    """The connection is ready on the first message starting with this;
    ``None``: ready right after the upgrade."""
    ping_prefix: bytes | None = None
    pong: bytes = b""
    """A message starting with ``ping_prefix`` is answered with ``pong``."""
    join_frames: dict[str, bytes] = field(default_factory=dict)
    group_frames: dict[str, bytes] = field(default_factory=dict)

    def join(self, group: str) -> bytes:
        return self.join_frames[group]

    def to_group(self, group: str) -> bytes:
        return self.group_frames[group]


GROUPS = [f"g{i}" for i in range(100)]


def _json_record(message: dict[str, object]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode() + RS


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _msgpack_record(message: list[object]) -> bytes:
    body: bytes = msgpack.packb(message)
    return _varint(len(body)) + body


def _signalr_json() -> Dialect:
    def invocation(target: str, args: list[object], invocation_id: str | None) -> bytes:
        message: dict[str, object] = {"type": 1, "target": target, "arguments": args}
        if invocation_id is not None:
            message["invocationId"] = invocation_id
        return client_frame(_json_record(message))

    return Dialect(
        name="signalr-json",
        path="/bench",
        hello=(client_frame(_json_record({"protocol": "json", "version": 1})),),
        ready_prefix=b"{",
        echo=invocation("Echo", [ECHO_VALUE], "1"),
        broadcast=invocation("Broadcast", [BCAST_VALUE], None),
        join_frames={g: invocation("JoinGroup", [g], None) for g in GROUPS},
        group_frames={g: invocation("SendToGroup", [g, BCAST_VALUE], None) for g in GROUPS},
    )


def _signalr_msgpack() -> Dialect:
    def invocation(target: str, args: list[object], invocation_id: str | None) -> bytes:
        return client_frame(_msgpack_record([1, {}, invocation_id, target, args, []]), binary=True)

    return Dialect(
        name="signalr-msgpack",
        path="/bench",
        hello=(client_frame(_json_record({"protocol": "messagepack", "version": 1})),),
        ready_prefix=b"{",
        echo=invocation("Echo", [ECHO_VALUE], "1"),
        broadcast=invocation("Broadcast", [BCAST_VALUE], None),
        join_frames={g: invocation("JoinGroup", [g], None) for g in GROUPS},
        group_frames={g: invocation("SendToGroup", [g, BCAST_VALUE], None) for g in GROUPS},
    )


def _raw() -> Dialect:
    return Dialect(
        name="raw",
        path="/raw",
        echo=client_frame(b"E" + ECHO_VALUE.encode()),
        broadcast=client_frame(b"B" + BCAST_VALUE.encode()),
        join_frames={g: client_frame(b"J" + g.encode()) for g in GROUPS},
        group_frames={g: client_frame(f"G{g}|{BCAST_VALUE}".encode()) for g in GROUPS},
    )


def _socketio() -> Dialect:
    def event(*args: object, ack: int | None = None) -> bytes:
        packet = "42" + ("" if ack is None else str(ack)) + json.dumps(args, separators=(",", ":"))
        return client_frame(packet.encode())

    return Dialect(
        name="socketio",
        path="/socket.io/?EIO=4&transport=websocket",
        hello=(client_frame(b"40"),),
        ready_prefix=b"40",
        ping_prefix=b"2",
        pong=client_frame(b"3"),
        echo=event("echo", ECHO_VALUE, ack=1),
        broadcast=event("broadcast", BCAST_VALUE),
        join_frames={g: event("join", g) for g in GROUPS},
        group_frames={g: event("group", g, BCAST_VALUE) for g in GROUPS},
    )


DIALECTS = {
    "signalr-json": _signalr_json,
    "signalr-msgpack": _signalr_msgpack,
    "raw": _raw,
    "socketio": _socketio,
}


def dialect(name: str) -> Dialect:
    try:
        return DIALECTS[name]()
    except KeyError:
        raise ValueError(f"unknown dialect {name!r}; choose one of {', '.join(DIALECTS)}") from None
