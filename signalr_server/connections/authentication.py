"""The endpoint's authentication hook, kept ignorant of hubs and of JWT.

An endpoint may be given an ``EndpointAuth``: an ``authenticate`` callable
(request → user or ``None``) and an ``authorize`` callable (user, request →
allowed?). The dispatcher runs both on negotiate and on *every* transport
request — WebSocket upgrade, SSE GET, poll, POST, DELETE — before it even
looks the connection up, so an unauthenticated caller learns nothing about
which connection ids exist (AUTH-3):

* refused and anonymous → 401, empty body (clients refresh the token and
  retry once on polls and sends, AUTH-4);
* refused but authenticated → 403, empty body.

A connection also remembers *whose* it is: the identity of the user at
negotiate (or at a WebSocket request that skipped negotiation). A later
request on the same connection token with a different identity gets 403.
ASP.NET Core only logs a warning and swaps the user in that case; refusing
is stricter and costs nothing to a well-behaved client, whose refreshed
tokens keep naming the same user. GET transport requests (WebSocket, SSE,
each poll) replace ``connection.user`` with the one they carry, as the
reference does, so a Long Polling client's refreshed token also moves the
expiry that ``close_on_authentication_expiration`` watches.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from .context import RequestInfo

__all__ = ["EndpointAuth", "default_identity"]


def default_identity(user: Any) -> str | None:
    """Who a user is, for the same-user check: a plain string, else the
    user's ``identifier`` attribute; ``None`` (anonymous) otherwise."""
    if user is None:
        return None
    if isinstance(user, str):
        return user
    identifier = getattr(user, "identifier", None)
    return identifier if isinstance(identifier, str) else None


async def _allow_everyone(user: Any, request: RequestInfo) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class EndpointAuth:
    """Authentication and connection-level authorization of one endpoint."""

    authenticate: Callable[[RequestInfo], Awaitable[Any]]
    """Returns the user a request carries credentials for, or ``None``."""
    authorize: Callable[[Any, RequestInfo], Awaitable[bool]] = _allow_everyone
    """Whether that user (``None`` = anonymous) may use the endpoint."""
    identity: Callable[[Any], str | None] = default_identity
    """Identity used to tie later requests to the user who opened the connection."""

    async def check(self, request: RequestInfo) -> tuple[int | None, Any]:
        """``(None, user)`` when allowed, else ``(401 or 403, user)``."""
        user = await self.authenticate(request)
        if await self.authorize(user, request):
            return None, user
        authenticated = user is not None and bool(getattr(user, "is_authenticated", True))
        return (403 if authenticated else 401), user
