"""One timer per hub endpoint instead of two sleeping tasks per connection.

Keep-alive pings and the client timeout only need a periodic look at two
timestamps per connection. Like the reference's one-second heartbeat, a single
task visits every registered connection each ``interval``; an idle connection
then costs no task, no cancel scope and no timer of its own, which is most of
what an idle connection used to weigh.

The task runs only while connections are registered, and it remembers which
event loop it runs on: a handler object may outlive an event loop (tests run
one loop per test, on asyncio and trio), so a connection registered on a new
loop starts a new task instead of relying on one stranded on a dead loop.
"""

from __future__ import annotations

import asyncio
import logging
from time import monotonic
from typing import Protocol

import anyio
import sniffio

from ..connections.tasks import TaskRunner

__all__ = ["Heartbeat", "HeartbeatMember", "heartbeat_interval"]

logger = logging.getLogger("signalr_server.hubs.heartbeat")

MAX_HEARTBEAT_INTERVAL = 1.0
"""The reference's heartbeat period; shorter only when the timeouts are shorter."""


class HeartbeatMember(Protocol):
    def on_heartbeat(self, now: float) -> None:
        """Check timers against ``now`` (``time.monotonic()``); must not block."""
        ...


def heartbeat_interval(keep_alive_interval: float, client_timeout_interval: float) -> float:
    """A period fine enough for both timers: at most a second (as the
    reference), at most half of either interval so short test settings work."""
    return max(
        0.001,
        min(MAX_HEARTBEAT_INTERVAL, keep_alive_interval / 2, client_timeout_interval / 2),
    )


def _current_loop() -> object:
    """Identity of the running event loop (asyncio loop or trio run)."""
    if sniffio.current_async_library() == "trio":
        import trio

        return trio.lowlevel.current_trio_token()
    return asyncio.get_running_loop()


class Heartbeat:
    """Calls ``on_heartbeat(now)`` on every member once per ``interval``."""

    def __init__(self, interval: float = MAX_HEARTBEAT_INTERVAL) -> None:
        if interval <= 0:
            raise ValueError("the heartbeat interval must be positive")
        self.interval = interval
        self._members: set[HeartbeatMember] = set()
        self._loop: object | None = None
        self._token: object | None = None
        """Identifies the task that currently owns the beat; older ones exit."""
        self._scope: anyio.CancelScope | None = None
        self._stopping = False
        self._runner = TaskRunner()

    def __len__(self) -> int:
        return len(self._members)

    def add(self, member: HeartbeatMember) -> None:
        """Start visiting ``member``; call from inside the event loop."""
        self._members.add(member)
        loop = _current_loop()
        if self._loop is not loop or self._stopping:
            token = object()
            self._token, self._loop, self._stopping = token, loop, False
            self._runner.start_soon(lambda: self._run(token), "signalr-hub-heartbeat")

    def discard(self, member: HeartbeatMember) -> None:
        self._members.discard(member)
        if not self._members and self._scope is not None:
            # Stop now rather than after the current sleep, so no task is left
            # pending when the event loop ends right after its last connection.
            self._stopping = True
            self._scope.cancel()

    async def _run(self, token: object) -> None:
        if self._token is not token:
            return
        scope = self._scope = anyio.CancelScope()
        try:
            with scope:
                while self._members and self._token is token:
                    await anyio.sleep(self.interval)
                    self.tick(monotonic())
        finally:
            if self._token is token:
                self._token = self._loop = self._scope = None

    def tick(self, now: float) -> None:
        """One beat: visit every member. A failing member is logged and skipped."""
        for member in list(self._members):
            try:
                member.on_heartbeat(now)
            except Exception:
                logger.exception("Heartbeat check failed")
