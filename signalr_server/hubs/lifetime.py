"""Who is connected, who is in which group, and how a message reaches them.

``HubLifetimeManager`` is the seam for scale-out: hub code, clients proxies and
``HubContext`` only talk to this interface, so an implementation backed by a
message bus (Redis) can replace the in-memory one without touching them.
Every method is async and addresses connections by id only, because in a
scaled-out deployment the connection may live on another server.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from ..connections.context import ConnectionClosed
from ..protocol.base import SerializedMessage
from ..protocol.messages import CompletionMessage, InvocationMessage
from .client_results import PendingClientResults, connection_disconnected, connection_not_found
from .connection import HubConnection

__all__ = ["HubLifetimeManager", "InMemoryHubLifetimeManager"]

logger = logging.getLogger("signalr_server.hubs.lifetime")


class HubLifetimeManager(ABC):
    """Connection, group and user bookkeeping plus message delivery for one hub.

    ``args`` are wire values (see ``conversion.to_wire``); implementations build
    one Invocation without an id (INV-14) per call and deliver it.
    """

    @abstractmethod
    async def on_connected(self, connection: HubConnection) -> None:
        """Start tracking a connection that finished its handshake."""

    @abstractmethod
    async def on_disconnected(self, connection: HubConnection) -> None:
        """Forget a connection and every group membership it had."""

    @abstractmethod
    async def add_to_group(self, connection_id: str, group: str) -> None:
        """Add a connection to a group; unknown connections are ignored."""

    @abstractmethod
    async def remove_from_group(self, connection_id: str, group: str) -> None:
        """Remove a connection from a group; missing memberships are ignored."""

    @abstractmethod
    async def send_all(
        self, method: str, args: Sequence[Any], *, exclude: Collection[str] = ()
    ) -> None:
        """Every connection except those whose id is in ``exclude``."""

    @abstractmethod
    async def send_connection(self, connection_id: str, method: str, args: Sequence[Any]) -> None:
        """One connection by id."""

    @abstractmethod
    async def send_connections(
        self, connection_ids: Collection[str], method: str, args: Sequence[Any]
    ) -> None:
        """Several connections by id."""

    @abstractmethod
    async def send_group(
        self, group: str, method: str, args: Sequence[Any], *, exclude: Collection[str] = ()
    ) -> None:
        """Members of one group, except those whose id is in ``exclude``."""

    @abstractmethod
    async def send_groups(self, groups: Collection[str], method: str, args: Sequence[Any]) -> None:
        """Members of any of the groups; a connection in several gets the message once."""

    @abstractmethod
    async def send_user(self, user_id: str, method: str, args: Sequence[Any]) -> None:
        """Every connection whose ``user_identifier`` is ``user_id``."""

    @abstractmethod
    async def send_users(self, user_ids: Collection[str], method: str, args: Sequence[Any]) -> None:
        """Every connection of any of the users."""

    @abstractmethod
    async def invoke_connection(
        self, connection_id: str, method: str, args: Sequence[Any], *, timeout: float | None = None
    ) -> Any:
        """Invoke ``method`` on one connection and return the client's result (CRES).

        The result is a wire value. Raises ``HubException`` with the client's
        error text, ``"Connection '{id}' does not exist."`` or
        ``"Connection '{id}' disconnected."``; ``TimeoutError`` after
        ``timeout`` seconds (``None`` waits for the answer or the disconnect).
        """

    @abstractmethod
    async def set_connection_result(self, connection_id: str, result: CompletionMessage) -> bool:
        """Hand a client's Completion to the waiting ``invoke_connection``.

        Returns False when no invocation of that connection waits under
        that id (unknown, timed out or already answered), which callers ignore (CRES-4).
        """


def _invocation(method: str, args: Sequence[Any]) -> SerializedMessage:
    return SerializedMessage(InvocationMessage(None, method, list(args)))


class InMemoryHubLifetimeManager(HubLifetimeManager):
    """The single-process lifetime manager (the reference's ``DefaultHubLifetimeManager``).

    Sends never wait: the message is encoded once per protocol in use and put
    into each recipient's outbound buffer with ``send_nowait``, so a slow or
    dead connection cannot delay the sender or the other recipients.
    """

    def __init__(self) -> None:
        self._connections: dict[str, HubConnection] = {}
        self._groups: dict[str, dict[str, HubConnection]] = {}
        self._users: dict[str, dict[str, HubConnection]] = {}
        self._memberships: dict[str, set[str]] = {}
        self._results = PendingClientResults()

    # -- bookkeeping ---------------------------------------------------------

    async def on_connected(self, connection: HubConnection) -> None:
        connection_id = connection.connection_id
        self._connections[connection_id] = connection
        self._memberships[connection_id] = set()
        if connection.user_identifier is not None:
            self._users.setdefault(connection.user_identifier, {})[connection_id] = connection

    async def on_disconnected(self, connection: HubConnection) -> None:
        connection_id = connection.connection_id
        if self._connections.get(connection_id) is not connection:
            return
        del self._connections[connection_id]
        self._results.fail_connection(connection_id)
        for group in self._memberships.pop(connection_id, ()):
            self._discard(self._groups, group, connection_id)
        if connection.user_identifier is not None:
            self._discard(self._users, connection.user_identifier, connection_id)

    @staticmethod
    def _discard(index: dict[str, dict[str, HubConnection]], key: str, connection_id: str) -> None:
        members = index.get(key)
        if members is not None:
            members.pop(connection_id, None)
            if not members:
                del index[key]

    async def add_to_group(self, connection_id: str, group: str) -> None:
        connection = self._connections.get(connection_id)
        if connection is None:
            return
        self._groups.setdefault(group, {})[connection_id] = connection
        self._memberships[connection_id].add(group)

    async def remove_from_group(self, connection_id: str, group: str) -> None:
        memberships = self._memberships.get(connection_id)
        if memberships is None or group not in memberships:
            return
        memberships.discard(group)
        self._discard(self._groups, group, connection_id)

    # -- delivery ------------------------------------------------------------

    @staticmethod
    def _deliver(
        recipients: Iterable[HubConnection],
        method: str,
        args: Sequence[Any],
        exclude: Collection[str] = (),
    ) -> None:
        message: SerializedMessage | None = None
        for connection in recipients:
            if exclude and connection.connection_id in exclude:
                continue
            if message is None:
                message = _invocation(method, args)
            connection.write_nowait(message)

    async def send_all(
        self, method: str, args: Sequence[Any], *, exclude: Collection[str] = ()
    ) -> None:
        self._deliver(list(self._connections.values()), method, args, exclude)

    async def send_connection(self, connection_id: str, method: str, args: Sequence[Any]) -> None:
        connection = self._connections.get(connection_id)
        if connection is not None:
            self._deliver((connection,), method, args)

    async def send_connections(
        self, connection_ids: Collection[str], method: str, args: Sequence[Any]
    ) -> None:
        recipients = {
            connection_id: connection
            for connection_id in connection_ids
            if (connection := self._connections.get(connection_id)) is not None
        }
        self._deliver(recipients.values(), method, args)

    async def send_group(
        self, group: str, method: str, args: Sequence[Any], *, exclude: Collection[str] = ()
    ) -> None:
        members = self._groups.get(group)
        if members:
            self._deliver(list(members.values()), method, args, exclude)

    async def send_groups(self, groups: Collection[str], method: str, args: Sequence[Any]) -> None:
        self._deliver(self._union(self._groups, groups), method, args)

    async def send_user(self, user_id: str, method: str, args: Sequence[Any]) -> None:
        members = self._users.get(user_id)
        if members:
            self._deliver(list(members.values()), method, args)

    async def send_users(self, user_ids: Collection[str], method: str, args: Sequence[Any]) -> None:
        self._deliver(self._union(self._users, user_ids), method, args)

    @staticmethod
    def _union(
        index: dict[str, dict[str, HubConnection]], keys: Iterable[str]
    ) -> list[HubConnection]:
        recipients: dict[str, HubConnection] = {}
        for key in keys:
            recipients.update(index.get(key, {}))
        return list(recipients.values())

    # -- client results ------------------------------------------------------

    async def invoke_connection(
        self, connection_id: str, method: str, args: Sequence[Any], *, timeout: float | None = None
    ) -> Any:
        connection = self._connections.get(connection_id)
        if connection is None:
            raise connection_not_found(connection_id)
        invocation_id = self._results.new_id()
        message = InvocationMessage(invocation_id, method, list(args))

        async def send() -> None:
            try:
                await connection.write(message)
            except ConnectionClosed:
                raise connection_disconnected(connection_id) from None

        return await self._results.invoke(connection_id, invocation_id, send, timeout)

    async def set_connection_result(self, connection_id: str, result: CompletionMessage) -> bool:
        return self._results.set_result(connection_id, result)
