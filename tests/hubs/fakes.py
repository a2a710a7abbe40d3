"""An in-memory ``ConnectionContext`` and a tiny SignalR client for hub tests.

The fake stands in for a transport: tests push inbound bytes and read what
the hub handler sent, without sockets or the real transports.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from signalr_server.connections.context import ConnectionClosed, RequestInfo
from signalr_server.protocol.base import HubProtocol
from signalr_server.protocol.handshake import write_handshake_request
from signalr_server.protocol.messages import (
    CompletionMessage,
    HandshakeRequest,
    HubMessage,
    InvocationMessage,
    PingMessage,
    TransferFormat,
)
from signalr_server.protocol.registry import get_protocol

BOTH_FORMATS = frozenset({TransferFormat.TEXT, TransferFormat.BINARY})


class FakeConnection:
    """A ``ConnectionContext`` backed by two unbounded in-memory streams."""

    def __init__(
        self,
        connection_id: str = "conn-1",
        *,
        transport_name: str = "WebSockets",
        supported_formats: frozenset[TransferFormat] = BOTH_FORMATS,
        has_inherent_keep_alive: bool = False,
        user: Any = None,
        request: RequestInfo | None = None,
        listens: bool = False,
    ) -> None:
        self.connection_id = connection_id
        self.listens = listens
        """Offer pushed bytes to a listener, as the native server's WebSocket does."""
        self.listener: Callable[[bytes], bool] | None = None
        self.receiving = False
        self.unread = 0
        """Pushed and not yet returned by ``receive`` (handed over or buffered)."""
        self.taken_by_listener = 0
        self.transport_name = transport_name
        self.supported_formats = supported_formats
        self.has_inherent_keep_alive = has_inherent_keep_alive
        self.user = user
        self.request = request or RequestInfo(path="/hub", headers={}, query={})
        self.items: dict[str, Any] = {}
        self.transfer_format = TransferFormat.TEXT
        self.aborted = False
        self.closed = False
        inbound: tuple[MemoryObjectSendStream[bytes], MemoryObjectReceiveStream[bytes]]
        inbound = anyio.create_memory_object_stream(math.inf)
        self._in_send, self._in_receive = inbound
        outbound: tuple[MemoryObjectSendStream[bytes], MemoryObjectReceiveStream[bytes]]
        outbound = anyio.create_memory_object_stream(math.inf)
        self._out_send, self.outbound = outbound

    # -- ConnectionContext ------------------------------------------------

    async def receive(self) -> bytes:
        self.receiving = True
        try:
            data = await self._in_receive.receive()
            self.unread -= 1
            return data
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            raise ConnectionClosed() from None
        finally:
            self.receiving = False

    def listen(self, listener: Callable[[bytes], bool] | None) -> bool:
        if not self.listens:
            return False
        self.listener = listener
        return True

    async def send(self, data: bytes) -> None:
        self.send_nowait(data)

    def send_now(self, data: bytes) -> bool:
        if self.closed:
            return False  # ``send`` then raises ConnectionClosed
        self._out_send.send_nowait(data)
        return True

    def begin_send(self, data: bytes) -> Awaitable[None] | None:
        if self.closed:
            return self.send(data)  # raises ConnectionClosed when awaited
        self._out_send.send_nowait(data)
        return None

    def send_nowait(self, data: bytes) -> None:
        if self.closed:
            raise ConnectionClosed()
        self._out_send.send_nowait(data)

    def abort(self, reason: str | None = None) -> None:
        self.aborted = True
        self.close_input()

    # -- test side --------------------------------------------------------

    def push(self, data: bytes) -> None:
        """Deliver bytes as if the client had sent them."""
        listener = self.listener
        if listener is not None and self.receiving and not self.unread and listener(data):
            self.taken_by_listener += 1
            return
        self.unread += 1
        self._in_send.send_nowait(data)

    def close_input(self) -> None:
        """The client went away: ``receive`` raises ``ConnectionClosed`` once drained."""
        self._in_send.close()

    def close(self) -> None:
        """The transport is gone in both directions."""
        self.closed = True
        self.close_input()

    async def read_raw(self, timeout: float = 2.0) -> bytes:
        with anyio.fail_after(timeout):
            return await self.outbound.receive()


class TestClient:
    """Speaks the hub protocol from the client side over a ``FakeConnection``."""

    __test__ = False  # not a pytest test class

    def __init__(self, connection: FakeConnection, protocol_name: str = "json") -> None:
        self.connection = connection
        protocol = get_protocol(protocol_name)
        assert protocol is not None
        self.protocol: HubProtocol = protocol
        self._reader = protocol.reader(None)
        self._pending: list[HubMessage] = []
        self._next_id = 0

    async def handshake(self, version: int = 1) -> None:
        """Send the handshake and check the ``{}`` answer."""
        request = HandshakeRequest(self.protocol.name, version)
        self.connection.push(write_handshake_request(request))
        data = await self.connection.read_raw()
        head, separator, rest = data.partition(b"\x1e")
        assert separator and head == b"{}", data
        if rest:
            self._pending.extend(self._reader.feed(rest))

    def send(self, message: HubMessage) -> None:
        self.connection.push(self.protocol.write(message))

    async def next_message(self, *, skip_pings: bool = True, timeout: float = 2.0) -> HubMessage:
        with anyio.fail_after(timeout):
            while True:
                while self._pending:
                    message = self._pending.pop(0)
                    if not (skip_pings and isinstance(message, PingMessage)):
                        return message
                data = await self.connection.outbound.receive()
                self._pending.extend(self._reader.feed(data))

    async def no_message(self, wait: float = 0.05) -> None:
        """Assert that nothing (other than pings) arrives within ``wait`` seconds."""
        with anyio.move_on_after(wait):
            message = await self.next_message(timeout=wait * 10)
            raise AssertionError(f"unexpected message {message!r}")

    def new_id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    async def invoke(self, target: str, *args: Any) -> CompletionMessage:
        invocation_id = self.new_id()
        self.send(InvocationMessage(invocation_id, target, list(args)))
        others: list[HubMessage] = []
        while True:
            message = await self.next_message()
            if isinstance(message, CompletionMessage) and message.invocation_id == invocation_id:
                # Messages that arrived first stay queued for ``next_message``.
                self._pending[:0] = others
                return message
            others.append(message)


@asynccontextmanager
async def connected(
    handler: Any,
    connection: FakeConnection | None = None,
    protocol: str = "json",
) -> AsyncIterator[TestClient]:
    """Run ``handler`` on a fake connection, handshake, and stop it on exit."""
    connection = connection or FakeConnection()
    client = TestClient(connection, protocol)
    async with anyio.create_task_group() as task_group:
        task_group.start_soon(handler, connection)
        await client.handshake()
        try:
            yield client
        finally:
            connection.close_input()
