"""signalr-server: the ASP.NET Core SignalR wire protocol for Python ASGI apps.

The names users need are importable from here::

    from signalr_server import SignalR, Hub, HubOptions, HubException

They are loaded lazily, so that importing only the sans-IO ``signalr_server.protocol``
(for a client, a test or the conformance runner) does not pull in the server.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "SignalR": "signalr_server.app.asgi",
    "Hub": "signalr_server.hubs",
    "HubCallerContext": "signalr_server.hubs",
    "HubContext": "signalr_server.hubs",
    "HubException": "signalr_server.hubs",
    "HubLifetimeManager": "signalr_server.hubs",
    "HubOptions": "signalr_server.hubs",
    "InMemoryHubLifetimeManager": "signalr_server.hubs",
    "ServiceRegistry": "signalr_server.hubs",
    "hub_method": "signalr_server.hubs",
    "HttpConnectionOptions": "signalr_server.connections.options",
    "HttpTransportType": "signalr_server.connections.options",
    "ConnectionContext": "signalr_server.connections.context",
    "authorize": "signalr_server.hubs.authorization",
    "AuthorizationContext": "signalr_server.hubs.authorization",
    "User": "signalr_server.auth",
    "JwtBearerAuthenticator": "signalr_server.auth",
    "JwtBearerOptions": "signalr_server.auth",
}

__all__ = [
    "AuthorizationContext",
    "ConnectionContext",
    "HttpConnectionOptions",
    "HttpTransportType",
    "Hub",
    "HubCallerContext",
    "HubContext",
    "HubException",
    "HubLifetimeManager",
    "HubOptions",
    "InMemoryHubLifetimeManager",
    "JwtBearerAuthenticator",
    "JwtBearerOptions",
    "ServiceRegistry",
    "SignalR",
    "User",
    "__version__",
    "authorize",
    "hub_method",
]

if TYPE_CHECKING:
    from .app.asgi import SignalR
    from .auth import JwtBearerAuthenticator, JwtBearerOptions, User
    from .connections.context import ConnectionContext
    from .connections.options import HttpConnectionOptions, HttpTransportType
    from .hubs import (
        Hub,
        HubCallerContext,
        HubContext,
        HubException,
        HubLifetimeManager,
        HubOptions,
        InMemoryHubLifetimeManager,
        ServiceRegistry,
        hub_method,
    )
    from .hubs.authorization import AuthorizationContext, authorize


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'signalr_server' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
