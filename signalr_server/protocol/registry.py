"""The hub protocols this server offers, by the name a handshake asks for.

Protocol objects are stateless, so one shared instance of each serves every
connection; per-connection state lives in the readers they create.
"""

from __future__ import annotations

from .base import HubProtocol
from .json_protocol import JsonHubProtocol
from .messagepack_protocol import MessagePackHubProtocol

__all__ = ["JSON", "MESSAGEPACK", "PROTOCOLS", "get_protocol"]

JSON = JsonHubProtocol()
MESSAGEPACK = MessagePackHubProtocol()

PROTOCOLS: dict[str, HubProtocol] = {JSON.name: JSON, MESSAGEPACK.name: MESSAGEPACK}


def get_protocol(name: str) -> HubProtocol | None:
    """The protocol registered as ``name`` (case-sensitive, as in the reference)."""
    return PROTOCOLS.get(name)
