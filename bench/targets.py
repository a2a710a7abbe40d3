"""The servers a run starts: ours on each supported ASGI server, the raw ASGI
ceiling on the same servers, and the peers. Each target knows how to start
itself, which dialects it speaks and which scenarios apply to it.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["TARGETS", "RunningServer", "Target", "available"]

ROOT = Path(__file__).resolve().parent.parent
SERVER_CPU = "0"
GENERATOR_CPU = "1"

#: (label, --server, --worker-class, python modules it needs)
SERVER_VARIANTS: list[tuple[str, str, str, tuple[str, ...]]] = [
    ("hypercorn-asyncio", "hypercorn", "asyncio", ()),
    ("hypercorn-uvloop", "hypercorn", "uvloop", ("uvloop",)),
    ("hypercorn-trio", "hypercorn", "trio", ()),
    ("uvicorn-uvloop", "uvicorn", "uvloop", ("uvloop",)),
    ("granian", "granian", "uvloop", ("granian", "uvloop")),
    ("native-asyncio", "native", "asyncio", ()),
    ("native-uvloop", "native", "uvloop", ("uvloop",)),
]


@dataclass(frozen=True)
class Target:
    name: str
    kind: str
    """``ours``, ``raw``, ``socketio``, ``aiosignalr`` or ``node``."""
    server: str
    """The ASGI server label (or the peer's own server)."""
    command: tuple[str, ...]
    dialects: tuple[str, ...]
    needs: tuple[str, ...] = ()
    needs_node: bool = False
    env: dict[str, str] = field(default_factory=dict)

    def argv(self, port: int) -> list[str]:
        return [part.replace("{port}", str(port)) for part in self.command]


def _cli(app: str, server: str, worker: str) -> tuple[str, ...]:
    return (
        sys.executable, "-m", "signalr_server.app.cli", "run", app,
        "--server", server, "--worker-class", worker, "--port", "{port}",
        "--log-level", "error",
    )  # fmt: skip


def _all_targets() -> list[Target]:
    targets: list[Target] = []
    for label, server, worker, needs in SERVER_VARIANTS:
        targets.append(
            Target(
                f"ours@{label}", "ours", label, _cli("bench.apps.ours:app", server, worker),
                ("signalr-json", "signalr-msgpack"), needs,
            )
        )  # fmt: skip
        targets.append(
            Target(
                f"raw@{label}", "raw", label, _cli("bench.apps.raw_asgi:app", server, worker),
                ("raw",), needs,
            )
        )  # fmt: skip
    for label, server, worker, needs in SERVER_VARIANTS:
        if label in ("hypercorn-asyncio", "uvicorn-uvloop", "native-uvloop"):
            targets.append(
                Target(
                    f"socketio@{label}", "socketio", label,
                    _cli("bench.apps.socketio_app:app", server, worker),
                    ("socketio",), (*needs, "socketio"),
                )
            )  # fmt: skip
    targets.append(
        Target(
            "aiosignalr@aiohttp", "aiosignalr", "aiohttp",
            (sys.executable, "-m", "bench.apps.aiosignalr_app", "{port}"),
            ("signalr-json", "signalr-msgpack"), ("aiosignalr",),
        )
    )  # fmt: skip
    targets.append(
        Target(
            "node-ws", "node", "node",
            ("node", str(ROOT / "bench" / "node" / "ws_server.mjs"), "{port}"),
            ("raw",), needs_node=True,
        )
    )  # fmt: skip
    return targets


TARGETS = {t.name: t for t in _all_targets()}


def available(target: Target) -> str | None:
    """``None`` when the target can run here, else why not."""
    for module in target.needs:
        if importlib.util.find_spec(module) is None:
            return f"needs the Python package {module!r} (pip install -e '.[bench]')"
    if target.needs_node and (
        shutil.which("node") is None or not (ROOT / "interop" / "node_modules" / "ws").is_dir()
    ):
        return "needs Node and interop/node_modules (npm ci in interop/)"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def taskset(cpu: str) -> list[str]:
    """Pin to one core when ``taskset`` exists and the machine has two or more."""
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        return ["taskset", "-c", cpu]
    return []


class RunningServer:
    """A started target: its port and process, stopped on ``stop()`` or exit."""

    def __init__(
        self,
        target: Target,
        env_extra: dict[str, str] | None = None,
        *,
        prefix: list[str] | None = None,
        ready_timeout: float = 20.0,
    ) -> None:
        """``prefix`` goes before the target's command (after ``taskset``): a
        tool that runs it, such as valgrind (``bench/instructions.py``)."""
        self.target = target
        self.port = free_port()
        env = {**os.environ, **target.env, **(env_extra or {})}
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        # A file, not a pipe: a chatty server must never block on a full pipe.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [*taskset(SERVER_CPU), *(prefix or []), *target.argv(self.port)],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=self.log,
            start_new_session=True,
        )
        self._wait_ready(ready_timeout)

    @property
    def pid(self) -> int:
        return self.process.pid

    def _wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                err = self.log.read().decode(errors="replace")
                self.log.close()
                raise RuntimeError(f"{self.target.name} exited at startup: {err[-800:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    time.sleep(0.2)
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.target.name} did not listen within {timeout} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(8)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.log.close()

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
