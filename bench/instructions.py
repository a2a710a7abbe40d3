"""Instructions per echo, counted in the real server: ``python -m bench instructions``.

Throughput on this shared machine moves by tens of percent from one window to
the next, and not alike for a syscall-bound raw echo and Python-bound SignalR
code, so an echo ratio near a target line needs many paired rounds to mean
anything. This counts instead. The server runs under valgrind's callgrind
(about fifty times slower, pinned to the server core as in the suite); the
generator opens the connections, runs a warm-up round, has the counters
zeroed (``callgrind_control -z``), runs exactly ``--echoes`` round trips on
every connection, closed loop as in the suite, and has them dumped
(``callgrind_control -d``). The dump's total divided by the echoes is what
the whole server process executed per echo: the ASGI server, the event loop
and the app together, and nothing else (no startup, no warm-up). The same
count for the raw ASGI app on the same server and worker gives ``raw ÷ ours``
in instructions, which moves by well under one percent between runs.

It is the user-space work only: system calls, the kernel's TCP work and cache
misses are not in it, and an instruction of a C loop in the server is cheaper
than one of the interpreter, so the time ratio the suite measures comes out
somewhat lower (docs/benchmarks.md compares the two). Needs ``valgrind``
(Debian's package); a server starts in about ten seconds under it.

    python -m bench instructions                       # uvicorn-uvloop, JSON, 30 echoes x 100
    python -m bench instructions --server hypercorn-asyncio --dialect signalr-msgpack
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .dialects import ECHO_MARK, dialect
from .loadgen import Pool
from .targets import SERVER_VARIANTS, TARGETS, RunningServer, available
from .wsclient import WsClient

__all__ = ["count_echo_instructions", "main"]


def _callgrind_control(*args: str) -> None:
    subprocess.run(["callgrind_control", *args], check=True, capture_output=True, timeout=120)


async def _echo_rounds(pool: Pool, echoes: int) -> None:
    """Every connection makes ``echoes`` round trips; returns once all have."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    left = dict.fromkeys(pool.clients, echoes)
    busy = [len(pool.clients)]
    frame = pool.spec.echo

    def on_message(client: WsClient, payload: bytes) -> None:
        if ECHO_MARK not in payload:
            return
        left[client] -= 1
        if left[client] > 0:
            client.write(frame)
            return
        busy[0] -= 1
        if not busy[0] and not done.done():
            done.set_result(None)

    for client in pool.clients:
        pool.listen_pings(client, on_message)
        client.write(frame)
    await done


async def _measure(port: int, pid: int, dialect_name: str, connections: int, echoes: int) -> None:
    pool = Pool("127.0.0.1", port, dialect(dialect_name))
    try:
        await pool.grow(connections, concurrency=20)
        await _echo_rounds(pool, 5)  # warm-up: every code path taken at least once
        _callgrind_control("-z", str(pid))
        await _echo_rounds(pool, echoes)
        _callgrind_control("-d", "measured", str(pid))
    finally:
        pool.close()


def _summary(dump: Path) -> int:
    for line in dump.read_text(errors="replace").splitlines():
        if line.startswith("summary:"):
            return int(line.split()[1])
    raise RuntimeError(f"no summary line in {dump}")


def count_echo_instructions(
    target_name: str, dialect_name: str, *, connections: int = 100, echoes: int = 30
) -> float:
    """Instructions the server process executed per echo (see the module docstring)."""
    target = TARGETS[target_name]
    with tempfile.TemporaryDirectory(prefix="bench-callgrind-") as directory:
        prefix = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={directory}/cg.%p",
        ]
        with RunningServer(target, prefix=prefix, ready_timeout=120.0) as server:
            asyncio.run(_measure(server.port, server.pid, dialect_name, connections, echoes))
            dumps = sorted(Path(directory).glob("cg.*.1"))
            if not dumps:
                raise RuntimeError("callgrind wrote no dump")
            total = _summary(dumps[0])
    return total / (connections * echoes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench instructions", description=__doc__.split("\n\n")[0]
    )
    labels = [label for label, *_ in SERVER_VARIANTS]
    parser.add_argument("--server", choices=labels, default="uvicorn-uvloop")
    parser.add_argument(
        "--dialect", choices=["signalr-json", "signalr-msgpack"], default="signalr-json"
    )
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--echoes", type=int, default=30, help="round trips per connection")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("needs valgrind (apt-get install valgrind)", file=sys.stderr)
        return 2
    if args.connections < 1 or args.echoes < 1:
        parser.error("--connections and --echoes must be at least 1")
    rows = []
    for kind, dialect_name in (("raw", "raw"), ("ours", args.dialect)):
        name = f"{kind}@{args.server}"
        reason = available(TARGETS[name])
        if reason is not None:
            print(f"{name}: not run, {reason}", file=sys.stderr)
            return 2
        count = count_echo_instructions(
            name, dialect_name, connections=args.connections, echoes=args.echoes
        )
        rows.append((name, dialect_name, count))
    raw, ours = rows[0][2], rows[1][2]
    print(
        f"Server instructions per echo ({args.connections} connections x {args.echoes} "
        "echoes, callgrind, whole process)"
    )
    print("| target | dialect | instructions/echo |")
    print("|---|---|---|")
    for name, dialect_name, count in rows:
        print(f"| {name} | {dialect_name} | {count:,.0f} |")
    print(f"raw ÷ ours in instructions: {raw / ours:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
