"""The auth-enabled app the Node suite drives with ``accessTokenFactory``.

Run with ``python -m signalr_server.app.cli run server.auth_app:app --port N``
from ``interop/``. Tokens are HS256 JWTs signed with a key generated at start;
the server also trusts an RSA public key (``GET /public-key``), so the suite
can attempt the algorithm-confusion attack against a real configuration.

Routes:

- ``POST /token`` ``{"sub", "roles"?, "tenant"?, "lifetime"?}`` → a token (the
  "login" route; a negative lifetime gives an already expired token).
- ``GET /public-key`` the trusted RSA public key (PEM).
- ``GET /counters`` how often each protected piece of code ran;
  ``POST /counters/reset`` zeroes them. Security tests assert that refused
  requests never moved a counter.
- ``/hubs/secure`` ``SecureHub`` (any authenticated user; method rules inside).
- ``/hubs/admin`` ``AdminHub`` (role ``Admin`` required to connect).
- ``/hubs/expiring`` ``SecureHub``'s sibling with ``close_on_authentication_expiration``.
- ``/hubs/open`` ``OpenHub`` (anonymous allowed, one protected method).
- ``GET /health``.
"""

from __future__ import annotations

import json
import secrets
import time
from collections import Counter
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from signalr_server.app import SignalR
from signalr_server.app.plain_http import read_body, send_json, send_response
from signalr_server.auth import JwtBearerAuthenticator, JwtBearerOptions, User
from signalr_server.connections.asgi_types import Receive, Scope, Send
from signalr_server.hubs import Hub, HubOptions
from signalr_server.hubs.authorization import AuthorizationContext, authorize

SIGNING_KEY = secrets.token_bytes(64)
_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_PUBLIC_PEM = (
    _RSA_KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)

counters: Counter[str] = Counter()


def same_tenant(user: User, context: AuthorizationContext) -> bool:
    """Policy: the first argument must be the caller's ``tenant`` claim."""
    return bool(context.arguments) and user.find_first("tenant") == context.arguments[0]


def _describe(hub: Hub) -> dict[str, Any]:
    user = hub.context.user
    return {
        "user": hub.context.user_identifier,
        "roles": sorted(user.roles) if isinstance(user, User) else [],
        "transport": hub.context.transport_name,
    }


@authorize
class SecureHub(Hub):
    async def on_connected(self) -> None:
        counters["secure.connected"] += 1

    def who_am_i(self) -> dict[str, Any]:
        counters["secure.who_am_i"] += 1
        return _describe(self)

    @authorize(roles="Admin")
    def admin_only(self) -> str:
        counters["secure.admin_only"] += 1
        return "admin secret"

    @authorize(policy=same_tenant)
    async def tenant_data(self, tenant: str) -> str:
        counters["secure.tenant_data"] += 1
        return f"data of {tenant}"

    async def notify_user(self, user_id: str, message: str) -> None:
        await self.clients.user(user_id).send("Notify", message)


@authorize(roles="Admin")
class AdminHub(Hub):
    async def on_connected(self) -> None:
        counters["admin.connected"] += 1

    def who_am_i(self) -> dict[str, Any]:
        counters["admin.who_am_i"] += 1
        return _describe(self)


@authorize
class ExpiringHub(Hub):
    def who_am_i(self) -> dict[str, Any]:
        return _describe(self)


class OpenHub(Hub):
    def who_am_i(self) -> dict[str, Any]:
        return _describe(self)

    @authorize
    def members_only(self) -> str:
        counters["open.members_only"] += 1
        return "members"


def issue_token(sub: str, roles: list[str], tenant: str | None, lifetime: float) -> str:
    now = int(time.time())
    payload: dict[str, Any] = {"sub": sub, "iat": now, "exp": now + int(lifetime)}
    if roles:
        payload["role"] = roles
    if tenant:
        payload["tenant"] = tenant
    return jwt.encode(payload, SIGNING_KEY, algorithm="HS256")


class Routes:
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # SignalR runs fine with a fallback that skips the lifespan
            return
        path, method = scope["path"], scope["method"]
        if path == "/health" and method == "GET":
            await send_response(send, 200, b"ok")
        elif path == "/public-key" and method == "GET":
            await send_response(send, 200, RSA_PUBLIC_PEM.encode())
        elif path == "/counters" and method == "GET":
            await send_json(send, 200, dict(counters))
        elif path == "/counters/reset" and method == "POST":
            counters.clear()
            await send_response(send, 204, b"")
        elif path == "/token" and method == "POST":
            try:
                body = json.loads(await read_body(receive))
                token = issue_token(
                    str(body["sub"]),
                    [str(role) for role in body.get("roles", [])],
                    body.get("tenant"),
                    float(body.get("lifetime", 60)),
                )
            except (ValueError, KeyError, TypeError):
                await send_response(send, 400, b'Expected {"sub": ...}')
                return
            await send_response(send, 200, token.encode())
        else:
            await send_response(send, 404, b"Not Found")


def create_app() -> SignalR:
    authenticator = JwtBearerAuthenticator(
        JwtBearerOptions(signing_keys=[SIGNING_KEY], public_keys=[RSA_PUBLIC_PEM])
    )
    signalr = SignalR(fallback=Routes(), authenticator=authenticator)
    signalr.map_hub("/hubs/secure", SecureHub)
    signalr.map_hub("/hubs/admin", AdminHub)
    signalr.map_hub(
        "/hubs/expiring",
        ExpiringHub,
        options=HubOptions(close_on_authentication_expiration=True),
    )
    signalr.map_hub("/hubs/open", OpenHub)
    return signalr


app = create_app()
