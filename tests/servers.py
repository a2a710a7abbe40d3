"""Run an ASGI app under a real server in a background thread, for tests.

Usage::

    with run_server(app, server="hypercorn-trio") as base_url:
        httpx.post(f"{base_url}/chat/negotiate?negotiateVersion=1")

``app`` may be an ASGI callable or an import string ``"package.module:attr"``.
The server binds 127.0.0.1 on a free port and is always stopped on exit.
"""

from __future__ import annotations

import asyncio
import importlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["SERVERS", "free_port", "run_server"]

SERVERS = ("hypercorn-asyncio", "hypercorn-trio", "uvicorn", "native")

_STARTUP_TIMEOUT = 15.0
_STOP_TIMEOUT = 15.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _load(app: Any) -> Any:
    if isinstance(app, str):
        module_name, _, attribute = app.partition(":")
        target: Any = importlib.import_module(module_name)
        for part in (attribute or "app").split("."):
            target = getattr(target, part)
        return target
    return app


def _hypercorn_config(port: int) -> Any:
    from hypercorn.config import Config

    from signalr_server.app.reason_phrases import install_hypercorn_reason_phrases

    # Serve as `signalr-server run` does, reason phrases included.
    install_hypercorn_reason_phrases()

    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    config.graceful_timeout = 3.0
    return config


class _ServerThread(threading.Thread):
    """Runs ``serve(stop_requested)`` and remembers any startup failure."""

    def __init__(self, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.error: BaseException | None = None
        self.request_stop: Callable[[], None] = lambda: None

    def run(self) -> None:
        try:
            self.serve()
        except BaseException as exc:
            self.error = exc

    def serve(self) -> None:
        raise NotImplementedError


class _AsyncioServer(_ServerThread):
    """A server whose ``main(stop_wait)`` coroutine runs until ``stop_wait`` returns."""

    def __init__(self, name: str, app: Any, port: int) -> None:
        super().__init__(name)
        self.app, self.port = app, port

    async def main(self, stop_wait: Callable[[], Any]) -> None:
        raise NotImplementedError

    def serve(self) -> None:
        loop = asyncio.new_event_loop()
        stop = asyncio.Event()

        def request_stop() -> None:
            loop.call_soon_threadsafe(stop.set)

        self.request_stop = request_stop
        try:
            loop.run_until_complete(self.main(stop.wait))
        finally:
            loop.close()


class _HypercornAsyncio(_AsyncioServer):
    async def main(self, stop_wait: Callable[[], Any]) -> None:
        from hypercorn.asyncio import serve

        config = _hypercorn_config(self.port)
        await serve(self.app, config, shutdown_trigger=stop_wait, mode="asgi")


class _HypercornTrio(_ServerThread):
    def __init__(self, app: Any, port: int) -> None:
        super().__init__("hypercorn-trio")
        self.app, self.port = app, port

    def serve(self) -> None:
        import trio
        from hypercorn.trio import serve

        async def main() -> None:
            stop = trio.Event()
            token = trio.lowlevel.current_trio_token()
            self.request_stop = lambda: trio.from_thread.run_sync(stop.set, trio_token=token)
            await serve(
                self.app, _hypercorn_config(self.port), shutdown_trigger=stop.wait, mode="asgi"
            )

        trio.run(main)


class _Uvicorn(_ServerThread):
    def __init__(self, app: Any, port: int) -> None:
        super().__init__("uvicorn")
        import uvicorn

        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.request_stop = self._signal_exit

    def _signal_exit(self) -> None:
        self.server.should_exit = True

    def serve(self) -> None:
        self.server.run()


class _Native(_AsyncioServer):
    async def main(self, stop_wait: Callable[[], Any]) -> None:
        from signalr_server.app.native import serve_native

        await serve_native(self.app, port=self.port, shutdown_trigger=stop_wait)


def _wait_until_listening(thread: _ServerThread, port: int) -> None:
    deadline = time.monotonic() + _STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if thread.error is not None or not thread.is_alive():
            raise RuntimeError(f"{thread.name} failed to start") from thread.error
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"{thread.name} did not start listening on port {port}")


@contextmanager
def run_server(app: Any, server: str = "hypercorn-asyncio") -> Iterator[str]:
    """Serve ``app`` and yield its base URL (``http://127.0.0.1:{port}``)."""
    app = _load(app)
    port = free_port()
    thread: _ServerThread
    if server == "hypercorn-asyncio":
        thread = _HypercornAsyncio("hypercorn-asyncio", app, port)
    elif server == "hypercorn-trio":
        thread = _HypercornTrio(app, port)
    elif server == "uvicorn":
        thread = _Uvicorn(app, port)
    elif server == "native":
        thread = _Native("native", app, port)
    else:
        raise ValueError(f"Unknown server {server!r}; choose from {SERVERS}")
    thread.start()
    try:
        _wait_until_listening(thread, port)
        yield f"http://127.0.0.1:{port}"
    finally:
        thread.request_stop()
        thread.join(_STOP_TIMEOUT)
        if thread.is_alive():
            raise RuntimeError(f"{thread.name} did not stop within {_STOP_TIMEOUT} s")
