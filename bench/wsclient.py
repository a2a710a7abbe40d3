"""A minimal WebSocket client on ``asyncio.Protocol`` for the load generator.

Why not a library client: the generator must not be the bottleneck, so every
client frame is encoded once up front (masked with the all-zero key, which
RFC 6455 allows and which leaves the payload bytes unchanged) and sent with
one ``transport.write``; incoming frames are split in a tight loop and handed
to a callback as ``bytes``. No per-message objects, tasks or futures. It needs
nothing beyond the standard library, so the CI smoke run uses it too.
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Callable

__all__ = ["WsClient", "client_frame", "connect"]

OnMessage = Callable[["WsClient", bytes], None]


def client_frame(payload: bytes, *, binary: bool = False, opcode: int | None = None) -> bytes:
    """One complete client-to-server frame, ready to ``write`` as many times as needed."""
    op = opcode if opcode is not None else (0x2 if binary else 0x1)
    length = len(payload)
    if length < 126:
        header = bytes((0x80 | op, 0x80 | length))
    elif length < 65536:
        header = bytes((0x80 | op, 0x80 | 126)) + length.to_bytes(2, "big")
    else:
        header = bytes((0x80 | op, 0x80 | 127)) + length.to_bytes(8, "big")
    return header + b"\x00\x00\x00\x00" + payload


class WsClient(asyncio.Protocol):
    """One connection. ``on_message`` is swapped freely by the scenarios."""

    def __init__(self, host: str, port: int, path: str, on_message: OnMessage) -> None:
        self.on_message = on_message
        self.transport: asyncio.Transport | None = None
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed = False
        self.sent_at = 0.0
        self.tag = 0
        self._request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}"
            "\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        self._upgraded = False
        self._buffer = b""
        self._fragments: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass
        transport.write(self._request)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(f"closed before the upgrade: {exc}"))

    def write(self, frame: bytes) -> None:
        if self.transport is not None and not self.closed:
            self.transport.write(frame)

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        if not self._upgraded:
            data = self._buffer + data
            end = data.find(b"\r\n\r\n")
            if end < 0:
                self._buffer = data
                return
            status_line = data[: data.find(b"\r\n")]
            if b" 101 " not in status_line + b" ":
                self._buffer = b""
                if not self.opened.done():
                    self.opened.set_exception(ConnectionError(status_line.decode(errors="replace")))
                self.abort()
                return
            self._upgraded = True
            self._buffer = b""
            data = data[end + 4 :]
            self.opened.set_result(None)
            if not data:
                return
        buf = self._buffer + data if self._buffer else data
        pos, size = 0, len(buf)
        while size - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            length, header = b1 & 0x7F, 2
            if length == 126:
                if size - pos < 4:
                    break
                length, header = int.from_bytes(buf[pos + 2 : pos + 4], "big"), 4
            elif length == 127:
                if size - pos < 10:
                    break
                length, header = int.from_bytes(buf[pos + 2 : pos + 10], "big"), 10
            end = pos + header + length
            if end > size:
                break
            payload = buf[pos + header : end]
            pos = end
            opcode = b0 & 0x0F
            if opcode in (1, 2):
                if b0 & 0x80:
                    self.on_message(self, payload)
                else:
                    self._fragments = [payload]
            elif opcode == 0:
                self._fragments.append(payload)
                if b0 & 0x80:
                    self.on_message(self, b"".join(self._fragments))
                    self._fragments = []
            elif opcode == 9:
                self.write(client_frame(payload, opcode=0xA))
            elif opcode == 8:
                self.closed = True
        self._buffer = buf[pos:]


async def connect(
    host: str,
    port: int,
    path: str,
    on_message: OnMessage,
    *,
    local_host: str | None = None,
    timeout: float = 10.0,
) -> WsClient:
    """Open a connection and complete the WebSocket upgrade."""
    loop = asyncio.get_running_loop()
    local_addr = (local_host, 0) if local_host else None
    _, client = await asyncio.wait_for(
        loop.create_connection(
            lambda: WsClient(host, port, path, on_message), host, port, local_addr=local_addr
        ),
        timeout,
    )
    await asyncio.wait_for(client.opened, timeout)
    return client
