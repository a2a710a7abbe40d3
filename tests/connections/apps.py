"""Raw connection handlers and app factories shared by the connection tests.

Handlers run on the server's loop thread; they report to the test thread
through ``queue.Queue`` objects, which are thread-safe.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable

import anyio
import anyio.abc

from signalr_server.app import SignalR
from signalr_server.connections import (
    ConnectionClosed,
    ConnectionContext,
    CorsOptions,
    HttpConnectionOptions,
    HttpTransportType,
)
from signalr_server.protocol.messages import TransferFormat

SMALL_BUFFER = 1024
SHORT_POLL = 0.3
"""Poll timeout of ``/short-poll``: long enough for a POST to land, short enough
to keep the poll-timeout test quick."""
ALLOWED_ORIGIN = "https://allowed.example"
QUICK_CLOSE = 0.5
STALL_TIMEOUT = 0.5
"""``transport_send_timeout`` of ``/stall``."""
"""``websocket_close_timeout`` of ``/quick-close``."""


def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Wait for a condition set by the server thread (not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


class Probe:
    """Events reported by handlers, as ``(connection_id, event)`` pairs."""

    def __init__(self) -> None:
        self.events: queue.Queue[tuple[str, str]] = queue.Queue()

    def report(self, ctx: ConnectionContext, event: str) -> None:
        self.events.put((ctx.connection_id, event))

    def clear(self) -> None:
        while not self.events.empty():
            self.events.get_nowait()

    def wait_for(self, event: str, connection_id: str | None = None, timeout: float = 10.0) -> str:
        """Connection id of the next matching report (others are skipped)."""
        while True:
            seen_id, seen = self.events.get(timeout=timeout)
            if seen == event and connection_id in (None, seen_id):
                return seen_id


def make_echo_handler(probe: Probe):  # type: ignore[no-untyped-def]
    """Echoes every chunk; a few magic inputs trigger the behaviours under test."""

    async def handler(ctx: ConnectionContext) -> None:
        if ctx.request.query_value("format") == "binary":
            ctx.transfer_format = TransferFormat.BINARY
        probe.report(ctx, "started")
        try:
            async with anyio.create_task_group() as background:
                await serve(ctx, background)
        finally:
            probe.report(ctx, "ended")

    async def abort_after(ctx: ConnectionContext, delay: float) -> None:
        await anyio.sleep(delay)
        ctx.abort("aborted under test")

    async def serve(ctx: ConnectionContext, background: anyio.abc.TaskGroup) -> None:
        try:
            while True:
                data = await ctx.receive()
                if data == b"burst":
                    # No await in between: the writer finds all three queued.
                    ctx.send_nowait(b"a\x1e")
                    ctx.send_nowait(b"b\x1e")
                    ctx.send_nowait(b"c\x1e")
                elif data == b"mixed":
                    # Awaited and queued sends interleaved: the wire keeps this order.
                    await ctx.send(b"1\x1e")
                    ctx.send_nowait(b"2\x1e")
                    await ctx.send(b"3\x1e")
                    ctx.send_nowait(b"4\x1e")
                elif data == b"stall":
                    # Awaited sends to a client that stopped reading: the
                    # send timeout must end this, however the send is made.
                    chunk = b"s" * 65536
                    while True:
                        await ctx.send(chunk)
                elif data == b"abort-soon":
                    # Aborted from elsewhere while this handler waits for input.
                    background.start_soon(abort_after, ctx, 0.2)
                elif data == b"flood":
                    for _ in range(8):
                        ctx.send_nowait(b"x" * SMALL_BUFFER)
                    probe.report(ctx, "flood-returned")
                elif data == b"bye":
                    await ctx.send(b"goodbye")
                    return
                elif data == b"fail":
                    raise RuntimeError("handler failure under test")
                else:
                    await ctx.send(data)
        except ConnectionClosed:
            probe.report(ctx, "closed")
            raise

    return handler


def make_app(probe: Probe, **options: object) -> SignalR:
    app = SignalR()
    app.map_connection("/echo", make_echo_handler(probe))
    app.map_connection(
        "/small",
        make_echo_handler(probe),
        options=HttpConnectionOptions(application_max_buffer_size=SMALL_BUFFER),
    )
    app.map_connection(
        "/quick-close",
        make_echo_handler(probe),
        options=HttpConnectionOptions(websocket_close_timeout=QUICK_CLOSE),
    )
    app.map_connection(
        "/stall",
        make_echo_handler(probe),
        options=HttpConnectionOptions(transport_send_timeout=STALL_TIMEOUT),
    )
    app.map_connection(
        "/expiring",
        make_echo_handler(probe),
        options=HttpConnectionOptions(disconnect_timeout=0.2),
    )
    app.map_connection(
        "/short-poll",
        make_echo_handler(probe),
        options=HttpConnectionOptions(long_polling_poll_timeout=SHORT_POLL),
    )
    app.map_connection(
        "/ws-only",
        make_echo_handler(probe),
        options=HttpConnectionOptions(transports=HttpTransportType.WebSockets),
    )
    app.map_connection(
        "/sse-only",
        make_echo_handler(probe),
        options=HttpConnectionOptions(transports=HttpTransportType.ServerSentEvents),
    )
    app.map_connection(
        "/cors",
        make_echo_handler(probe),
        options=HttpConnectionOptions(cors=CorsOptions(allowed_origins=[ALLOWED_ORIGIN])),
    )
    app.map_connection(
        "/cors-any",
        make_echo_handler(probe),
        options=HttpConnectionOptions(cors=CorsOptions(allowed_origins=["*"])),
    )
    return app
