"""Serving an app on the native server from Python (see docs/running.md).

``python -m docs.examples.native_server`` serves the chat quickstart on port
5000 until Ctrl+C; ``signalr-server run docs.examples.chat:app --server native``
does the same from the command line.
"""

from __future__ import annotations

import asyncio
import signal

from signalr_server.app.native import NativeLimits, serve_native

from .chat import app


async def main(port: int = 5000, stop: asyncio.Event | None = None) -> None:
    if stop is None:  # run as a program: stop on Ctrl+C or SIGTERM
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await serve_native(
        app,
        host="127.0.0.1",
        port=port,
        limits=NativeLimits(keep_alive_timeout=30, websocket_max_message=1024 * 1024),
        shutdown_trigger=stop.wait,
    )


if __name__ == "__main__":
    asyncio.run(main())
