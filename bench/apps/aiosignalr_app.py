"""aiosignalr 0.1.1 (the only other Python SignalR server) on its own aiohttp frontend.

Run as ``python -m bench.apps.aiosignalr_app PORT``. The hub mirrors
``bench.apps.ours.BenchHub``. The official JavaScript client cannot use this
server's WebSocket transport unmodified, so it is measured with our raw
generator only (which speaks the wire protocol directly, skipping negotiate).
"""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import Any

from aiosignalr.server import Hub, ServerOptions, SignalRServer


class BenchHub(Hub):
    async def Echo(self, value: Any) -> Any:
        return value

    async def Broadcast(self, value: Any) -> None:
        await self.clients.others.send("Receive", value)

    async def JoinGroup(self, group: str) -> None:
        await self.groups.add(group)

    async def SendToGroup(self, group: str, value: Any) -> None:
        await self.clients.group(group).send("Receive", value)


async def main(port: int) -> None:
    options = ServerOptions(keep_alive_interval=2.0, client_timeout_interval=3600.0)
    server = SignalRServer(BenchHub, options=options)
    await server.serve("127.0.0.1", port, path="/bench")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
