"""Client results: the server invokes a client handler and waits for its return value.

The server sends an Invocation *with* an invocation id (CRES-1); the client
answers with a Completion carrying a result or an error (CRES-2). Ids are
``s1``, ``s2``, … so they can never be mistaken for the ids clients give
their own upload streams, which arrive in Completions too.

``PendingClientResults`` is the bookkeeping an in-process lifetime manager
needs; a scaled-out manager keeps the same table on the server that owns
the connection and routes Completions to it.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from ..protocol.messages import CompletionMessage
from .errors import HubException

__all__ = [
    "PendingClientResults",
    "connection_disconnected",
    "connection_not_found",
]

logger = logging.getLogger("signalr_server.hubs.client_results")


def connection_not_found(connection_id: str) -> HubException:
    """CRES-3: the target connection is not (or no longer) known."""
    return HubException(f"Connection '{connection_id}' does not exist.")


def connection_disconnected(connection_id: str) -> HubException:
    """CRES-3: the connection went away before it answered."""
    return HubException(f"Connection '{connection_id}' disconnected.")


class _Pending:
    __slots__ = ("connection_id", "done", "error", "result")

    def __init__(self, connection_id: str) -> None:
        self.connection_id = connection_id
        self.done = anyio.Event()
        self.result: Any = None
        self.error: HubException | None = None


class PendingClientResults:
    """Outstanding client-result invocations of one lifetime manager, by invocation id."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self._pending: dict[str, _Pending] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def new_id(self) -> str:
        """The next ``s{n}`` invocation id (CRES-1)."""
        return f"s{next(self._counter)}"

    async def invoke(
        self,
        connection_id: str,
        invocation_id: str,
        send: Callable[[], Awaitable[None]],
        timeout: float | None,
    ) -> Any:
        """Register ``invocation_id``, run ``send``, and wait for the client's Completion.

        Raises ``HubException`` with the client's error text, or when the
        connection disconnects first; ``TimeoutError`` after ``timeout``
        seconds. A Completion that arrives after a timeout or cancellation
        is ignored (CRES-4).
        """
        pending = _Pending(connection_id)
        self._pending[invocation_id] = pending
        try:
            with anyio.fail_after(timeout):
                await send()
                await pending.done.wait()
        finally:
            self._pending.pop(invocation_id, None)
        if pending.error is not None:
            raise pending.error
        return pending.result

    def set_result(self, connection_id: str, completion: CompletionMessage) -> bool:
        """Resolve a waiting invocation from the client's Completion.

        Returns False (and changes nothing) for an id that is unknown,
        already resolved, or was sent to a different connection.
        """
        pending = self._pending.get(completion.invocation_id)
        if pending is None or pending.connection_id != connection_id or pending.done.is_set():
            logger.debug("Ignoring Completion %r from %s", completion.invocation_id, connection_id)
            return False
        if completion.error is not None:
            pending.error = HubException(completion.error)
        else:
            pending.result = completion.result
        pending.done.set()
        return True

    def fail_connection(self, connection_id: str) -> None:
        """The connection is gone: every invocation waiting on it raises (CRES-3)."""
        for pending in self._pending.values():
            if pending.connection_id == connection_id and not pending.done.is_set():
                pending.error = connection_disconnected(connection_id)
                pending.done.set()
