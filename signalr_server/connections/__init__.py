"""Logical connections over HTTP: negotiate, the registry and the transports.

This layer moves bytes; it knows nothing about hubs.
"""

from .authentication import EndpointAuth
from .connection import ConnectionStatus, HttpConnection
from .context import ConnectionClosed, ConnectionContext, ConnectionHandler, RequestInfo
from .cors import CorsOptions
from .dispatcher import HttpConnectionDispatcher
from .manager import ConnectionManager
from .options import HttpConnectionOptions, HttpTransportType
from .tasks import TaskRunner

__all__ = [
    "ConnectionClosed",
    "ConnectionContext",
    "ConnectionHandler",
    "ConnectionManager",
    "ConnectionStatus",
    "CorsOptions",
    "EndpointAuth",
    "HttpConnection",
    "HttpConnectionDispatcher",
    "HttpConnectionOptions",
    "HttpTransportType",
    "RequestInfo",
    "TaskRunner",
]
