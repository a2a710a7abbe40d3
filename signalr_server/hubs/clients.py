"""Client proxies (``clients.all.send(...)``) and the group manager.

Each target of the reference's ``IHubClients`` has a counterpart here. A
proxy only converts the arguments to wire values and hands the call to the
lifetime manager, so the same proxies work in-process and scaled out.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from .conversion import ConversionError, converter_for, to_wire
from .errors import HubException, InvalidOperationError
from .lifetime import HubLifetimeManager

__all__ = ["ClientProxy", "GroupManager", "HubCallerClients", "HubClients", "SingleClientProxy"]

CLIENT_RESULTS_NEED_PARALLELISM = (
    "Client results inside a Hub method requires "
    "HubOptions.MaximumParallelInvocationsPerClient to be greater than 1."
)
CLIENT_RESULTS_IN_CONNECT = "Client results inside OnConnectedAsync Hub methods are not allowed."

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


class SingleClientProxy(ClientProxy):
    """One connection: besides ``send``, it can ``invoke`` a handler and get its result."""

    __slots__ = ("_connection_id", "_lifetime", "_refusal")

    def __init__(
        self,
        lifetime_manager: HubLifetimeManager,
        connection_id: str,
        refusal: Callable[[], str | None] | None = None,
    ) -> None:
        super().__init__(
            lambda method, args: lifetime_manager.send_connection(connection_id, method, args)
        )
        self._lifetime = lifetime_manager
        self._connection_id = connection_id
        self._refusal = refusal

    async def invoke(
        self,
        method: str,
        *args: Any,
        timeout: float | None = None,
        result_type: Any = None,
    ) -> Any:
        """Call the client's ``method`` handler and return what it returns (client results).

        The JS client answers from ``connection.on(method, handler)``, whose
        return value (or resolved promise) becomes the result. Raises
        ``HubException`` with the client's error (for example
        ``"Client didn't provide a result."`` when it has no handler), or when
        the connection is unknown or disconnects while waiting;
        ``TimeoutError`` after ``timeout`` seconds. With ``result_type`` the
        result is converted like a hub method argument, and a value that does
        not fit raises ``HubException("Error trying to deserialize result to
        {type}. ...")``.

        Inside a hub method this needs
        ``HubOptions.maximum_parallel_invocations_per_client`` > 1, as in the
        reference: with one slot, the hub method would wait for a Completion
        while holding the only slot (CRES-5).
        """
        if self._refusal is not None:
            refusal = self._refusal()
            if refusal is not None:
                raise InvalidOperationError(refusal)
        result = await self._lifetime.invoke_connection(
            self._connection_id, method, [to_wire(arg) for arg in args], timeout=timeout
        )
        if result_type is None:
            return result
        try:
            return converter_for(result_type)(result)
        except (ConversionError, TypeError, ValueError) as exc:
            name = getattr(result_type, "__name__", str(result_type))
            raise HubException(f"Error trying to deserialize result to {name}. {exc}") from exc


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

    def client(self, connection_id: str) -> SingleClientProxy:
        return SingleClientProxy(self._lifetime, connection_id)

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

    __slots__ = ("_caller_id", "_parallel_invocations", "in_connect")

    def __init__(
        self,
        lifetime_manager: HubLifetimeManager,
        caller_id: str,
        *,
        parallel_invocations: int = 1,
    ) -> None:
        super().__init__(lifetime_manager)
        self._caller_id = caller_id
        self._parallel_invocations = parallel_invocations
        self.in_connect = False
        """Set while ``on_connected`` runs, where client results are refused."""

    def _client_results_refusal(self) -> str | None:
        if self.in_connect:
            return CLIENT_RESULTS_IN_CONNECT
        if self._parallel_invocations <= 1:
            return CLIENT_RESULTS_NEED_PARALLELISM
        return None

    def client(self, connection_id: str) -> SingleClientProxy:
        return SingleClientProxy(self._lifetime, connection_id, self._client_results_refusal)

    @property
    def caller(self) -> SingleClientProxy:
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
