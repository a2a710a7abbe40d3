"""Raw connection handlers and app factories shared by the connection tests.

Handlers run on the server's loop thread; they report to the test thread
through ``queue.Queue`` objects, which are thread-safe.
"""

from __future__ import annotations

import queue

from signalr_server.app import SignalR
from signalr_server.connections import ConnectionClosed, ConnectionContext, HttpConnectionOptions
from signalr_server.protocol.messages import TransferFormat

SMALL_BUFFER = 1024


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
            while True:
                data = await ctx.receive()
                if data == b"burst":
                    # No await in between: the writer finds all three queued.
                    ctx.send_nowait(b"a\x1e")
                    ctx.send_nowait(b"b\x1e")
                    ctx.send_nowait(b"c\x1e")
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
        "/expiring",
        make_echo_handler(probe),
        options=HttpConnectionOptions(disconnect_timeout=0.2),
    )
    return app
