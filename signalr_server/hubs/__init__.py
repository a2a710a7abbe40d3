"""Hubs: the programming model on top of SignalR connections.

Write a ``Hub`` subclass; its public methods are callable by clients, and
``self.clients`` / ``self.groups`` reach other connections. ``HubEndpoint``
bundles a hub class with its options, lifetime manager and services for the
app layer to mount.
"""

from .clients import ClientProxy, GroupManager, HubCallerClients, HubClients
from .connection import HubConnection
from .context import HubCallerContext
from .endpoint import HubEndpoint
from .errors import ClientClosedError, ClientTimeoutError, HubException, ServiceNotFoundError
from .handler import HubConnectionHandler, UserIdProvider, default_user_identifier
from .hub import Hub, hub_method
from .hub_context import HubContext
from .lifetime import HubLifetimeManager, InMemoryHubLifetimeManager
from .options import HubOptions
from .services import ServiceRegistry, ServiceScope

__all__ = [
    "ClientClosedError",
    "ClientProxy",
    "ClientTimeoutError",
    "GroupManager",
    "Hub",
    "HubCallerClients",
    "HubCallerContext",
    "HubClients",
    "HubConnection",
    "HubConnectionHandler",
    "HubContext",
    "HubEndpoint",
    "HubException",
    "HubLifetimeManager",
    "HubOptions",
    "InMemoryHubLifetimeManager",
    "ServiceNotFoundError",
    "ServiceRegistry",
    "ServiceScope",
    "UserIdProvider",
    "default_user_identifier",
    "hub_method",
]
