"""Client proxies (``clients.all.send(...)``) and the group manager.

Each target of the reference's ``IHubClients`` has a counterpart here. A
proxy only converts the arguments to wire values and hands the call to the
lifetime manager, so the same proxies work in-process and scaled out.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from .conversion import to_wire
from .lifetime import HubLifetimeManager

__all__ = ["ClientProxy", "GroupManager", "HubCallerClients", "HubClients"]

_Deliver = Callable[[str, list[Any]], Awaitable[None]]


class ClientProxy:
    """A set of connections that a method can be invoked on."""

    __slots__ = ("_deliver",)

    def __init__(self, deliver: _Deliver) -> None:
        self._deliver = deliver

    async def send(self, method: str, *args: Any) -> None:
        """Invoke the client handler ``method`` with ``args`` on every target connection.

        ``method`` is sent with its exact casing: .NET clients match handler
        names case-sensitively (INV-14). Returns once the message is queued,
        not when it is delivered.
        """
        await self._deliver(method, [to_wire(arg) for arg in args])


def _frozen(ids: Iterable[str]) -> frozenset[str]:
    if isinstance(ids, str):  # a lone id is a common slip; treat it as one id, not characters
        return frozenset((ids,))
    return frozenset(ids)


class HubClients:
    """Targets available anywhere (``HubContext`` and inside hubs)."""

    __slots__ = ("_lifetime",)

    def __init__(self, lifetime_manager: HubLifetimeManager) -> None:
        self._lifetime = lifetime_manager

    @property
    def all(self) -> ClientProxy:
        lifetime = self._lifetime
        return ClientProxy(lambda method, args: lifetime.send_all(method, args))

    def all_except(self, connection_ids: Iterable[str]) -> ClientProxy:
        lifetime, excluded = self._lifetime, _frozen(connection_ids)
        return ClientProxy(lambda method, args: lifetime.send_all(method, args, exclude=excluded))

    def client(self, connection_id: str) -> ClientProxy:
        lifetime = self._lifetime
        return ClientProxy(
            lambda method, args: lifetime.send_connection(connection_id, method, args)
        )

    def clients(self, connection_ids: Iterable[str]) -> ClientProxy:
        lifetime, ids = self._lifetime, _frozen(connection_ids)
        return ClientProxy(lambda method, args: lifetime.send_connections(ids, method, args))

    def group(self, group: str) -> ClientProxy:
        lifetime = self._lifetime
        return ClientProxy(lambda method, args: lifetime.send_group(group, method, args))

    def groups(self, groups: Iterable[str]) -> ClientProxy:
        lifetime, names = self._lifetime, _frozen(groups)
        return ClientProxy(lambda method, args: lifetime.send_groups(names, method, args))

    def group_except(self, group: str, connection_ids: Iterable[str]) -> ClientProxy:
        lifetime, excluded = self._lifetime, _frozen(connection_ids)
        return ClientProxy(
            lambda method, args: lifetime.send_group(group, method, args, exclude=excluded)
        )

    def user(self, user_id: str) -> ClientProxy:
        lifetime = self._lifetime
        return ClientProxy(lambda method, args: lifetime.send_user(user_id, method, args))

    def users(self, user_ids: Iterable[str]) -> ClientProxy:
        lifetime, ids = self._lifetime, _frozen(user_ids)
        return ClientProxy(lambda method, args: lifetime.send_users(ids, method, args))


class HubCallerClients(HubClients):
    """Targets inside a hub invocation, which adds the ones relative to the caller."""

    __slots__ = ("_caller_id",)

    def __init__(self, lifetime_manager: HubLifetimeManager, caller_id: str) -> None:
        super().__init__(lifetime_manager)
        self._caller_id = caller_id

    @property
    def caller(self) -> ClientProxy:
        return self.client(self._caller_id)

    @property
    def others(self) -> ClientProxy:
        return self.all_except((self._caller_id,))

    def others_in_group(self, group: str) -> ClientProxy:
        return self.group_except(group, (self._caller_id,))


class GroupManager:
    """``groups.add(connection_id, name)`` / ``groups.remove(...)``.

    Group names are case-sensitive, as in the reference.
    """

    __slots__ = ("_lifetime",)

    def __init__(self, lifetime_manager: HubLifetimeManager) -> None:
        self._lifetime = lifetime_manager

    async def add(self, connection_id: str, group: str) -> None:
        await self._lifetime.add_to_group(connection_id, group)

    async def remove(self, connection_id: str, group: str) -> None:
        await self._lifetime.remove_from_group(connection_id, group)
