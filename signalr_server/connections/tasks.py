"""Where connection handlers and sweeps run.

They must outlive any single request (Long Polling's handler spans many polls;
stateful reconnect swaps the socket under a live handler), so they run in a
task group owned by the application's lifespan. When the host never runs our
lifespan (mounted in a framework that does not forward it, or a test client),
tasks fall back to the running event loop directly.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
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

    def start_soon(self, func: Callable[..., Awaitable[None]], name: str, *args: Any) -> None:
        """Run ``func(*args)`` concurrently. Exceptions are logged, never
        propagated: one connection's failure must not tear down the shared
        task group. Arguments are passed through rather than closed over, so
        a long-lived task (a connection's handler) holds no closures."""
        if self._task_group is not None:
            self._task_group.start_soon(self._guarded, func, name, *args, name=name)
            return
        library = sniffio.current_async_library()
        if library == "asyncio":
            task = asyncio.get_running_loop().create_task(
                self._guarded(func, name, *args), name=name
            )
            # The loop keeps only weak references to tasks.
            self._loose_tasks.add(task)
            task.add_done_callback(self._loose_tasks.discard)
        elif library == "trio":
            import trio

            trio.lowlevel.spawn_system_task(self._guarded, func, name, *args, name=name)
        else:  # pragma: no cover - anyio supports only these two
            raise RuntimeError(f"Unsupported async library: {library}")

    @staticmethod
    async def _guarded(func: Callable[..., Awaitable[None]], name: str, *args: Any) -> None:
        try:
            await func(*args)
        except Exception:
            logger.exception("Background task %s failed", name)
