"""Where connection handlers and sweeps run.

They must outlive any single request (Long Polling's handler spans many polls;
stateful reconnect swaps the socket under a live handler), so they belong to
the application's lifespan rather than to a request:

* on asyncio they are plain loop tasks the runner keeps and, at the end of
  the lifespan, cancels and waits for. An anyio task group would add a task
  handle, a cancel scope, an event and a done-callback closure to every task,
  about 2.5 KB on every idle connection;
* on trio they run in the lifespan's task group, or as system tasks when
  the host never runs our lifespan (mounted in a framework that does not
  forward it, or a test client).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import sniffio
from anyio.abc import TaskGroup

__all__ = ["TaskRunner"]

logger = logging.getLogger("signalr_server.connections")


class TaskRunner:
    """Starts fire-and-forget tasks that are still owned by someone: the
    lifespan task group when attached, else the running loop."""

    def __init__(self) -> None:
        self._task_group: TaskGroup | None = None
        self._loose_tasks: set[asyncio.Task[None]] = set()

    @property
    def attached(self) -> bool:
        return self._task_group is not None

    def attach(self, task_group: TaskGroup) -> None:
        self._task_group = task_group

    def detach(self) -> None:
        self._task_group = None

    def start_soon(
        self,
        func: Callable[..., Coroutine[Any, Any, None]],
        name: str,
        *args: Any,
        guarded: bool = True,
    ) -> None:
        """Run ``func(*args)`` concurrently. Exceptions are logged, never
        propagated: one connection's failure must not tear down the shared
        task group. Arguments are passed through rather than closed over, so
        a long-lived task (a connection's handler) holds no closures.
        ``guarded=False`` is for a ``func`` that catches its own exceptions:
        on asyncio it then runs as the task itself, one frame less for the
        life of the task (trio keeps the wrapper, which costs it little)."""
        library = sniffio.current_async_library()
        if library == "asyncio":
            coroutine = func(*args) if not guarded else self._guarded(func, name, *args)
            task = asyncio.get_running_loop().create_task(coroutine, name=name)
            # The loop keeps only weak references to tasks.
            self._loose_tasks.add(task)
            task.add_done_callback(self._loose_tasks.discard)
        elif self._task_group is not None:
            self._task_group.start_soon(self._guarded, func, name, *args, name=name)
        elif library == "trio":
            import trio

            trio.lowlevel.spawn_system_task(self._guarded, func, name, *args, name=name)
        else:  # pragma: no cover - anyio supports only these two
            raise RuntimeError(f"Unsupported async library: {library}")

    async def aclose(self) -> None:
        """Cancel the asyncio tasks still running and wait for them (lifespan end).

        Connections are closed before this, so normally nothing is left; the
        trio tasks end with the lifespan's task group.
        """
        tasks = [task for task in self._loose_tasks if not task.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)

    @staticmethod
    async def _guarded(func: Callable[..., Awaitable[None]], name: str, *args: Any) -> None:
        try:
            await func(*args)
        except Exception:
            logger.exception("Background task %s failed", name)
