"""signalr-server: the ASP.NET Core SignalR wire protocol for Python ASGI apps."""

__version__ = "0.1.0"
