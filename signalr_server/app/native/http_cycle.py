"""One HTTP request/response exchange as ASGI ``http`` events, on h11.

The body reaches the app in the chunks it arrived in; reading is paused while
more than ``NativeLimits.request_buffer`` bytes wait unread. A response is
written when its first body chunk is sent (headers and body in one write), and
a streamed response (Server-Sent Events) waits for the socket to drain
between chunks, so a client that stops reading holds at most the transport's
buffer.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import h11

from ...connections.asgi_types import Message
from ..reason_phrases import reason_phrase

if TYPE_CHECKING:
    from .protocol import NativeProtocol

__all__ = ["HttpCycle", "response"]


def response(status: int, headers: list[tuple[bytes, bytes]]) -> h11.Response:
    """A response head with the standard reason phrase (clients show it in errors)."""
    return h11.Response(status_code=status, headers=headers, reason=reason_phrase(status))


class HttpCycle:
    """ASGI ``receive``/``send`` for one request on a keep-alive connection."""

    __slots__ = (
        "_body",
        "_body_size",
        "_head",
        "_head_pending",
        "_headers",
        "_protocol",
        "_started",
        "_status",
        "_waiter",
        "body_done",
        "complete",
        "disconnected",
        "final_delivered",
    )

    def __init__(self, protocol: NativeProtocol, method: bytes) -> None:
        self._protocol = protocol
        self._head = method == b"HEAD"
        self._body: list[bytes] = []
        self._body_size = 0
        self._waiter: asyncio.Future[None] | None = None
        self._started = False
        self._status = 0
        self._headers: list[tuple[bytes, bytes]] = []
        self._head_pending = True
        self.body_done = False
        """The client's request body has fully arrived."""
        self.final_delivered = False
        """The app has received the last ``http.request`` event."""
        self.complete = False
        """The whole response has been written."""
        self.disconnected = False

    @property
    def started(self) -> bool:
        return self._started

    # -- from the protocol -------------------------------------------------------

    def body_received(self, data: bytes) -> None:
        if self.complete:
            return  # the app answered without reading it all: discard the rest
        self._body.append(data)
        self._body_size += len(data)
        if self._body_size > self._protocol.limits.request_buffer:
            self._protocol.pause_reading()
        self._wake()

    def body_complete(self) -> None:
        self.body_done = True
        self._wake()

    def connection_lost(self) -> None:
        self.disconnected = True
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _wait(self) -> None:
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    # -- ASGI ------------------------------------------------------------------------

    async def receive(self) -> Message:
        if not self.final_delivered:
            protocol = self._protocol
            if protocol.h11.they_are_waiting_for_100_continue and not self._started:
                # The client holds its body back until told to send it.
                continue_ = h11.InformationalResponse(
                    status_code=100, headers=[], reason=b"Continue"
                )
                protocol.write(protocol.encode(continue_))
            while not self._body and not self.body_done and not self.disconnected:
                await self._wait()
            if not self.disconnected or self._body:
                body = b"".join(self._body) if len(self._body) != 1 else self._body[0]
                self._body.clear()
                self._body_size = 0
                self._protocol.resume_reading()
                more = not self.body_done
                self.final_delivered = not more
                return {"type": "http.request", "body": body, "more_body": more}
        # Everything was read: the next event is the end of this exchange,
        # when the client goes away or the response is complete.
        while not self.disconnected and not self.complete:
            await self._wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            if self._started:
                raise RuntimeError("http.response.start was already sent.")
            self._started = True
            self._status = int(message["status"])
            self._headers = [(bytes(k), bytes(v)) for k, v in message.get("headers") or ()]
            return
        if kind != "http.response.body":
            raise RuntimeError(f"Unexpected ASGI message {kind!r} for an HTTP request.")
        if not self._started or self.complete:
            raise RuntimeError("http.response.body outside a response.")
        if self.disconnected:
            return  # as other servers do: a late write to a gone client is dropped
        body: bytes = message.get("body", b"")
        more: bool = message.get("more_body", False)
        protocol = self._protocol
        out = self._encode_body(body, more)
        if not more:
            self.complete = True
        protocol.write(out)
        if not more:
            self._wake()
            protocol.response_complete()
        elif protocol.write_paused:
            await protocol.drain()

    def _encode_body(self, body: bytes, more: bool) -> bytes:
        events: list[h11.Response | h11.Data | h11.EndOfMessage] = []
        if self._head_pending:
            self._head_pending = False
            events.append(response(self._status, self._headers))
        if body and not self._head:
            events.append(h11.Data(data=body))
        if not more:
            events.append(h11.EndOfMessage())
        return self._protocol.encode(*events)

    def error_response(self) -> bytes:
        """The bytes of a 500, for an app that ended without starting a response."""
        self._started = True
        self._status = 500
        self._headers = [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", b"21"),
            (b"connection", b"close"),
        ]
        return self._encode_body(b"Internal Server Error", False)
