"""Which scenario runs against which target, for the full and the smoke suite.

The full plan keeps the three runs at about thirty minutes on two cores (the
paired echo rounds, ``bench/paired.py``, come after them):
every target gets echo and broadcast; the costlier scenarios (10,000 idle
connections, slow consumer) run on the targets the issue's targets talk about.
The smoke plan only uses our server and the raw ASGI ceiling on hypercorn's
asyncio worker, which CI has, with tiny sizes and durations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["FULL", "SMOKE", "Plan", "Step"]


@dataclass(frozen=True)
class Step:
    scenario: str
    dialect: str
    args: dict[str, Any]
    sources: int = 1
    env: tuple[tuple[str, str], ...] = ()
    fresh: bool = False
    """Runs on a server process of its own: the step measures the server's
    memory growth, which the memory earlier steps freed (but the process kept)
    would otherwise absorb."""


@dataclass(frozen=True)
class Plan:
    name: str
    runs: int
    targets: tuple[str, ...]
    steps: dict[str, tuple[Step, ...]]
    """Steps per target kind; ``target:<name>`` keys add steps for one target."""
    official_check: bool = True

    def steps_for(self, target_name: str, kind: str) -> list[Step]:
        return [*self.steps.get(kind, ()), *self.steps.get(f"target:{target_name}", ())]


def _echo(dialect: str, sizes: list[int], warmup: float, duration: float) -> Step:
    return Step("echo", dialect, {"connections": sizes, "warmup": warmup, "duration": duration})


def _broadcast(dialect: str, sizes: list[int], warmup: float, duration: float) -> Step:
    return Step("broadcast", dialect, {"receivers": sizes, "warmup": warmup, "duration": duration})


def _group(dialect: str, groups: int, size: int, warmup: float, duration: float) -> Step:
    return Step(
        "group",
        dialect,
        {"groups": groups, "group_size": size, "warmup": warmup, "duration": duration},
    )


def _idle(dialect: str, count: int, hold: float) -> Step:
    return Step("idle", dialect, {"connections": count, "hold": hold}, sources=4, fresh=True)


def _slow(dialect: str, receivers: int, duration: float) -> Step:
    return Step("slow", dialect, {"receivers": receivers, "duration": duration}, fresh=True)


ECHO_SIZES = [1, 10, 100]
FANOUT_SIZES = [10, 100, 1000, 5000]
W, D = 0.2, 0.8  # warm-up and measured seconds per point

FULL = Plan(
    name="full",
    runs=3,
    targets=(
        "ours@hypercorn-asyncio",
        "raw@hypercorn-asyncio",
        "ours@hypercorn-uvloop",
        "raw@hypercorn-uvloop",
        "ours@hypercorn-trio",
        "raw@hypercorn-trio",
        "ours@uvicorn-uvloop",
        "raw@uvicorn-uvloop",
        "ours@granian",
        "raw@granian",
        "ours@native-asyncio",
        "raw@native-asyncio",
        "ours@native-uvloop",
        "raw@native-uvloop",
        "socketio@hypercorn-asyncio",
        "socketio@uvicorn-uvloop",
        "socketio@native-uvloop",
        "aiosignalr@aiohttp",
        "node-ws",
    ),
    steps={
        "ours": (
            _echo("signalr-json", ECHO_SIZES, W, D),
            _echo("signalr-msgpack", ECHO_SIZES, W, D),
            _broadcast("signalr-json", FANOUT_SIZES, W, D),
        ),
        "raw": (_echo("raw", ECHO_SIZES, W, D), _broadcast("raw", FANOUT_SIZES, W, D)),
        "socketio": (
            _echo("socketio", ECHO_SIZES, W, D),
            _broadcast("socketio", FANOUT_SIZES, W, D),
            _group("socketio", 100, 10, W, D),
        ),
        "aiosignalr": (
            _echo("signalr-json", ECHO_SIZES, W, D),
            _echo("signalr-msgpack", ECHO_SIZES, W, D),
            _broadcast("signalr-json", FANOUT_SIZES, W, D),
            _group("signalr-json", 100, 10, W, D),
            _idle("signalr-json", 10_000, 4.0),
        ),
        "node": (
            _echo("raw", ECHO_SIZES, W, D),
            _broadcast("raw", FANOUT_SIZES, W, D),
            _group("raw", 100, 10, W, D),
            _idle("raw", 10_000, 4.0),
        ),
        "target:ours@hypercorn-asyncio": (
            _broadcast("signalr-msgpack", FANOUT_SIZES, W, D),
            _group("signalr-json", 100, 10, W, D),
            _group("signalr-msgpack", 100, 10, W, D),
            _idle("signalr-json", 10_000, 4.0),
            _slow("signalr-json", 50, 6.0),
        ),
        "target:raw@hypercorn-asyncio": (
            _group("raw", 100, 10, W, D),
            _idle("raw", 10_000, 4.0),
            _slow("raw", 50, 6.0),
        ),
        "target:ours@granian": (
            _broadcast("signalr-msgpack", FANOUT_SIZES, W, D),
            _group("signalr-json", 100, 10, W, D),
            _idle("signalr-json", 10_000, 4.0),
        ),
        "target:raw@granian": (_group("raw", 100, 10, W, D), _idle("raw", 10_000, 4.0)),
        "target:ours@uvicorn-uvloop": (
            _group("signalr-json", 100, 10, W, D),
            _idle("signalr-json", 10_000, 4.0),
        ),
        "target:raw@uvicorn-uvloop": (_group("raw", 100, 10, W, D), _idle("raw", 10_000, 4.0)),
        "target:socketio@uvicorn-uvloop": (_idle("socketio", 10_000, 4.0),),
        "target:ours@native-uvloop": (
            _broadcast("signalr-msgpack", FANOUT_SIZES, W, D),
            _group("signalr-json", 100, 10, W, D),
            _group("signalr-msgpack", 100, 10, W, D),
            _idle("signalr-json", 10_000, 4.0),
            _idle("signalr-msgpack", 10_000, 4.0),
            _slow("signalr-json", 50, 6.0),
            _slow("signalr-msgpack", 50, 6.0),
        ),
        "target:raw@native-uvloop": (
            _group("raw", 100, 10, W, D),
            _idle("raw", 10_000, 4.0),
            _slow("raw", 50, 6.0),
        ),
    },
)

SMOKE = Plan(
    name="smoke",
    runs=1,
    targets=("ours@hypercorn-asyncio", "raw@hypercorn-asyncio"),
    steps={
        "ours": (
            _echo("signalr-json", [1, 4], 0.05, 0.2),
            _echo("signalr-msgpack", [1, 4], 0.05, 0.2),
            _broadcast("signalr-json", [5], 0.05, 0.2),
            _broadcast("signalr-msgpack", [5], 0.05, 0.2),
            _group("signalr-json", 2, 3, 0.05, 0.2),
            _group("signalr-msgpack", 2, 3, 0.05, 0.2),
            _idle("signalr-json", 20, 0.3),
            _idle("signalr-msgpack", 20, 0.3),
            _slow("signalr-json", 3, 1.5),
            _slow("signalr-msgpack", 3, 1.5),
        ),
        "raw": (
            _echo("raw", [1, 4], 0.05, 0.2),
            _broadcast("raw", [5], 0.05, 0.2),
            _group("raw", 2, 3, 0.05, 0.2),
        ),
    },
    official_check=False,
)
