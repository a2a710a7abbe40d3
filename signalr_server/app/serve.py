"""Running an ASGI app under a real server, from Python or from the CLI.

The CLI and the test helpers both need "serve this app on host:port until
SIGINT/SIGTERM, then shut down gracefully" for hypercorn (asyncio, uvloop or
trio worker), uvicorn and granian. Keeping it here means the CLI is only argument
parsing, and the choice of server is one keyword.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal, cast

from ..connections.asgi_types import ASGIApp
from .reason_phrases import install_hypercorn_reason_phrases

__all__ = [
    "SERVERS",
    "WORKER_CLASSES",
    "ASGIApp",
    "AppLoadError",
    "ServeConfig",
    "load_app",
    "serve",
]

ServerName = Literal["hypercorn", "uvicorn", "granian", "native"]
WorkerClass = Literal["asyncio", "trio", "uvloop"]
SERVERS: tuple[ServerName, ...] = ("hypercorn", "uvicorn", "granian", "native")
WORKER_CLASSES: tuple[WorkerClass, ...] = ("asyncio", "trio", "uvloop")
LOG_LEVELS: tuple[str, ...] = ("critical", "error", "warning", "info", "debug")

_SHUTDOWN_SIGNALS = (signal.SIGINT, signal.SIGTERM)

logger = logging.getLogger("signalr_server.app.serve")


class AppLoadError(Exception):
    """The ``module:attribute`` string did not lead to an ASGI app."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ServeConfig:
    """Everything that decides how an app is served; defaults match the CLI."""

    host: str = "127.0.0.1"
    port: int = 5000
    server: ServerName = "hypercorn"
    worker_class: WorkerClass = "asyncio"
    log_level: str = "info"
    access_log: bool = False
    backlog: int = 2048
    """Pending TCP connections the kernel may queue (``listen`` backlog).

    uvicorn's default, also given to hypercorn (whose own default is 100) and
    granian: a burst of clients reconnecting at once, as after a deploy,
    otherwise overflows the queue, and the dropped SYNs come back only after
    the kernel's retransmit back-off of 1, 3, 7 … seconds. Linux caps it at
    ``net.core.somaxconn``."""

    def __post_init__(self) -> None:
        if self.server not in SERVERS:
            raise ValueError(f"Unknown server {self.server!r}; choose one of {', '.join(SERVERS)}.")
        if self.worker_class not in WORKER_CLASSES:
            raise ValueError(
                f"Unknown worker class {self.worker_class!r}; "
                f"choose one of {', '.join(WORKER_CLASSES)}."
            )
        if self.server != "hypercorn" and self.worker_class == "trio":
            raise ValueError(f"{self.server} cannot run on trio; use --server hypercorn for trio.")
        if self.log_level.lower() not in LOG_LEVELS:
            raise ValueError(
                f"Unknown log level {self.log_level!r}; choose one of {', '.join(LOG_LEVELS)}."
            )
        if not 0 <= self.port <= 65535:
            raise ValueError(f"Port {self.port} is out of range.")
        if self.backlog < 1:
            raise ValueError(f"The backlog must be at least 1, not {self.backlog}.")


def load_app(target: str, *, factory: bool = False, app_dir: str | None = ".") -> ASGIApp:
    """Import ``package.module:attribute`` (the attribute may be dotted).

    ``app_dir`` goes first on ``sys.path`` so that ``signalr-server run
    server.app:app`` finds modules next to where it was started, as uvicorn
    and hypercorn do. With ``factory`` the attribute is called with no
    arguments and its result is served.
    """
    module_name, sep, attribute = target.partition(":")
    if not sep or not module_name or not attribute:
        raise AppLoadError(f"Expected 'module:attribute', got {target!r}.")
    if app_dir is not None:
        resolved = str(Path(app_dir).resolve())
        if resolved not in sys.path:
            sys.path.insert(0, resolved)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            raise AppLoadError(f"Could not import module {module_name!r}.") from exc
        raise
    obj: Any = module
    for part in attribute.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise AppLoadError(f"Module {module_name!r} has no attribute {attribute!r}.") from None
    if factory:
        obj = obj()
    if not callable(obj):
        raise AppLoadError(f"{target!r} is not an ASGI application (not callable).")
    return cast(ASGIApp, obj)


def serve(app: ASGIApp, config: ServeConfig | None = None) -> None:
    """Serve ``app`` until SIGINT or SIGTERM, then shut down gracefully.

    Blocks the calling thread. A second signal during shutdown falls back to
    the default behaviour (immediate interrupt), so a stuck shutdown can
    always be broken.
    """
    config = config or ServeConfig()
    _configure_logging(config.log_level)
    if config.server == "uvicorn":
        _serve_uvicorn(app, config)
    elif config.server == "granian":
        _serve_granian(app, config)
    elif config.server == "native":
        _serve_native(app, config)
    else:
        _serve_hypercorn(app, config)


def _configure_logging(level: str) -> None:
    numeric = logging.getLevelName(level.upper())
    logging.basicConfig(level=numeric, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("signalr_server").setLevel(numeric)


def _hypercorn_config(config: ServeConfig) -> Any:
    from hypercorn.config import Config

    hyper = Config()
    host = f"[{config.host}]" if ":" in config.host else config.host
    hyper.bind = [f"{host}:{config.port}"]
    hyper.loglevel = config.log_level.upper()
    # Hand hypercorn plain loggers: they propagate to the handler that
    # _configure_logging installs, so each line is printed once, in one format.
    hyper.accesslog = logging.getLogger("hypercorn.access") if config.access_log else None
    hyper.errorlog = logging.getLogger("hypercorn.error")
    # Keep shutdown short: SignalR connections are closed by the app's
    # lifespan shutdown, and clients reconnect on their own.
    hyper.graceful_timeout = 3.0
    hyper.backlog = config.backlog
    return hyper


def _serve_hypercorn(app: ASGIApp, config: ServeConfig) -> None:
    install_hypercorn_reason_phrases()
    hyper = _hypercorn_config(config)
    # hypercorn's own ASGI types are TypedDicts; any conforming app works.
    framework: Any = app
    if config.worker_class == "trio":
        import trio
        from hypercorn.trio import serve as trio_serve

        trio.run(
            partial(
                trio_serve,
                framework,
                hyper,
                shutdown_trigger=_closing_connections(_wait_for_signal_trio, app),
            )
        )
        return

    from hypercorn.asyncio import serve as asyncio_serve

    loop_factory = _uvloop_factory() if config.worker_class == "uvloop" else None
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(
            asyncio_serve(
                framework,
                hyper,
                shutdown_trigger=_closing_connections(_wait_for_signal_asyncio, app),
            )
        )


def _uvloop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    try:
        import uvloop  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        raise SystemExit(
            "The uvloop worker class needs the 'uvloop' package (pip install uvloop)."
        ) from None
    return cast(Callable[[], asyncio.AbstractEventLoop], uvloop.new_event_loop)


def _closing_connections(wait_for_signal: Callable[[], Any], app: Any) -> Callable[[], Any]:
    """A shutdown trigger that, after the signal, ends the app's SignalR
    connections cleanly before the server starts its graceful wait."""

    async def trigger() -> None:
        await wait_for_signal()
        close = getattr(app, "close_connections", None)
        if close is not None:
            try:
                await close()
            except Exception:
                logger.exception("Closing connections at shutdown failed")

    return trigger


async def _wait_for_signal_asyncio() -> None:
    """Return on the first SIGINT/SIGTERM; later ones get default handling."""
    loop = asyncio.get_running_loop()
    received = asyncio.Event()
    installed: list[signal.Signals] = []
    for sig in _SHUTDOWN_SIGNALS:
        try:
            loop.add_signal_handler(sig, received.set)
            installed.append(sig)
        except (NotImplementedError, RuntimeError):  # not the main thread / platform
            pass
    try:
        await received.wait()
        logger.info("Shutdown signal received; closing connections")
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


async def _wait_for_signal_trio() -> None:
    """Trio flavour of ``_wait_for_signal_asyncio``."""
    import trio

    with trio.open_signal_receiver(*_SHUTDOWN_SIGNALS) as signals:
        async for _ in signals:
            logger.info("Shutdown signal received; closing connections")
            return


def _serve_uvicorn(app: ASGIApp, config: ServeConfig) -> None:
    try:
        import uvicorn
    except ImportError:
        raise SystemExit("The uvicorn server needs the 'uvicorn' package.") from None
    # uvicorn installs its own SIGINT/SIGTERM handlers, shuts down gracefully,
    # then restores the previous handlers and re-raises the signal. Ours turn
    # that re-raise into a normal return, so the CLI exits 0 as with hypercorn.
    uv_config = uvicorn.Config(
        app,
        host=config.host,
        port=config.port,
        loop="uvloop" if config.worker_class == "uvloop" else "asyncio",
        log_level=config.log_level.lower(),
        access_log=config.access_log,
        lifespan="auto",
        timeout_graceful_shutdown=3,
        backlog=config.backlog,
    )
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = {sig: signal.getsignal(sig) for sig in _SHUTDOWN_SIGNALS} if in_main_thread else {}
    for sig in previous:
        signal.signal(sig, _raise_shutdown)
    try:
        uvicorn.Server(uv_config).run()
    except _ShutdownRequested:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _serve_granian(app: ASGIApp, config: ServeConfig) -> None:
    """Serve with granian's embedded server: one Rust HTTP/WebSocket worker
    driving our app on this process's event loop (asyncio or uvloop).

    The embedded mode takes the app object itself, so ``run`` and ``demo``
    behave the same as under hypercorn; granian's own CLI would re-import the
    app from a string in a worker process instead.
    """
    try:
        from granian.constants import Interfaces
        from granian.server.embed import Server as GranianServer
    except ImportError:
        raise SystemExit(
            "The granian server needs the 'granian' package (pip install granian)."
        ) from None
    # granian logs a warning that its embedded mode is experimental; keep our
    # log level in charge of its logger rather than granian's defaults.
    logging.getLogger("_granian").setLevel(logging.getLevelName(config.log_level.upper()))
    server = GranianServer(
        app,
        address=config.host,
        port=config.port,
        interface=Interfaces.ASGI,
        websockets=True,
        log_access=config.access_log,
        backlog=config.backlog,
    )

    async def main() -> None:
        stop_task = asyncio.ensure_future(_stop_granian_on_signal(server))
        try:
            await server.serve()
        finally:
            stop_task.cancel()

    loop_factory = _uvloop_factory() if config.worker_class == "uvloop" else None
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(main())


async def _stop_granian_on_signal(server: Any) -> None:
    await _wait_for_signal_asyncio()
    server.stop()


def _serve_native(app: ASGIApp, config: ServeConfig) -> None:
    """Serve with our own HTTP/1.1 + WebSocket server (``app.native``)."""
    from .native import serve_native

    loop_factory = _uvloop_factory() if config.worker_class == "uvloop" else None
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(
            serve_native(
                app,
                host=config.host,
                port=config.port,
                backlog=config.backlog,
                shutdown_trigger=_closing_connections(_wait_for_signal_asyncio, app),
            )
        )


class _ShutdownRequested(Exception):
    """Raised by our handler when uvicorn re-raises the signal it shut down for."""


def _raise_shutdown(signum: int, frame: object) -> None:
    raise _ShutdownRequested(signum)
