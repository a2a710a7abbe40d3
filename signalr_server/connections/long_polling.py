"""The Long Polling transport (LP-1..LP-10): server to client, one GET at a time.

A logical connection outlives every poll: the first poll only starts the
handler, each later poll takes whatever the handler has queued, and between
polls the connection is inactive so the registry's expiry (ID-8) covers a
client that silently stops polling. Client-to-server bytes come by POST.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable

import anyio

from ..protocol.messages import TransferFormat
from .asgi_types import Receive, Send
from .connection import ConnectionStatus, HttpConnection, SetTransportResult
from .context import ConnectionClosed, RequestInfo
from .options import HttpConnectionOptions, HttpTransportType
from .responses import send_response

__all__ = ["NO_CACHE_HEADERS", "LongPollingTransport", "PollSlot"]

logger = logging.getLogger("signalr_server.connections")

NO_CACHE_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"cache-control", b"no-cache, no-store"),
    (b"pragma", b"no-cache"),
    (b"expires", b"Thu, 01 Jan 1970 00:00:00 GMT"),
)
"""On every answer to a poll, errors included (LP-1): a cached poll would
replay old messages."""

_POLL_HEADERS = (*NO_CACHE_HEADERS, (b"long-running", b"true"))
_OCTET_STREAM = b"application/octet-stream"


class PollSlot:
    """The poll that currently owns a connection's outbound side.

    A newer poll sets ``superseded`` and then waits for ``done``, so two polls
    never compete for the same data (ID-7: superseding, not 409).
    """

    __slots__ = ("done", "superseded")

    def __init__(self) -> None:
        self.superseded = anyio.Event()
        self.done = anyio.Event()


class _Outcome(enum.Enum):
    DATA = "data"
    TIMEOUT = "timeout"
    SUPERSEDED = "superseded"
    CLOSED = "closed"
    DISCONNECTED = "disconnected"


class LongPollingTransport:
    """Serves one poll for a connection already bound (or bindable) to LP."""

    def __init__(
        self,
        connection: HttpConnection,
        options: HttpConnectionOptions,
        dispose: Callable[[HttpConnection], None],
    ) -> None:
        self._connection = connection
        self._options = options
        self._dispose = dispose

    async def run(
        self,
        request: RequestInfo,
        receive: Receive,
        send: Send,
        start_handler: Callable[[], None],
    ) -> None:
        """Answer this poll: take over from any pending poll, then either start
        the handler (first poll) or wait for data, timeout, supersession or the
        end of the connection."""
        connection = self._connection
        previous = connection.current_poll
        slot = PollSlot()
        # Claimed before the first await, so concurrent polls queue up in
        # arrival order and only the newest one waits for data.
        connection.current_poll = slot
        try:
            if previous is not None:
                previous.superseded.set()
                await previous.done.wait()
            await self._serve(slot, request, receive, send, start_handler)
        finally:
            if connection.current_poll is slot:
                connection.current_poll = None
            connection.mark_inactive()
            slot.done.set()

    async def _serve(
        self,
        slot: PollSlot,
        request: RequestInfo,
        receive: Receive,
        send: Send,
        start_handler: Callable[[], None],
    ) -> None:
        connection = self._connection
        if connection.status is ConnectionStatus.DISPOSED:
            # Raced with DELETE or expiry (ID-7: such requests get 404).
            await send_response(send, 404, headers=NO_CACHE_HEADERS)
            return
        if slot.superseded.is_set():
            await send_response(send, 204, headers=_POLL_HEADERS)
            return
        result = connection.try_set_transport(HttpTransportType.LongPolling)
        if result is SetTransportResult.CANNOT_CHANGE:
            await send_response(
                send, 400, b"Cannot change transports mid-connection", headers=NO_CACHE_HEADERS
            )
            return
        if result is SetTransportResult.ALREADY_ACTIVE:
            await send_response(send, 409, headers=NO_CACHE_HEADERS)
            return

        if not connection.handler_started:
            # LP-2: answered at once; clients treat this 200 as "connected"
            # and only then send the handshake by POST.
            connection.request = request
            connection.supported_formats = frozenset(TransferFormat)
            connection.has_inherent_keep_alive = True
            start_handler()
            await send_response(send, 200, content_type=_OCTET_STREAM, headers=_POLL_HEADERS)
            return

        outcome, data = await self._wait_for_outbound(slot, receive)
        if outcome is _Outcome.DATA:
            await self._deliver(send, data)
        elif outcome is _Outcome.TIMEOUT:
            await send_response(send, 200, headers=_POLL_HEADERS)
        elif outcome is _Outcome.SUPERSEDED:
            await send_response(send, 204, headers=_POLL_HEADERS)
        elif outcome is _Outcome.CLOSED:
            # Nothing left and nothing more will come (LP-5, LP-6). Removed
            # before answering, so a client that reacts fast already finds
            # the connection gone.
            self._dispose(connection)
            await send_response(send, 204, headers=_POLL_HEADERS)
        # DISCONNECTED: nobody to answer; expiry handles a client that is gone.

    async def _wait_for_outbound(self, slot: PollSlot, receive: Receive) -> tuple[_Outcome, bytes]:
        """Block until queued data, the poll timeout, a newer poll, the end of
        the outbound side or the client going away, whichever comes first.

        Data that was taken always wins: it has left the channel, so it must
        be delivered even if a newer poll or a timeout arrived meanwhile.
        """
        connection = self._connection
        data: bytes | None = None
        reason: _Outcome | None = None

        async with anyio.create_task_group() as task_group:

            def stop(why: _Outcome) -> None:
                nonlocal reason
                if reason is None:
                    reason = why
                task_group.cancel_scope.cancel()

            async def watch_superseded() -> None:
                await slot.superseded.wait()
                stop(_Outcome.SUPERSEDED)

            async def watch_disconnect() -> None:
                while (await receive())["type"] != "http.disconnect":
                    pass
                stop(_Outcome.DISCONNECTED)

            task_group.start_soon(watch_superseded)
            task_group.start_soon(watch_disconnect)
            with anyio.move_on_after(self._options.long_polling_poll_timeout):
                try:
                    data = await connection.take_outbound()
                except ConnectionClosed:
                    stop(_Outcome.CLOSED)
            stop(_Outcome.TIMEOUT)

        if data is not None:
            return _Outcome.DATA, data
        assert reason is not None
        return reason, b""

    async def _deliver(self, send: Send, data: bytes) -> None:
        """LP-3/LP-8: all buffered bytes (complete messages only), raw."""
        connection = self._connection
        try:
            with anyio.move_on_after(self._options.transport_send_timeout) as scope:
                await send_response(
                    send, 200, data, content_type=_OCTET_STREAM, headers=_POLL_HEADERS
                )
        except Exception:
            # The bytes are lost, so the stream the client sees is broken.
            logger.debug("Poll response failed on %s", connection.connection_id, exc_info=True)
            connection.abort("Sending to the client failed.")
            return
        if scope.cancelled_caught:
            connection.abort("A send to the client exceeded the send timeout.")
