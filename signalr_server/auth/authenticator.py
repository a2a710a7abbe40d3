"""The authentication seam: request in, ``User`` (or ``None``) out.

An authenticator is any ``async`` callable taking the ``RequestInfo`` of an
HTTP request (negotiate, WebSocket upgrade, SSE GET, poll, POST, DELETE) and
returning the user it vouches for, or ``None`` when the request carries no
valid credentials. Returning ``None`` is not an error: a hub without an
authorization rule then simply runs anonymously, and a protected hub
answers 401. Raising is reserved for failures of the authenticator itself
(the request then gets a 500), never for bad credentials.

JWT bearer tokens are one implementation (``JwtBearerAuthenticator``); the
helpers below adapt synchronous functions, chain several schemes, and read
the user a host framework (Starlette, FastAPI) already put in the ASGI scope.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from ..connections.context import RequestInfo
from .user import Claim, ClaimTypes, User

__all__ = [
    "Authenticator",
    "chain_authenticators",
    "scope_user_authenticator",
    "sync_authenticator",
    "to_authenticator",
]


class Authenticator(Protocol):
    """``async (request) -> User | None``."""

    def __call__(self, request: RequestInfo, /) -> Awaitable[User | None]: ...


def sync_authenticator(function: Callable[[RequestInfo], User | None]) -> Authenticator:
    """Wrap a plain function (API-key table look-up, cookie decoding …).

    It runs on the event loop, so it must not block; do blocking work in an
    ``async`` authenticator with ``anyio.to_thread.run_sync`` instead.
    """

    async def authenticate(request: RequestInfo) -> User | None:
        return function(request)

    authenticate.__name__ = getattr(function, "__name__", "authenticate")
    return authenticate


def to_authenticator(
    function: Callable[[RequestInfo], User | Awaitable[User | None] | None],
) -> Authenticator:
    """Accept a sync or async callable and return an async authenticator."""

    async def authenticate(request: RequestInfo) -> User | None:
        result = function(request)
        if inspect.isawaitable(result):
            return await result
        return result

    return authenticate


def chain_authenticators(*authenticators: Authenticator) -> Authenticator:
    """Try each in order; the first authenticated user wins (cookie *or* token)."""
    if not authenticators:
        raise ValueError("chain_authenticators needs at least one authenticator")

    async def authenticate(request: RequestInfo) -> User | None:
        for authenticator in authenticators:
            user = await authenticator(request)
            if user is not None and user.is_authenticated:
                return user
        return None

    return authenticate


def _from_starlette_user(scope: Mapping[str, Any], authentication_type: str) -> User | None:
    candidate = scope.get("user")
    if candidate is None:
        return None
    if isinstance(candidate, User):
        return candidate if candidate.is_authenticated else None
    if not getattr(candidate, "is_authenticated", False):
        return None
    claims: list[Claim] = []
    identity = getattr(candidate, "identity", None)
    if isinstance(identity, str) and identity:
        claims.append(Claim("nameid", identity))
    display_name = getattr(candidate, "display_name", None)
    if isinstance(display_name, str) and display_name:
        claims.append(Claim(ClaimTypes.NAME, display_name))
    credentials = scope.get("auth")
    for permission in getattr(credentials, "scopes", None) or ():
        claims.append(Claim("role", str(permission)))
    return User(claims, authentication_type=authentication_type)


def scope_user_authenticator(authentication_type: str = "Starlette") -> Authenticator:
    """Use the user a host framework's middleware stored in ``scope["user"]``.

    With Starlette's ``AuthenticationMiddleware`` (also FastAPI) around the
    SignalR app, ``scope["user"]`` is a ``BaseUser`` and ``scope["auth"]`` its
    ``AuthCredentials``. It becomes a ``User`` with ``identity`` as the
    ``nameid`` claim, ``display_name`` as the name, and each credential scope
    as a role. A ``User`` placed in the scope by your own middleware is used
    as it is. Unauthenticated users give ``None``.
    """

    async def authenticate(request: RequestInfo) -> User | None:
        return _from_starlette_user(request.scope, authentication_type)

    return authenticate
