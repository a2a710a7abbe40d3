"""One WebSocket as ASGI ``websocket`` events, framed by ``frames``.

The hot path is short on purpose: a received frame is decoded in
``data_received`` and handed to the one waiting ``receive`` through a future;
``send`` writes the frame to the transport at once and waits only when the
transport's buffer is above its high-water mark. Pings are answered here.
Received messages the app has not read yet are bounded: above
``NativeLimits.websocket_buffer`` bytes the socket stops being read.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

import h11

from ...connections.asgi_types import Message
from .frames import (
    OP_BINARY,
    OP_CLOSE,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    FrameReader,
    WebSocketProtocolError,
    accept_key,
    close_payload,
    encode_frame,
    parse_close,
)
from .http_cycle import response

if TYPE_CHECKING:
    from .protocol import NativeProtocol

__all__ = ["ClientDisconnectedError", "WebSocketCycle"]

logger = logging.getLogger("signalr_server.app.native")

CLOSE_ABNORMAL = 1006
CLOSE_SERVICE_RESTART = 1012

_CONNECTING, _OPEN, _REJECTING, _DONE = range(4)


class ClientDisconnectedError(OSError):
    """A send on a WebSocket that is closed or closing (as ASGI asks: an OSError)."""


def _check_header(value: bytes) -> bytes:
    if b"\r" in value or b"\n" in value:
        raise RuntimeError("Header names and values must not contain CR or LF.")
    return value


class WebSocketCycle:
    """ASGI ``receive``/``send`` for one upgrade request and the socket after it."""

    __slots__ = (
        "_close_received",
        "_close_sent",
        "_close_timer",
        "_connect_delivered",
        "_disconnected",
        "_key",
        "_listener",
        "_protocol",
        "_queue",
        "_queued",
        "_reader",
        "_state",
        "_waiter",
    )

    def __init__(self, protocol: NativeProtocol, key: bytes) -> None:
        self._protocol = protocol
        self._key = key
        self._state = _CONNECTING
        self._queue: deque[Message] = deque()
        self._queued = 0
        self._waiter: asyncio.Future[None] | None = None
        self._reader = FrameReader(protocol.limits.websocket_max_message)
        self._connect_delivered = False
        self._close_sent = False
        self._close_received = False
        self._disconnected = False
        self._close_timer: asyncio.TimerHandle | None = None
        self._listener: Callable[[bytes], bool] | None = None

    # -- ASGI ----------------------------------------------------------------------

    async def receive(self) -> Message:
        if not self._connect_delivered:
            self._connect_delivered = True
            return {"type": "websocket.connect"}
        queue = self._queue
        while not queue:
            if self._state == _DONE and self._disconnected:
                return {"type": "websocket.disconnect", "code": CLOSE_ABNORMAL, "reason": ""}
            self._waiter = waiter = asyncio.get_running_loop().create_future()
            try:
                await waiter
            finally:
                self._waiter = None
        message = queue.popleft()
        if self._queued:
            self._queued -= len(message.get("bytes") or message.get("text") or "")
            if self._protocol.reading_paused and self._queued <= (
                self._protocol.limits.websocket_buffer // 2
            ):
                self._protocol.resume_reading()
        return message

    async def send(self, message: Message) -> None:
        state = self._state
        kind = message["type"]
        if state == _OPEN:
            if self._close_sent or self._disconnected:
                raise ClientDisconnectedError("The WebSocket is closed.")
            if kind == "websocket.send":
                data = message.get("bytes")
                if data is not None:
                    frame = encode_frame(OP_BINARY, data)
                else:
                    frame = encode_frame(OP_TEXT, message["text"].encode("utf-8"))
                protocol = self._protocol
                protocol.write(frame)
                if protocol.write_paused:
                    await protocol.drain()
            elif kind == "websocket.close":
                self._send_close(int(message.get("code") or 1000), message.get("reason") or "")
            else:
                raise RuntimeError(f"Unexpected ASGI message {kind!r} on an open WebSocket.")
        elif state == _CONNECTING:
            if kind == "websocket.accept":
                self._accept(message)
            elif kind == "websocket.close":
                self._reject_start(403, [(b"content-length", b"0")])
                self._reject_body(b"", more=False)
            elif kind == "websocket.http.response.start":
                headers = [(bytes(k), bytes(v)) for k, v in message.get("headers") or ()]
                self._reject_start(int(message["status"]), headers)
            else:
                raise RuntimeError(f"Unexpected ASGI message {kind!r} before accepting.")
        elif state == _REJECTING and kind == "websocket.http.response.body":
            self._reject_body(message.get("body", b""), more=message.get("more_body", False))
        elif kind == "websocket.close" or state == _DONE:
            raise ClientDisconnectedError("The WebSocket is closed.")
        else:
            raise RuntimeError(f"Unexpected ASGI message {kind!r}.")

    def write_nowait(self, data: bytes, binary: bool) -> bool:
        """Write one message frame at once, from any task, if the socket takes
        it without waiting; False (nothing written) when it is not open or its
        buffer is above the high-water mark. Offered to the app as the
        ``signalr_server.websocket.write_nowait`` scope extension."""
        if (
            self._state != _OPEN
            or self._close_sent
            or self._disconnected
            or self._protocol.write_paused
        ):
            return False
        self._protocol.write(encode_frame(OP_BINARY if binary else OP_TEXT, data))
        return True

    def buffered(self) -> int:
        """Bytes written but not yet on the wire (queued here and in the transport)."""
        return self._protocol.buffered()

    def listen(self, listener: Callable[[bytes], bool] | None) -> None:
        """Offer data messages to ``listener`` as they arrive, before ``receive``.

        While one is set, a text or binary message that arrives with nothing
        queued for ``receive`` goes to ``listener(data)`` (text as its UTF-8
        bytes) right in ``data_received``; True means it was taken, False
        queues it for ``receive`` as usual. Once anything is queued, later
        messages queue behind it, so the order holds. ``None`` stops it.
        Offered to the app with ``write_nowait``: a reply can then go out
        without the app's task waking at all.
        """
        self._listener = listener

    # -- handshake -----------------------------------------------------------------

    def _accept(self, message: Message) -> None:
        lines = [
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept_key(self._key) + b"\r\n"
        ]
        subprotocol = message.get("subprotocol")
        if subprotocol:
            lines.append(
                b"Sec-WebSocket-Protocol: " + _check_header(subprotocol.encode()) + b"\r\n"
            )
        for name, value in message.get("headers") or ():
            lines.append(_check_header(bytes(name)) + b": " + _check_header(bytes(value)) + b"\r\n")
        lines.append(b"\r\n")
        self._state = _OPEN
        self._protocol.write(b"".join(lines))
        self._protocol.start_websocket(self)

    def _reject_start(self, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        """Answer the upgrade request with a plain HTTP response (body follows)."""
        self._state = _REJECTING
        self._protocol.write(self._protocol.encode(response(status, headers)))

    def _reject_body(self, body: bytes, *, more: bool) -> None:
        events: list[h11.Data | h11.EndOfMessage] = [h11.Data(data=body)] if body else []
        if not more:
            events.append(h11.EndOfMessage())
        if events:
            self._protocol.write(self._protocol.encode(*events))
        if not more:
            self._state = _DONE
            self._protocol.close()

    # -- from the protocol ---------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self._close_received:
            return
        try:
            frames = self._reader.feed(data)
        except WebSocketProtocolError as exc:
            self._fail(exc)
            return
        for opcode, payload in frames:
            if opcode == OP_TEXT:
                listener = self._listener
                text: str = payload  # type: ignore[assignment]
                if listener is not None and not self._queue and listener(text.encode()):
                    continue
                self._push({"type": "websocket.receive", "text": payload}, len(payload))
            elif opcode == OP_BINARY:
                listener = self._listener
                if listener is not None and not self._queue and listener(payload):  # type: ignore[arg-type]
                    continue
                self._push({"type": "websocket.receive", "bytes": payload}, len(payload))
            elif opcode == OP_PING:
                if not self._close_sent:
                    self._protocol.write(encode_frame(OP_PONG, payload))  # type: ignore[arg-type]
            elif opcode == OP_CLOSE:
                self._close_from_client(payload)  # type: ignore[arg-type]
                return

    def _push(self, message: Message, size: int) -> None:
        self._queue.append(message)
        self._queued += size
        if self._queued > self._protocol.limits.websocket_buffer:
            # The app is behind: stop reading until it catches up.
            self._protocol.pause_reading()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _close_from_client(self, payload: bytes) -> None:
        try:
            code, reason = parse_close(payload)
        except WebSocketProtocolError as exc:
            self._fail(exc)
            return
        self._close_received = True
        if not self._close_sent:
            self._close_sent = True
            # Echo the client's code (RFC 6455 §5.5.1); none if it sent none.
            self._protocol.write(encode_frame(OP_CLOSE, payload[:2]))
        # The server closes the TCP connection first (§7.1.1).
        self._protocol.close()
        self._push_disconnect(code, reason)

    def _fail(self, error: WebSocketProtocolError) -> None:
        logger.debug("WebSocket protocol error: %s", error.reason)
        if not self._close_sent:
            self._close_sent = True
            self._protocol.write(encode_frame(OP_CLOSE, close_payload(error.code, error.reason)))
        self._close_received = True  # read nothing more
        self._protocol.close()
        self._push_disconnect(error.code, error.reason)

    def _send_close(self, code: int, reason: str) -> None:
        self._close_sent = True
        self._protocol.write(encode_frame(OP_CLOSE, close_payload(code, reason)))
        if self._close_received:
            self._protocol.close()
        else:
            # Wait (bounded) for the client's close frame, then close the TCP connection.
            self._close_timer = asyncio.get_running_loop().call_later(
                self._protocol.limits.websocket_close_timeout, self._protocol.abort
            )

    def _push_disconnect(self, code: int, reason: str = "") -> None:
        if self._disconnected:
            return
        self._disconnected = True
        self._state = _DONE
        self._listener = None
        self._push({"type": "websocket.disconnect", "code": code, "reason": reason}, 0)

    def connection_lost(self) -> None:
        if self._close_timer is not None:
            self._close_timer.cancel()
            self._close_timer = None
        if self._state == _CONNECTING:
            # The app has not answered the upgrade; its receive ends the exchange.
            self._state = _DONE
        self._push_disconnect(CLOSE_ABNORMAL)

    def shutdown(self) -> None:
        """The server is stopping: close an open socket with 1012 (Service Restart)."""
        if self._state == _OPEN and not self._close_sent:
            self._send_close(CLOSE_SERVICE_RESTART, "")
            self._push_disconnect(CLOSE_SERVICE_RESTART)

    def app_finished(self, failed: bool) -> None:
        """The app returned (or raised): close whatever it left open."""
        if self._state == _OPEN and not self._close_sent:
            self._send_close(1011 if failed else 1000, "")
        elif self._state == _CONNECTING:
            self._reject_start(500 if failed else 403, [(b"content-length", b"0")])
            self._reject_body(b"", more=False)
        elif self._state == _REJECTING:
            self._protocol.abort()
