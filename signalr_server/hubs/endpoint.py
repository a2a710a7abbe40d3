"""``HubEndpoint``: one hub class with its options, lifetime manager and services.

This is what the app layer mounts: ``.handler`` runs on each connection the
transports start, ``.context`` lets the rest of the application push to the
same clients. Both share one lifetime manager, so they see the same
connections and groups.
"""

from __future__ import annotations

from typing import Any

from ..connections.context import RequestInfo
from .handler import HubConnectionHandler, UserIdProvider, default_user_identifier
from .hub import Hub
from .hub_context import HubContext
from .lifetime import HubLifetimeManager
from .options import HubOptions
from .services import ServiceRegistry

__all__ = ["HubEndpoint"]


class HubEndpoint:
    """Everything needed to serve ``hub_type``; method-table errors surface here, at start-up."""

    def __init__(
        self,
        hub_type: type[Hub],
        *,
        options: HubOptions | None = None,
        lifetime_manager: HubLifetimeManager | None = None,
        services: ServiceRegistry | None = None,
        user_id_provider: UserIdProvider = default_user_identifier,
    ) -> None:
        self.hub_type = hub_type
        # The handler fills in the defaults; the endpoint shares its choices.
        self.handler = HubConnectionHandler(
            hub_type, options, lifetime_manager, services, user_id_provider=user_id_provider
        )
        self.options: HubOptions = self.handler.options
        self.lifetime_manager: HubLifetimeManager = self.handler.lifetime_manager
        self.services: ServiceRegistry = self.handler.services
        self.context = HubContext(self.lifetime_manager)

    @property
    def requires_authorization(self) -> bool:
        """Whether the hub class carries an ``@authorize`` rule."""
        return bool(self.handler.dispatcher.hub_rules)

    async def authorize_connection(self, user: Any, request: RequestInfo) -> bool:
        """The hub's class-level rule, for the endpoint to check on every request."""
        return await self.handler.dispatcher.authorize_connection(user, request)
