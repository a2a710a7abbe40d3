"""``HubConnectionHandler``: one hub conversation, from handshake to disconnect.

This module holds the handshake (HS-1 … HS-13) and the per-endpoint state
(dispatcher, lifetime manager, heartbeat); what happens after a successful
handshake lives in ``session``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

import anyio

from ..connections.context import ConnectionClosed, ConnectionContext
from ..protocol.base import HubProtocol
from ..protocol.errors import MessageTooLargeError, ProtocolError
from ..protocol.handshake import HandshakeParser, write_handshake_response
from ..protocol.registry import get_protocol
from .dispatcher import HubDispatcher
from .heartbeat import Heartbeat, heartbeat_interval
from .hub import Hub
from .lifetime import HubLifetimeManager, InMemoryHubLifetimeManager
from .options import HubOptions
from .services import ServiceRegistry
from .session import Session

__all__ = ["HubConnectionHandler", "UserIdProvider", "default_user_identifier"]

logger = logging.getLogger("signalr_server.hubs.handler")

UserIdProvider = Callable[[ConnectionContext], "str | None"]

_NAME_IDENTIFIER_URI = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier"


def default_user_identifier(connection: ConnectionContext) -> str | None:
    """The user id for ``clients.user(...)``, read from ``connection.user``.

    Accepts a plain string, an object with an ``identifier`` attribute (the
    ``signalr_server.auth.User``: ``sub``, then ``nameid``, then the .NET
    NameIdentifier claim), or a mapping of claims with those keys; ``None``
    otherwise.
    Authentication layers that use another shape pass their own provider.
    """
    user = connection.user
    if user is None:
        return None
    if isinstance(user, str):
        return user or None
    identifier = getattr(user, "identifier", None)
    if isinstance(identifier, str) and identifier:
        return identifier
    if isinstance(user, Mapping):
        for claim in ("sub", "nameid", _NAME_IDENTIFIER_URI):
            value = user.get(claim)
            if isinstance(value, str) and value:
                return value
    return None


class HubConnectionHandler:
    """The ``ConnectionHandler`` that runs ``hub_type`` on each connection it is given."""

    def __init__(
        self,
        hub_type: type[Hub],
        options: HubOptions | None = None,
        lifetime_manager: HubLifetimeManager | None = None,
        services: ServiceRegistry | None = None,
        *,
        user_id_provider: UserIdProvider = default_user_identifier,
    ) -> None:
        self.options = options or HubOptions()
        self.lifetime_manager = lifetime_manager or InMemoryHubLifetimeManager()
        self.services = services or ServiceRegistry()
        self.dispatcher = HubDispatcher(
            hub_type, self.options, self.lifetime_manager, self.services
        )
        self.user_id_provider = user_id_provider
        self.heartbeat = Heartbeat(
            heartbeat_interval(
                self.options.keep_alive_interval, self.options.client_timeout_interval
            )
        )
        """Drives keep-alive pings and client timeouts of all this hub's connections."""
        allowed = self.options.supported_protocols
        self._allowed_protocols = None if allowed is None else frozenset(allowed)

    async def __call__(self, connection: ConnectionContext) -> None:
        logger.debug("Connection %s started", connection.connection_id)
        if self.dispatcher.hub_rules and not await self.dispatcher.authorize_connection(
            connection.user, connection.request
        ):
            # The endpoint normally refuses such requests with 401/403 before a
            # handler starts; this is the backstop for any other way in.
            logger.warning("Connection %s refused: user is unauthorized", connection.connection_id)
            return
        try:
            handshake = await self._handshake(connection)
            if handshake is not None:
                protocol, remainder, version = handshake
                await Session(self, connection, protocol, version).run(remainder)
        finally:
            logger.debug("Connection %s ended", connection.connection_id)

    # -- handshake -------------------------------------------------------------

    def _protocol_error(
        self, connection: ConnectionContext, name: str, version: int
    ) -> tuple[HubProtocol | None, str | None]:
        protocol = None
        if self._allowed_protocols is None or name in self._allowed_protocols:
            protocol = get_protocol(name)
        if protocol is None:
            return None, f"The protocol '{name}' is not supported."
        if version > protocol.version:
            return None, f"The server does not support version {version} of the '{name}' protocol."
        if protocol.transfer_format not in connection.supported_formats:
            return None, (
                f"Cannot use the '{name}' protocol on the current transport. The transport "
                f"does not support '{protocol.transfer_format.value}' transfer format."
            )
        return protocol, None

    async def _handshake(
        self, connection: ConnectionContext
    ) -> tuple[HubProtocol, bytes, int] | None:
        """Read and answer the handshake (HS-1 … HS-13); ``None`` means the connection is over."""
        parser = HandshakeParser(self.options.maximum_receive_message_size)
        error: str | None = None
        protocol: HubProtocol | None = None
        version = 0
        with anyio.move_on_after(self.options.handshake_timeout):
            try:
                request = None
                while request is None:
                    request = parser.feed(await connection.receive())
            except ConnectionClosed:
                logger.debug("Connection %s closed during the handshake", connection.connection_id)
                return None
            except MessageTooLargeError:
                error = "Handshake was canceled."
            except ProtocolError as exc:
                error = self.dispatcher.error_text(
                    "An unexpected error occurred during connection handshake.", exc
                )
            else:
                version = request.version
                protocol, error = self._protocol_error(
                    connection, request.protocol, request.version
                )
        if protocol is None and error is None:
            error = "Handshake was canceled."
        if error is not None or protocol is None:
            logger.warning("Handshake failed on connection %s: %s", connection.connection_id, error)
            await self._send_quietly(connection, write_handshake_response(error))
            return None
        connection.transfer_format = protocol.transfer_format
        if not await self._send_quietly(connection, write_handshake_response(None)):
            return None
        return protocol, parser.remainder, version

    @staticmethod
    async def _send_quietly(connection: ConnectionContext, data: bytes) -> bool:
        try:
            await connection.send(data)
        except ConnectionClosed:
            return False
        return True
