"""The ``signalr-server`` console script.

``signalr-server demo`` gives a working chat in one command (nothing to
install or configure), and ``signalr-server run module:app`` serves any ASGI
app the same way, so users can try the server before choosing a deployment.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .. import __version__
from ..connections.asgi_types import ASGIApp
from .serve import LOG_LEVELS, SERVERS, WORKER_CLASSES, AppLoadError, ServeConfig, load_app, serve

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="signalr-server",
        description="Serve ASP.NET Core SignalR-compatible hubs from Python.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = commands.add_parser("demo", help="run the demo chat and notifications app")
    _add_serving_options(demo)

    testapp = commands.add_parser(
        "testapp",
        help="run the app the official clients' functional tests expect (docs/testapp.md)",
    )
    _add_serving_options(testapp)

    run = commands.add_parser("run", help="serve an ASGI app given as module:attribute")
    run.add_argument("app", help="the app to serve, e.g. 'myproject.main:app'")
    run.add_argument(
        "--factory",
        action="store_true",
        help="treat the attribute as a zero-argument function returning the app",
    )
    run.add_argument(
        "--app-dir",
        default=".",
        help="directory put first on sys.path before importing (default: current directory)",
    )
    _add_serving_options(run)
    return parser


def _add_serving_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5000, help="port to bind (default 5000)")
    parser.add_argument(
        "--server",
        choices=SERVERS,
        default="hypercorn",
        help="ASGI server (default hypercorn; native: our own, asyncio/uvloop only; "
        "granian needs 'pip install granian')",
    )
    parser.add_argument(
        "--worker-class",
        choices=WORKER_CLASSES,
        default="asyncio",
        help="event loop (default asyncio; trio needs hypercorn; uvloop: pip install uvloop)",
    )
    parser.add_argument("--log-level", choices=LOG_LEVELS, default="info")
    parser.add_argument("--access-log", action="store_true", help="log every HTTP request")
    parser.add_argument(
        "--backlog",
        type=int,
        default=2048,
        help="pending TCP connections the kernel may queue (default 2048)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = ServeConfig(
            host=args.host,
            port=args.port,
            server=args.server,
            worker_class=args.worker_class,
            log_level=args.log_level,
            access_log=args.access_log,
            backlog=args.backlog,
        )
    except ValueError as exc:
        parser.error(str(exc))

    app: ASGIApp
    if args.command == "demo":
        from .demo import create_demo_app

        app = create_demo_app()
        print(
            f"signalr-server demo: open http://{args.host}:{args.port}/ (Ctrl+C to stop)",
            file=sys.stderr,
            flush=True,
        )
    elif args.command == "testapp":
        from .testapp import create_test_app

        app = create_test_app()
        print(
            f"signalr-server testapp: serving http://{args.host}:{args.port}/testhub "
            "(Ctrl+C to stop)",
            file=sys.stderr,
            flush=True,
        )
    else:
        try:
            app = load_app(args.app, factory=args.factory, app_dir=args.app_dir)
        except AppLoadError as exc:
            print(f"signalr-server: error: {exc}", file=sys.stderr)
            return 2
    serve(app, config)
    return 0


if __name__ == "__main__":
    sys.exit(main())
