"""``JwtBearerAuthenticator``: where tokens come from and every way one is refused."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from signalr_server.auth import (
    JwksError,
    JwtBearerAuthenticator,
    JwtBearerOptions,
    parse_jwks,
    token_from_request,
)

from .tokens import (
    EC_PRIVATE,
    OTHER_RSA_PRIVATE,
    OTHER_SECRET,
    RSA_PRIVATE,
    RSA_PUBLIC_PEM,
    SECRET,
    claims,
    hmac_signed_with,
    hs256,
    request,
    rs256,
    unsigned,
)

pytestmark = pytest.mark.anyio


def hmac_auth(**options: Any) -> JwtBearerAuthenticator:
    return JwtBearerAuthenticator(JwtBearerOptions(signing_keys=[SECRET], **options))


def rsa_auth(**options: Any) -> JwtBearerAuthenticator:
    return JwtBearerAuthenticator(JwtBearerOptions(public_keys=[RSA_PUBLIC_PEM], **options))


# -- where the token comes from -------------------------------------------------


@pytest.mark.parametrize("prefix", ["Bearer ", "bearer ", "BEARER  "])
def test_header_prefix_is_case_insensitive(prefix: str) -> None:
    assert token_from_request(request(header=f"{prefix}abc")) == "abc"


def test_header_wins_over_query_and_query_is_the_fallback() -> None:
    assert token_from_request(request("h", query="q")) == "h"
    assert token_from_request(request(query="q")) == "q"
    assert token_from_request(request(header="Basic dXNlcg==", query="q")) == "q"
    assert token_from_request(request(query="q"), query_parameter=None) is None
    assert token_from_request(request(header="Bearer ")) is None
    assert token_from_request(request()) is None


async def test_valid_token_in_header_or_query() -> None:
    authenticate = hmac_auth()
    token = hs256(claims(role=["Admin"]))
    for req in (request(token), request(query=token)):
        user = await authenticate(req)
        assert user is not None
        assert user.identifier == "alice"
        assert user.is_in_role("Admin")
        assert user.authentication_type == "Bearer"
        assert user.expires_at is not None


async def test_no_token_is_anonymous() -> None:
    assert await hmac_auth()(request()) is None


# -- refusals --------------------------------------------------------------------


async def test_wrong_signature() -> None:
    assert await hmac_auth()(request(hs256(key=OTHER_SECRET))) is None
    tampered = hs256()[:-2] + ("AA" if not hs256().endswith("AA") else "BB")
    assert await hmac_auth()(request(tampered)) is None


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
async def test_alg_none_is_refused(alg: str) -> None:
    assert await hmac_auth()(request(unsigned(alg=alg))) is None
    assert await hmac_auth(algorithms=["HS256"])(request(unsigned(alg=alg))) is None


def test_none_can_never_be_allowed() -> None:
    with pytest.raises(ValueError, match="none"):
        JwtBearerOptions(signing_keys=[SECRET], algorithms=["HS256", "none"])


async def test_algorithm_confusion_rsa_public_key_as_hmac_secret() -> None:
    """A token HMAC-signed with the server's *public* RSA key must not pass."""
    confused = hmac_signed_with(RSA_PUBLIC_PEM.encode())
    # RSA-only configuration: HS256 is not even an allowed algorithm.
    assert await rsa_auth()(request(confused)) is None
    # Both families allowed: HS256 is tried with the HMAC secrets only.
    both = JwtBearerAuthenticator(
        JwtBearerOptions(signing_keys=[SECRET], public_keys=[RSA_PUBLIC_PEM])
    )
    assert await both(request(confused)) is None
    assert await both(request(rs256())) is not None


def test_pem_keys_cannot_be_hmac_secrets() -> None:
    with pytest.raises(ValueError, match="public_keys"):
        JwtBearerOptions(signing_keys=[RSA_PUBLIC_PEM])


async def test_expired_token_and_leeway() -> None:
    expired = hs256(claims(lifetime=-10))
    assert await hmac_auth()(request(expired)) is None
    assert await hmac_auth(leeway=60)(request(expired)) is not None
    assert await hmac_auth(validate_lifetime=False)(request(expired)) is not None


async def test_not_yet_valid_token() -> None:
    token = hs256(claims(nbf=int(claims()["iat"]) + 3600))
    assert await hmac_auth()(request(token)) is None


async def test_exp_is_required_by_default() -> None:
    payload = claims()
    del payload["exp"]
    assert await hmac_auth()(request(hs256(payload))) is None
    assert await hmac_auth(required_claims=())(request(hs256(payload))) is not None
    assert await hmac_auth(required_claims=("exp", "nameid"))(request(hs256())) is None


async def test_issuer_and_audience() -> None:
    token = hs256(claims(iss="me", aud="api"))
    assert await hmac_auth(issuer="me", audience="api")(request(token)) is not None
    assert await hmac_auth(issuer=["x", "me"], audience=["api", "y"])(request(token)) is not None
    assert await hmac_auth(issuer="other")(request(token)) is None
    assert await hmac_auth(audience="other")(request(token)) is None
    # Not configured: not validated, even when the token has them.
    assert await hmac_auth()(request(token)) is not None


async def test_token_length_limit() -> None:
    token = hs256(claims(pad="x" * 200))
    assert await hmac_auth(max_token_length=100)(request(token)) is None
    assert await hmac_auth()(request(token)) is not None
    assert JwtBearerOptions(signing_keys=[SECRET]).max_token_length == 16384


@pytest.mark.parametrize("garbage", ["abc", "a.b.c", "....", "e30.e30.", "\x00\x01", "é.é.é"])
async def test_garbage_tokens_are_refused_quietly(garbage: str) -> None:
    assert await hmac_auth()(request(query=garbage)) is None


async def test_disallowed_algorithm() -> None:
    token = jwt.encode(claims(), SECRET, algorithm="HS512")
    assert await hmac_auth(algorithms=["HS256"])(request(token)) is None
    assert await hmac_auth()(request(token)) is not None


async def test_rsa_and_ec_public_keys() -> None:
    ec_public = EC_PRIVATE.public_key()
    auth = JwtBearerAuthenticator(JwtBearerOptions(public_keys=[RSA_PUBLIC_PEM, ec_public]))
    assert await auth(request(rs256())) is not None
    assert await auth(request(jwt.encode(claims(), EC_PRIVATE, algorithm="ES256"))) is not None
    assert await auth(request(rs256(key=OTHER_RSA_PRIVATE))) is None
    assert await auth(request(hs256())) is None  # no HMAC secret configured


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"signing_keys": [b""]},
        {"signing_keys": [SECRET], "algorithms": []},
        {"signing_keys": [SECRET], "algorithms": ["XS999"]},
        {"signing_keys": [SECRET], "leeway": -1},
        {"signing_keys": [SECRET], "max_token_length": 0},
        {"jwks_url": "file:///etc/passwd"},
        {"jwks_url": "https://x", "jwks_timeout": 0},
        {"jwks_url": "https://x", "jwks_max_bytes": 0},
        {"signing_keys": [SECRET], "extra_options": {"verify_signature": False}},
    ],
)
def test_bad_options_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        JwtBearerOptions(**options)


def test_bad_public_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="PEM"):
        JwtBearerAuthenticator(JwtBearerOptions(public_keys=["not a key"]))
    private_pem = RSA_PRIVATE.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(ValueError):
        JwtBearerAuthenticator(JwtBearerOptions(public_keys=[private_pem]))
    with pytest.raises(TypeError):
        JwtBearerAuthenticator(JwtBearerOptions(public_keys=[RSA_PRIVATE]))


# -- JWKS --------------------------------------------------------------------------


def _jwk(private_key: Any, kid: str) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key()))
    jwk.update(kid=kid, use="sig", alg="RS256")
    return jwk


class _JwksServer:
    """A local HTTP server publishing a JWKS document that tests can change."""

    def __init__(self) -> None:
        self.document: bytes = b""
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(outer.document)))
                self.end_headers()
                self.wfile.write(outer.document)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"

    def publish(self, *keys: dict[str, Any]) -> None:
        self.document = json.dumps({"keys": list(keys)}).encode()


@pytest.fixture
def jwks_server() -> Iterator[_JwksServer]:
    server = _JwksServer()
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()
        thread.join(5)


async def test_jwks_fetch_cache_and_key_rotation(jwks_server: _JwksServer) -> None:
    jwks_server.publish(_jwk(RSA_PRIVATE, "k1"))
    auth = JwtBearerAuthenticator(
        JwtBearerOptions(jwks_url=jwks_server.url, jwks_refresh_interval=0)
    )
    assert await auth(request(rs256(kid="k1"))) is not None
    assert await auth(request(rs256(kid="k1"))) is not None
    assert jwks_server.requests == 1  # cached

    # The provider rotates to a new key: an unknown kid triggers one refresh.
    jwks_server.publish(_jwk(RSA_PRIVATE, "k1"), _jwk(OTHER_RSA_PRIVATE, "k2"))
    assert await auth(request(rs256(key=OTHER_RSA_PRIVATE, kid="k2"))) is not None
    assert jwks_server.requests == 2
    # A kid the set does not have, signed by a key it does: refused.
    assert await auth(request(rs256(key=OTHER_RSA_PRIVATE, kid="k1"))) is None


async def test_jwks_unknown_kids_do_not_hammer_the_provider(jwks_server: _JwksServer) -> None:
    jwks_server.publish(_jwk(RSA_PRIVATE, "k1"))
    auth = JwtBearerAuthenticator(JwtBearerOptions(jwks_url=jwks_server.url))
    assert await auth(request(rs256(kid="k1"))) is not None
    for index in range(5):
        assert await auth(request(rs256(kid=f"forged-{index}"))) is None
    assert jwks_server.requests == 1


async def test_jwks_cache_expires(jwks_server: _JwksServer) -> None:
    jwks_server.publish(_jwk(RSA_PRIVATE, "k1"))
    auth = JwtBearerAuthenticator(
        JwtBearerOptions(jwks_url=jwks_server.url, jwks_cache_ttl=0.001, jwks_refresh_interval=0)
    )
    assert await auth(request(rs256(kid="k1"))) is not None
    jwks_server.publish()  # key withdrawn
    import anyio

    await anyio.sleep(0.01)
    assert await auth(request(rs256(kid="k1"))) is None
    assert jwks_server.requests == 2


async def test_jwks_too_large_or_unreachable(jwks_server: _JwksServer) -> None:
    jwks_server.publish(_jwk(RSA_PRIVATE, "k1"))
    auth = JwtBearerAuthenticator(JwtBearerOptions(jwks_url=jwks_server.url, jwks_max_bytes=10))
    assert await auth(request(rs256(kid="k1"))) is None
    unreachable = JwtBearerAuthenticator(
        JwtBearerOptions(jwks_url="http://127.0.0.1:9/jwks.json", jwks_timeout=1)
    )
    assert await unreachable(request(rs256(kid="k1"))) is None


async def test_jwks_never_yields_hmac_keys(jwks_server: _JwksServer) -> None:
    """An ``oct`` key in a published set must not become an HMAC secret."""
    oct_key = {"kty": "oct", "k": "c2VjcmV0" * 8, "kid": "h"}
    jwks_server.publish(oct_key)
    auth = JwtBearerAuthenticator(
        JwtBearerOptions(jwks_url=jwks_server.url, algorithms=["RS256", "HS256"])
    )
    token = jwt.encode(claims(), b"secret" * 8, algorithm="HS256", headers={"kid": "h"})
    assert await auth(request(token)) is None


def test_parse_jwks_skips_what_it_cannot_use() -> None:
    document = {
        "keys": [
            _jwk(RSA_PRIVATE, "ok"),
            {**_jwk(RSA_PRIVATE, "enc"), "use": "enc"},
            {"kty": "RSA", "n": "broken"},
            "not an object",
        ]
    }
    keys = parse_jwks(json.dumps(document))
    assert [key.kid for key in keys] == ["ok"]
    with pytest.raises(JwksError):
        parse_jwks(b"not json")
    with pytest.raises(JwksError):
        parse_jwks(b"{}")
