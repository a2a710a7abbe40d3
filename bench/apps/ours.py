"""Our server: one hub with the operations every scenario needs.

``BENCH_KEEP_ALIVE`` (seconds, default 2 rather than the reference's 15) lets
the idle scenario see keep-alive pings within a few seconds' hold. Pings go
out only on connections that sent nothing for that long, so they cost
nothing while a scenario keeps connections busy.
"""

from __future__ import annotations

import os
from typing import Any

from signalr_server.app import SignalR
from signalr_server.hubs import Hub, HubOptions


class BenchHub(Hub):
    """``Echo``, ``Broadcast`` (to the others), ``JoinGroup`` and ``SendToGroup``."""

    def echo(self, value: Any) -> Any:
        return value

    async def broadcast(self, value: Any) -> None:
        await self.clients.others.send("Receive", value)

    async def join_group(self, group: str) -> None:
        await self.groups.add(self.context.connection_id, group)

    async def send_to_group(self, group: str, value: Any) -> None:
        await self.clients.group(group).send("Receive", value)


def create_app() -> SignalR:
    keep_alive = float(os.environ.get("BENCH_KEEP_ALIVE", "2"))
    signalr = SignalR()
    signalr.map_hub(
        "/bench",
        BenchHub,
        options=HubOptions(keep_alive_interval=keep_alive, client_timeout_interval=3600.0),
    )
    return signalr


app = create_app()
