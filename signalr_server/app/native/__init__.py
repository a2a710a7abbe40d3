"""signalr-server's own HTTP/1.1 + WebSocket server for ASGI apps (``--server native``).

See ``server`` for why it exists and what it leaves out.
"""

from .server import NativeLimits, serve_native

__all__ = ["NativeLimits", "serve_native"]
