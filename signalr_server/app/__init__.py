"""ASGI entry point: routing, lifespan and (later) CLI."""

from .asgi import SignalR

__all__ = ["SignalR"]
