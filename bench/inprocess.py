"""Our own cost, without a network or an ASGI server: echo CPU and idle memory.

``python -m bench.inprocess echo [CONNECTIONS] [ECHOES]`` drives
``bench.apps.ours`` through a fake ASGI WebSocket server (one ``asyncio.Queue``
per connection, a ``send`` that never waits) in a closed loop and prints the
CPU time per invocation round trip. No sockets and no other process are
involved, so the figure moves only with our own code; under ``valgrind
--tool=callgrind`` it becomes an instruction count, which does not move with
the machine's load at all (see ``docs/benchmarks.md``).

``python -m bench.inprocess idle [CONNECTIONS]`` opens that many hub
connections (handshake done, then idle) and prints the memory they hold per
connection by ``tracemalloc``, with the fake server's queue shown apart, and a
census of the objects by type.

Both complement the suite (``python -m bench``), which measures real servers
end to end; this isolates what our code adds to them.
"""

from __future__ import annotations

import asyncio
import collections
import gc
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from bench.apps.ours import create_app

Message = MutableMapping[str, Any]

_INVOCATION = (
    '{"type":1,"invocationId":"1","target":"Echo","arguments":["xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"]}'
    "\x1e"
)
_HANDSHAKE = '{"protocol":"json","version":1}\x1e'
_SCOPE: dict[str, Any] = {
    "type": "websocket",
    "path": "/bench",
    "raw_path": b"/bench",
    "query_string": b"",
    "headers": [(b"host", b"bench")],
    "asgi": {"version": "3.0"},
    "scheme": "ws",
    "root_path": "",
    "client": ("127.0.0.1", 1),
    "server": ("127.0.0.1", 2),
    "subprotocols": [],
}


async def _start(app: Any) -> None:
    """Run the app's lifespan startup (its task keeps the lifespan open)."""
    queue: asyncio.Queue[Message] = asyncio.Queue()
    queue.put_nowait({"type": "lifespan.startup"})
    started = asyncio.Event()

    async def send(message: Message) -> None:
        if message["type"] == "lifespan.startup.complete":
            started.set()

    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    asyncio.get_running_loop().create_task(app(scope, queue.get, send))
    await started.wait()


def _open(
    app: Any, send: Callable[[asyncio.Queue[Message], Message], Awaitable[None]]
) -> asyncio.Queue[Message]:
    """One WebSocket connection: connect, then the handshake request."""
    queue: asyncio.Queue[Message] = asyncio.Queue()
    queue.put_nowait({"type": "websocket.connect"})
    queue.put_nowait({"type": "websocket.receive", "text": _HANDSHAKE})

    async def bound_send(message: Message) -> None:
        await send(queue, message)

    asyncio.get_running_loop().create_task(app(dict(_SCOPE), queue.get, bound_send))
    return queue


async def echo(connections: int, echoes: int) -> float:
    """CPU seconds per echo, measured after the first fifth (warm-up)."""
    app = create_app()
    await _start(app)
    request: Message = {"type": "websocket.receive", "text": _INVOCATION}
    warm = echoes // 5
    count = 0
    started = 0.0
    done = asyncio.Event()

    async def send(queue: asyncio.Queue[Message], message: Message) -> None:
        nonlocal count, started
        if message["type"] != "websocket.send":
            return
        text = message.get("text") or ""
        if '"type":3' in text:
            count += 1
            if count == warm:
                started = time.process_time()
            if count >= echoes:
                done.set()
                return
            queue.put_nowait(request)
        elif text == "{}\x1e":  # handshake answered: start this connection's loop
            queue.put_nowait(request)

    for _ in range(connections):
        _open(app, send)
    await done.wait()
    return (time.process_time() - started) / (echoes - warm)


async def idle(connections: int) -> None:
    app = create_app()
    await _start(app)
    answered = 0
    done = asyncio.Event()

    async def send(queue: asyncio.Queue[Message], message: Message) -> None:
        nonlocal answered
        if message["type"] == "websocket.send":
            answered += 1
            if answered == connections:
                done.set()

    gc.collect()
    tracemalloc.start()
    before_census = _census()
    before = tracemalloc.take_snapshot()
    queues = [_open(app, send) for _ in range(connections)]
    await done.wait()
    await asyncio.sleep(0.3)
    gc.collect()
    after = tracemalloc.take_snapshot()
    after_census = _census()
    total = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    fake = 0
    for queue in queues:
        parts = (queue, *(getattr(queue, name) for name in ("_queue", "_getters", "_putters")))
        fake += sum(sys.getsizeof(part) for part in parts)
    print(
        f"{total / connections:,.0f} bytes per idle connection "
        f"(of which the fake server's queue: {fake / connections:,.0f})"
    )
    print("objects per connection, by type (shallow sizes):")
    (counts_before, sizes_before), (counts_after, sizes_after) = before_census, after_census
    growth = {
        name: (counts_after[name] - counts_before[name], sizes_after[name] - sizes_before[name])
        for name in counts_after
    }
    for name, (count, size) in sorted(growth.items(), key=lambda item: -item[1][1])[:25]:
        if count >= connections:
            print(f"  {size / connections:7,.0f} B  {count / connections:5.2f}  {name}")


def _census() -> tuple[collections.Counter[str], collections.Counter[str]]:
    counts: collections.Counter[str] = collections.Counter()
    sizes: collections.Counter[str] = collections.Counter()
    for thing in gc.get_objects():
        kind = type(thing)
        name = f"{str(getattr(kind, '__module__', '?')).split('.')[0]}.{kind.__qualname__}"
        counts[name] += 1
        sizes[name] += sys.getsizeof(thing)
    return counts, sizes


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("echo", "idle"):
        print(__doc__)
        return 2
    if argv[0] == "echo":
        connections = int(argv[1]) if len(argv) > 1 else 100
        echoes = int(argv[2]) if len(argv) > 2 else 60_000
        per_echo = asyncio.run(echo(connections, echoes))
        print(f"{per_echo * 1e6:.2f} µs CPU per echo ({connections} connections)")
    else:
        asyncio.run(idle(int(argv[1]) if len(argv) > 1 else 1000))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
