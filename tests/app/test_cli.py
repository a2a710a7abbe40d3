"""The ``signalr-server`` command: argument handling, app loading, and real
servers started and stopped by signal (graceful shutdown runs the lifespan)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from signalr_server import __version__
from signalr_server.app.cli import build_parser, main
from signalr_server.app.serve import AppLoadError, ServeConfig, load_app
from tests.app import sample_app

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def cli_process(*args: str, cwd: Path = REPO_ROOT) -> Iterator[subprocess.Popen[str]]:
    """Runs the CLI as a child process; always ends it."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "signalr_server.app.cli", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        assert process.stdout is not None
        process.stdout.close()


def wait_until_serving(process: subprocess.Popen[str], url: str) -> httpx.Response:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            assert process.stdout is not None
            pytest.fail(f"server exited early:\n{process.stdout.read()}")
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail(f"{url} never answered")


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"signalr-server {__version__}"


def test_a_command_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2
    assert "COMMAND" in capsys.readouterr().err


def test_run_defaults() -> None:
    args = build_parser().parse_args(["run", "pkg.mod:app"])
    assert (args.app, args.host, args.port) == ("pkg.mod:app", "127.0.0.1", 5000)
    assert (args.server, args.worker_class, args.log_level) == ("hypercorn", "asyncio", "info")
    assert args.factory is False


def test_run_options() -> None:
    args = build_parser().parse_args(
        [
            "run",
            "m:a",
            "--host",
            "0.0.0.0",
            "--port",
            "8001",
            "--server",
            "uvicorn",
            "--worker-class",
            "uvloop",
            "--log-level",
            "debug",
            "--factory",
        ]
    )
    assert (args.host, args.port, args.server, args.worker_class) == (
        "0.0.0.0",
        8001,
        "uvicorn",
        "uvloop",
    )
    assert args.log_level == "debug"
    assert args.factory is True


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "m:a", "--server", "gunicorn"],
        ["run", "m:a", "--worker-class", "gevent"],
        ["run", "m:a", "--port", "eighty"],
        ["demo", "--log-level", "loud"],
    ],
)
def test_invalid_choices_are_rejected(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(argv)
    assert exit_info.value.code == 2


@pytest.mark.parametrize("server", ["uvicorn", "granian", "native"])
def test_trio_needs_hypercorn(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "tests.app.sample_app:app", "--server", server, "--worker-class", "trio"])
    assert exit_info.value.code == 2
    assert f"{server} cannot run on trio" in capsys.readouterr().err


def test_backlog_option_and_its_checks() -> None:
    assert build_parser().parse_args(["run", "m:a"]).backlog == 2048
    assert build_parser().parse_args(["run", "m:a", "--backlog", "512"]).backlog == 512
    with pytest.raises(ValueError, match="at least 1"):
        ServeConfig(backlog=0)


def _listen_backlog(port: int) -> int | None:
    """The backlog of the socket listening on ``port`` (``ss`` shows it as Send-Q)."""
    listing = subprocess.run(
        ["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout.split()
    return int(listing[2]) if listing else None


@pytest.mark.parametrize(
    ("server", "worker"),
    [
        ("hypercorn", "asyncio"),
        ("hypercorn", "trio"),
        ("uvicorn", "asyncio"),
        ("native", "asyncio"),
    ],
)
def test_every_server_listens_with_the_configured_backlog(server: str, worker: str) -> None:
    # hypercorn's own default is 100: a reconnect storm would overflow it.
    port = free_port()
    args = ["run", "tests.app.sample_app:app", "--port", str(port), "--backlog", "321"]
    with cli_process(*args, "--server", server, "--worker-class", worker) as process:
        wait_until_serving(process, f"http://127.0.0.1:{port}/hello")
        assert _listen_backlog(port) == 321


@pytest.mark.parametrize("port", [-1, 70000])
def test_serve_config_checks_the_port(port: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        ServeConfig(port=port)


def test_load_app_finds_the_attribute() -> None:
    assert load_app("tests.app.sample_app:app") is sample_app.app


def test_load_app_calls_a_factory() -> None:
    assert load_app("tests.app.sample_app:create_app", factory=True) is sample_app.app


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("tests.app.sample_app", "Expected 'module:attribute'"),
        (":app", "Expected 'module:attribute'"),
        ("tests.app.no_such_module:app", "Could not import module 'tests.app.no_such_module'"),
        ("tests.app.sample_app:missing", "has no attribute 'missing'"),
        ("tests.app.sample_app:not_an_app", "not an ASGI application"),
    ],
)
def test_load_app_errors(target: str, message: str) -> None:
    with pytest.raises(AppLoadError, match=message):
        load_app(target)


def test_load_app_puts_app_dir_on_the_path(tmp_path: Path) -> None:
    (tmp_path / "cli_dir_probe_app.py").write_text("def app(scope, receive, send): pass\n")
    try:
        loaded = load_app("cli_dir_probe_app:app", app_dir=str(tmp_path))
        assert loaded.__module__ == "cli_dir_probe_app"
    finally:
        sys.path.remove(str(tmp_path.resolve()))
        sys.modules.pop("cli_dir_probe_app", None)


def test_run_reports_an_unknown_module(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "tests.app.no_such_module:app"]) == 2
    assert "Could not import module" in capsys.readouterr().err


@pytest.mark.parametrize(
    "options",
    [
        ["--server", "hypercorn", "--worker-class", "asyncio"],
        ["--server", "hypercorn", "--worker-class", "trio"],
        ["--server", "uvicorn"],
        ["--server", "native"],
    ],
    ids=["hypercorn-asyncio", "hypercorn-trio", "uvicorn", "native"],
)
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_run_serves_until_a_signal_then_shuts_down_gracefully(
    options: list[str], stop_signal: signal.Signals
) -> None:
    port = free_port()
    with cli_process("run", "tests.app.sample_app:app", "--port", str(port), *options) as process:
        response = wait_until_serving(process, f"http://127.0.0.1:{port}/hello")
        assert response.status_code == 200
        assert response.text == "sample-app GET /hello"
        process.send_signal(stop_signal)
        assert process.wait(timeout=15) == 0
        assert process.stdout is not None
        assert "sample-app: lifespan shutdown" in process.stdout.read()


def test_uvloop_worker_without_uvloop_explains_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # makes ``import uvloop`` fail
    with pytest.raises(SystemExit, match="needs the 'uvloop' package"):
        main(["run", "tests.app.sample_app:app", "--worker-class", "uvloop", "--port", "1"])


@pytest.mark.parametrize(
    "options",
    [["--worker-class", "asyncio"], ["--worker-class", "trio"], ["--server", "native"]],
    ids=["hypercorn-asyncio", "hypercorn-trio", "native"],
)
def test_shutdown_closes_open_websockets_cleanly(options: list[str]) -> None:
    """On SIGTERM the hub connections end with a clean close (1000) and no Close
    message, so clients with automatic reconnect move to the next server."""
    from websockets.exceptions import ConnectionClosedOK
    from websockets.sync.client import connect

    port = free_port()
    with cli_process("demo", "--port", str(port), *options) as process:
        wait_until_serving(process, f"http://127.0.0.1:{port}/")
        with connect(f"ws://127.0.0.1:{port}/hubs/chat") as websocket:
            websocket.send('{"protocol":"json","version":1}\x1e')
            assert websocket.recv(timeout=5) == "{}\x1e"
            process.send_signal(signal.SIGTERM)
            frames = []
            with pytest.raises(ConnectionClosedOK):
                while True:
                    frames.append(websocket.recv(timeout=5))
            assert websocket.close_code == 1000
        assert all('"type":7' not in frame for frame in frames)
        assert process.wait(timeout=15) == 0
        assert process.stdout is not None
        assert "Traceback" not in process.stdout.read()
