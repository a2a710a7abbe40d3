"""Request authentication: who is connecting.

``User`` holds the claims an authenticator established; an ``Authenticator``
is ``async (RequestInfo) -> User | None``; ``JwtBearerAuthenticator`` is the
JWT implementation SignalR clients' ``accessTokenFactory`` works with. This
package sits beside the connections layer (it imports only its
``RequestInfo``); authorization rules for hubs live in
``signalr_server.hubs.authorization``.
"""

from .authenticator import (
    Authenticator,
    chain_authenticators,
    scope_user_authenticator,
    sync_authenticator,
    to_authenticator,
)
from .jwt_bearer import (
    JwksError,
    JwtBearerAuthenticator,
    JwtBearerOptions,
    parse_jwks,
    token_from_request,
)
from .user import Claim, ClaimTypes, User

__all__ = [
    "Authenticator",
    "Claim",
    "ClaimTypes",
    "JwksError",
    "JwtBearerAuthenticator",
    "JwtBearerOptions",
    "User",
    "chain_authenticators",
    "parse_jwks",
    "scope_user_authenticator",
    "sync_authenticator",
    "to_authenticator",
    "token_from_request",
]
