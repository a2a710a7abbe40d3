"""The app of docs/streaming.md: streams both ways, client results, stateful reconnect.

Run it with ``signalr-server run docs.examples.streaming:app --port 5000``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio

from signalr_server.app import SignalR
from signalr_server.connections.options import HttpConnectionOptions
from signalr_server.hubs import Hub, HubOptions


class SensorHub(Hub):
    async def readings(self, count: int, delay: float) -> AsyncIterator[float]:
        """Server-to-client: each ``yield`` is one StreamItem."""
        try:
            for index in range(count):
                yield index * 0.5
                await anyio.sleep(delay)
        finally:
            # Runs when the stream ends, is cancelled, or the client leaves.
            print("readings stream closed")

    async def average(self, values: AsyncIterator[float]) -> float:
        """Client-to-server: ``values`` is the client's upload stream."""
        total, count = 0.0, 0
        async for value in values:
            total += value
            count += 1
        return total / count if count else 0.0

    async def confirm(self, question: str) -> bool:
        """Asks the calling client and waits for its handler's return value."""
        answer: bool = await self.clients.caller.invoke(
            "Confirm", question, timeout=30, result_type=bool
        )
        return answer


app = SignalR()
app.map_hub(
    "/hubs/sensors",
    SensorHub,
    # Client results inside hub methods need more than one slot per client.
    options=HubOptions(maximum_parallel_invocations_per_client=2),
    # Let clients that ask for it resume a dropped WebSocket (stateful reconnect).
    connection_options=HttpConnectionOptions(allow_stateful_reconnects=True),
)
sensors = app.hub_context(SensorHub)


async def ask_everyone_ready(connection_id: str) -> bool:
    """Client results from outside a hub: a route or a background task."""
    ready: bool = await sensors.clients.client(connection_id).invoke(
        "Confirm", "Ready?", timeout=10
    )
    return ready
