"""The reference functional-test app, for running the official clients' own tests.

ASP.NET Core tests its JavaScript and .NET clients against a small app
(dotnet/aspnetcore, ``src/SignalR/clients/ts/FunctionalTests/Startup.cs``).
``create_test_app()`` serves the same routes with the same answers, so those
tests, or tests written the same way, can run against this server instead:

    signalr-server testapp --port 5000

Routes (paths match case-insensitively, like ASP.NET routing):

- ``/testhub`` ``TestHub`` on every transport; ``/testhub-nowebsockets`` the same
  hub on Server-Sent Events and Long Polling only (one hub context for both).
- ``/authorizedhub`` ``HubWithAuthorization``; needs a token from ``/generateJwtToken``
  (``Authorization: Bearer`` or the ``access_token`` query value), else 401.
- ``/uncreatable`` a hub that can never be activated.
- ``/echo`` a raw connection echoing bytes (also as a plain WebSocket).
- ``GET /generateJwtToken`` an HS256 token, 5 s lifetime, claim ``nameid=testuser``.
- ``GET /clientresult/{connectionId}`` asks that ``TestHub`` client for ``Result``.
- ``/redirect…`` a negotiate redirect to ``{baseUrl}/testHub?numRedirects={n}``.
- ``/echoredirect…`` 307 to the same path under ``/echo``.
- ``/bad-negotiate…`` 400 with a body.
- ``GET /deployment`` what is running (JSON); handy as a readiness probe.

Every request under a path containing ``/negotiate`` gets the test cookies,
and every request with an ``Origin`` gets permissive CORS answers. Both are
test conveniences that no production app should copy.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import itertools
import json
import secrets
import time
from collections.abc import Mapping
from urllib.parse import parse_qs

import jwt

from .. import __version__
from ..auth.jwt_bearer import JwtBearerAuthenticator, JwtBearerOptions
from ..connections.asgi_types import Receive, Scope, Send
from ..connections.cors import with_headers
from ..connections.options import HttpTransportType
from ..connections.responses import send_response
from ..hubs import HubContext, HubOptions, InMemoryHubLifetimeManager
from .asgi import SignalR
from .testapp_hubs import (
    NAME_IDENTIFIER,
    HubWithAuthorization,
    TestHub,
    UncreatableHub,
    echo_connection_handler,
)

__all__ = [
    "JWT_ALGORITHM",
    "JWT_CLOCK_SKEW",
    "JWT_LIFETIME",
    "TestApp",
    "create_test_app",
]

JWT_ALGORITHM = "HS256"
JWT_LIFETIME = 5.0
"""Seconds a token from ``/generateJwtToken`` is valid (the reference's value)."""
JWT_CLOCK_SKEW = 300.0
"""Leeway on ``exp``: ASP.NET's JWT validation allows 5 minutes by default, so a
token is refused only that long after it expired."""
JWT_ISSUER = "SignalRTestServer"
JWT_AUDIENCE = "SignalRTests"
TEST_USER = "testuser"

CLIENT_RESULT_TIMEOUT = 30.0
"""How long ``/clientresult`` waits for the client's answer before giving up."""

_TEXT = b"text/plain; charset=utf-8"
_JSON = b"application/json; charset=utf-8"
_BAD_NEGOTIATE_BODY = b"Some response from server"


def _segment_prefix(path: str, segment: str) -> bool:
    """ASP.NET's ``StartsWithSegments``: ``/redirect`` matches ``/Redirect/x``
    but not ``/redirects``."""
    lowered = path.lower()
    return lowered == segment or lowered.startswith(segment + "/")


def _headers(scope: Scope) -> dict[str, str]:
    return {
        name.decode("latin-1").lower(): value.decode("latin-1")
        for name, value in scope.get("headers", ())
    }


def _query(scope: Scope) -> dict[str, list[str]]:
    raw: bytes = scope.get("query_string", b"")
    return parse_qs(raw.decode("latin-1"), keep_blank_values=True)


def _cors_headers(headers: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
    """Echo whatever the browser asks for. Fine for a test server only: any
    origin may then make credentialed requests."""
    origin = headers.get("origin")
    if not origin:
        return []
    answer = [
        (b"access-control-allow-origin", origin.encode("latin-1")),
        (b"access-control-allow-credentials", b"true"),
    ]
    method = headers.get("access-control-request-method")
    if method:
        answer.append((b"access-control-allow-methods", method.encode("latin-1")))
    requested = headers.get("access-control-request-headers")
    if requested:
        answer.append((b"access-control-allow-headers", requested.encode("latin-1")))
    return answer


def _negotiate_cookies(secure: bool) -> list[tuple[bytes, bytes]]:
    """``testCookie``/``testCookie2`` to keep, and ``expiredCookie`` already expired,
    which a client must not send back."""
    attributes = "; path=/"
    if secure:  # browsers only send cross-site cookies like these over HTTPS
        attributes += "; secure; samesite=none; partitioned"
    expired = email.utils.format_datetime(dt.datetime.now(dt.UTC) - dt.timedelta(hours=1), True)
    cookies = (
        f"testCookie=testValue{attributes}",
        f"testCookie2=testValue2{attributes}",
        f"expiredCookie=doesntmatter; expires={expired}{attributes}",
    )
    return [(b"set-cookie", cookie.encode("latin-1")) for cookie in cookies]


class TestApp:
    """ASGI app of the functional-test routes in front of a ``SignalR`` app.

    ``signalr`` serves the hubs and the echo connection; ``test_hub`` is the
    hub context shared by ``/testhub`` and ``/testhub-nowebsockets``.
    ``signing_key`` signs and checks the test JWTs (random per instance, so a
    restarted server refuses old tokens, like the reference).
    """

    __test__ = False  # not a pytest test class

    def __init__(self, *, signing_key: bytes | None = None) -> None:
        self.signing_key = signing_key if signing_key is not None else secrets.token_bytes(32)
        self._redirects = itertools.count(1)
        options = HubOptions(enable_detailed_errors=True)
        test_hubs = InMemoryHubLifetimeManager()

        signalr = SignalR()
        signalr.map_hub("/testhub", TestHub, options=options, lifetime_manager=test_hubs)
        signalr.map_hub(
            "/testhub-nowebsockets",
            _NoWebSocketsTestHub,
            options=options,
            lifetime_manager=test_hubs,
            transports=HttpTransportType.ServerSentEvents | HttpTransportType.LongPolling,
        )
        signalr.map_hub("/uncreatable", UncreatableHub, options=options)
        # The reference's JWT bearer setup: HS256 with this instance's key, the
        # lifetime (with its clock skew) and signature checked, issuer and
        # audience not; the hub itself requires a name identifier claim.
        jwt_bearer = JwtBearerAuthenticator(
            JwtBearerOptions(
                signing_keys=[self.signing_key],
                algorithms=[JWT_ALGORITHM],
                leeway=JWT_CLOCK_SKEW,
            )
        )
        signalr.map_hub(
            "/authorizedhub", HubWithAuthorization, options=options, authenticator=jwt_bearer
        )
        signalr.map_connection("/echo", echo_connection_handler)
        self.signalr = signalr
        self.test_hub: HubContext = signalr.hub_context(TestHub)

    # -- tokens ----------------------------------------------------------------

    def generate_jwt_token(self) -> str:
        """A token for ``/authorizedhub``: ``nameid=testuser``, valid ``JWT_LIFETIME`` s."""
        now = int(time.time())
        claims = {
            NAME_IDENTIFIER: TEST_USER,
            "iss": JWT_ISSUER,
            "aud": JWT_AUDIENCE,
            "exp": now + int(JWT_LIFETIME),
        }
        return jwt.encode(claims, self.signing_key, algorithm=JWT_ALGORITHM)

    # -- ASGI ------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        else:  # WebSockets and the lifespan need none of the test routes
            await self.signalr(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        method: str = scope.get("method", "GET").upper()
        headers = _headers(scope)

        # Middleware in the reference's order: CORS, the two redirects, the
        # negotiate cookies, the bad negotiate; then the endpoints.
        send = with_headers(send, _cors_headers(headers))
        if method == "OPTIONS":
            await send_response(send, 204, content_type=None)
            return
        if _segment_prefix(path, "/echoredirect"):
            await self._echo_redirect(scope, send)
            return
        if _segment_prefix(path, "/redirect"):
            await self._redirect(scope, send)
            return
        if "/negotiate" in path:
            send = with_headers(send, _negotiate_cookies(scope.get("scheme") == "https"))
        if _segment_prefix(path, "/bad-negotiate"):
            await send_response(send, 400, _BAD_NEGOTIATE_BODY, content_type=_TEXT)
            return

        lowered = path.lower().rstrip("/")
        if lowered == "/generatejwttoken":
            if await self._only(method, "GET", send):
                token = self.generate_jwt_token().encode()
                await send_response(send, 200, token, content_type=_TEXT)
            return
        if lowered.startswith("/clientresult/") and "/" not in lowered[len("/clientresult/") :]:
            if await self._only(method, "GET", send):
                connection_id = path.rstrip("/")[len("/clientresult/") :]
                text = await self.client_result(connection_id)
                await send_response(send, 200, text.encode("utf-8"), content_type=_TEXT)
            return
        if lowered == "/deployment":
            if await self._only(method, "GET", send):
                body = {"Server": "signalr-server", "Version": __version__}
                await send_response(send, 200, json.dumps(body).encode(), content_type=_JSON)
            return
        await self.signalr(scope, receive, send)

    @staticmethod
    async def _only(method: str, allowed: str, send: Send) -> bool:
        if method == allowed:
            return True
        await send_response(send, 405, content_type=None, headers=[(b"allow", allowed.encode())])
        return False

    async def _echo_redirect(self, scope: Scope, send: Send) -> None:
        """307 (method and body kept) to the same path with ``echoredirect`` → ``echo``.

        The first segment is replaced whatever its case (the reference replaces
        only the lower-case spelling, so ``/EchoRedirect`` would loop).
        """
        path: str = scope.get("path", "")
        location = "/echo" + path[len("/echoredirect") :]
        query: bytes = scope.get("query_string", b"")
        if query:
            location += "?" + query.decode("latin-1")
        await send_response(
            send, 307, content_type=None, headers=[(b"location", location.encode("latin-1"))]
        )

    async def _redirect(self, scope: Scope, send: Send) -> None:
        """A negotiate redirect (NEG-10) to ``{baseUrl}/testHub?numRedirects={n}``.

        ``n`` counts every redirect this app has answered, so a client that
        reconnects through the redirect sees a larger number.
        """
        base_url = (_query(scope).get("baseUrl") or [""])[0]
        url = f"{base_url}/testHub?numRedirects={next(self._redirects)}"
        body = f"{{ {json.dumps('url')}: {json.dumps(url)} }}".encode()
        await send_response(send, 200, body, content_type=_JSON)

    # -- client results --------------------------------------------------------

    async def client_result(self, connection_id: str) -> str:
        """Invoke ``Result`` on a ``TestHub`` client and return its answer as text.

        An integer result is written in decimal; any failure (the client's
        error, an unknown connection, a result that is not an integer, no
        answer within ``CLIENT_RESULT_TIMEOUT``) is returned as its message,
        as the reference route does.
        """
        proxy = self.test_hub.clients.client(connection_id)
        try:
            result = await proxy.invoke("Result", timeout=CLIENT_RESULT_TIMEOUT, result_type=int)
        except TimeoutError:
            return f"Connection '{connection_id}' did not answer within {CLIENT_RESULT_TIMEOUT} s."
        except Exception as exc:
            return str(exc)
        return str(result)


class _NoWebSocketsTestHub(TestHub):
    """``TestHub`` again, for the SSE/Long Polling-only path.

    A hub class is mapped once, so the second path gets a subclass; both
    share one lifetime manager, which makes ``TestApp.test_hub`` reach the
    clients of either path, like the reference's single ``IHubContext<TestHub>``.
    """


def create_test_app(*, signing_key: bytes | None = None) -> TestApp:
    """The functional-test app, ready to serve (``signalr-server testapp``)."""
    return TestApp(signing_key=signing_key)
