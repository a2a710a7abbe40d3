"""JWT bearer authentication, the scheme SignalR clients' ``accessTokenFactory`` feeds.

Where the token comes from (AUTH-1, X-3): the ``Authorization: Bearer …``
header (scheme matched case-insensitively) wherever a client can set it, or
the ``access_token`` query parameter where it cannot (browser WebSockets and
every JS Server-Sent Events request). The header wins when both are present.

How it is checked, with the attacks each rule closes:

* the algorithm must be in the allowed list, and ``none`` can never be in it
  (unsigned tokens);
* the token's algorithm family picks the key set: HMAC algorithms are only
  ever tried with the configured shared secrets, RSA/EC/EdDSA algorithms
  only with public keys of the matching type, so a token "signed" with an
  RSA public key used as an HMAC secret gets nowhere (algorithm confusion);
* signature, then ``exp``/``nbf`` (unless ``validate_lifetime`` is off),
  issuer and audience when configured, and the required claims;
* oversized tokens are refused before any parsing.

Bad tokens make ``authenticate`` return ``None`` (and log the reason at
debug level): the endpoint then answers 401 if the hub requires a user.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.to_thread
import jwt
import sniffio
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from ..connections.context import RequestInfo
from .user import User

__all__ = [
    "JwksError",
    "JwtBearerAuthenticator",
    "JwtBearerOptions",
    "parse_jwks",
    "token_from_request",
]

logger = logging.getLogger("signalr_server.auth.jwt")

_HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
_RSA_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})
_EC_ALGORITHMS = frozenset({"ES256", "ES256K", "ES384", "ES512", "ES521"})
_OKP_ALGORITHMS = frozenset({"EdDSA"})
_FAMILIES: Mapping[str, frozenset[str]] = {
    "HMAC": _HMAC_ALGORITHMS,
    "RSA": _RSA_ALGORITHMS,
    "EC": _EC_ALGORITHMS,
    "OKP": _OKP_ALGORITHMS,
}
_KNOWN_ALGORITHMS = _HMAC_ALGORITHMS | _RSA_ALGORITHMS | _EC_ALGORITHMS | _OKP_ALGORITHMS


class JwksError(Exception):
    """The JWKS document could not be fetched or understood."""


def _family_of_algorithm(algorithm: str) -> str | None:
    for family, members in _FAMILIES.items():
        if algorithm in members:
            return family
    return None


def _family_of_key(key: Any) -> str:
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "EC"
    if isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        return "OKP"
    raise TypeError(
        f"unsupported public key type {type(key).__name__}: use an RSA, EC or Ed25519/Ed448 "
        "public key (private keys are never needed to validate tokens)"
    )


def _looks_asymmetric(secret: bytes) -> bool:
    stripped = secret.lstrip()
    return stripped.startswith(b"-----BEGIN") or stripped.startswith(b"ssh-")


@dataclass(frozen=True, slots=True)
class _VerificationKey:
    key: Any
    family: str
    kid: str | None = None
    algorithm: str | None = None


def token_from_request(
    request: RequestInfo, query_parameter: str | None = "access_token"
) -> str | None:
    """The bearer token of a request: the ``Authorization`` header when it uses
    the Bearer scheme, else the query parameter (``None`` disables it)."""
    header = request.headers.get("authorization", "").strip()
    if header:
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            return credentials.strip()
    if query_parameter:
        value = request.query_value(query_parameter)
        if value:
            return value.strip() or None
    return None


@dataclass(frozen=True, kw_only=True)
class JwtBearerOptions:
    """How bearer tokens are found and validated.

    At least one key source is required: ``signing_keys`` (shared HMAC
    secrets), ``public_keys`` (PEM text or ``cryptography`` public key
    objects) or ``jwks_url`` (an identity provider's key set, fetched and
    cached). ``algorithms`` defaults to what the configured keys can verify.
    """

    signing_keys: Sequence[str | bytes] = ()
    """Shared secrets for HS256/HS384/HS512. Never a PEM key (rejected)."""
    public_keys: Sequence[str | bytes | Any] = ()
    """RSA, EC or EdDSA public keys, as PEM or as ``cryptography`` key objects."""
    jwks_url: str | None = None
    """``https://…/.well-known/jwks.json``: asymmetric keys, matched by ``kid``."""
    algorithms: Sequence[str] | None = None
    """Accepted ``alg`` values; ``None`` means every algorithm the keys support.
    ``none`` is refused."""
    issuer: str | Sequence[str] | None = None
    """Required ``iss`` (any of several); ``None`` skips the check."""
    audience: str | Sequence[str] | None = None
    """Required ``aud`` (any of several); ``None`` skips the check."""
    validate_lifetime: bool = True
    """Check ``exp`` and ``nbf``."""
    leeway: float = 0.0
    """Seconds of clock skew tolerated on ``exp``/``nbf``. The reference defaults
    to 300; 0 here, so a token expires when it says it does."""
    required_claims: Sequence[str] = ("exp",)
    """Claims a token must carry (the reference requires an expiration time)."""
    query_parameter: str | None = "access_token"
    """Query key that may carry the token (browsers' WebSockets and SSE); ``None``
    accepts the header only."""
    max_token_length: int = 16384
    """Longer tokens are refused without being parsed."""
    jwks_cache_ttl: float = 600.0
    """How long a fetched key set is used before it is fetched again."""
    jwks_refresh_interval: float = 30.0
    """Minimum time between fetches triggered by an unknown ``kid`` or a failure,
    so forged ``kid`` values cannot make us hammer the identity provider."""
    jwks_timeout: float = 5.0
    """Timeout of one JWKS request."""
    jwks_max_bytes: int = 1_048_576
    """Largest JWKS document accepted."""
    authentication_type: str = "Bearer"
    """Recorded on the ``User`` (``authentication_type``)."""
    extra_options: Mapping[str, Any] = field(default_factory=dict)
    """Further PyJWT ``options`` (e.g. ``{"verify_iat": False}``); cannot turn
    off signature verification."""

    def __post_init__(self) -> None:
        if not (self.signing_keys or self.public_keys or self.jwks_url):
            raise ValueError("JwtBearerOptions needs signing_keys, public_keys or jwks_url")
        for secret in self.signing_keys:
            raw = secret.encode() if isinstance(secret, str) else secret
            if not raw:
                raise ValueError("an HMAC signing key must not be empty")
            if _looks_asymmetric(raw):
                raise ValueError(
                    "signing_keys holds shared HMAC secrets; pass PEM public keys in public_keys"
                )
        if self.algorithms is not None:
            if not self.algorithms:
                raise ValueError("algorithms must not be empty")
            for algorithm in self.algorithms:
                if algorithm.lower() == "none":
                    raise ValueError("the 'none' algorithm accepts unsigned tokens and is refused")
                if algorithm not in _KNOWN_ALGORITHMS:
                    raise ValueError(f"unknown JWT algorithm {algorithm!r}")
        if self.jwks_url is not None and not self.jwks_url.lower().startswith(
            ("https://", "http://")
        ):
            raise ValueError("jwks_url must be an http(s) URL")
        if self.leeway < 0:
            raise ValueError("leeway must not be negative")
        if self.max_token_length < 1:
            raise ValueError("max_token_length must be positive")
        if self.jwks_cache_ttl <= 0 or self.jwks_refresh_interval < 0 or self.jwks_timeout <= 0:
            raise ValueError("JWKS times must be positive")
        if self.jwks_max_bytes < 1:
            raise ValueError("jwks_max_bytes must be positive")
        if self.extra_options.get("verify_signature") is False:
            raise ValueError("signature verification cannot be turned off")


def _load_public_key(value: str | bytes | Any) -> _VerificationKey:
    if isinstance(value, str | bytes):
        raw = value.encode() if isinstance(value, str) else value
        try:
            key = load_pem_public_key(raw)
        except ValueError as exc:
            raise ValueError(f"public_keys entry is not a PEM public key: {exc}") from exc
    elif isinstance(value, jwt.PyJWK):
        return _VerificationKey(value.key, _family_of_key(value.key), value.key_id)
    else:
        key = value
    return _VerificationKey(key, _family_of_key(key))


class JwtBearerAuthenticator:
    """An ``Authenticator`` for JWT bearer tokens; see the module docstring.

    One instance may serve many endpoints; its JWKS cache is shared by them.
    """

    def __init__(self, options: JwtBearerOptions) -> None:
        self.options = options
        self._static_keys: list[_VerificationKey] = [
            _VerificationKey(secret.encode() if isinstance(secret, str) else secret, "HMAC")
            for secret in options.signing_keys
        ]
        self._static_keys.extend(_load_public_key(value) for value in options.public_keys)
        if options.algorithms is not None:
            self.algorithms = frozenset(options.algorithms)
        else:
            families = {key.family for key in self._static_keys}
            if options.jwks_url:
                families |= {"RSA", "EC", "OKP"}
            self.algorithms = frozenset().union(*(_FAMILIES[family] for family in families))
        self._jwks_keys: tuple[_VerificationKey, ...] = ()
        self._jwks_fetched_at: float | None = None
        self._jwks_attempted_at: float | None = None
        self._locks: dict[str, anyio.Lock] = {}
        require = list(options.required_claims)
        self._decode_options: dict[str, Any] = {
            **options.extra_options,
            "verify_signature": True,
            "require": require,
            "verify_exp": options.validate_lifetime,
            "verify_nbf": options.validate_lifetime,
            "verify_aud": options.audience is not None,
            "verify_iss": options.issuer is not None,
        }

    async def __call__(self, request: RequestInfo) -> User | None:
        token = token_from_request(request, self.options.query_parameter)
        if token is None:
            return None
        return await self.validate(token)

    async def validate(self, token: str) -> User | None:
        """The user a token stands for, or ``None`` if it is not acceptable."""
        if len(token) > self.options.max_token_length:
            logger.debug("Rejected a bearer token of %d characters", len(token))
            return None
        try:
            header = jwt.get_unverified_header(token)
        except Exception as exc:
            logger.debug("Rejected a malformed bearer token: %s", exc)
            return None
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in self.algorithms:
            logger.debug("Rejected a bearer token with algorithm %r", algorithm)
            return None
        family = _family_of_algorithm(algorithm)
        kid = header.get("kid") if isinstance(header.get("kid"), str) else None
        for key in await self._candidate_keys(family, algorithm, kid):
            try:
                payload = jwt.decode(
                    token,
                    key.key,
                    algorithms=[algorithm],
                    options=self._decode_options,  # type: ignore[arg-type]
                    audience=self.options.audience,
                    issuer=self.options.issuer,
                    leeway=self.options.leeway,
                )
            except jwt.InvalidSignatureError:
                continue
            except Exception as exc:
                logger.debug("Rejected a bearer token: %s: %s", type(exc).__name__, exc)
                return None
            return User.from_claims(payload, authentication_type=self.options.authentication_type)
        logger.debug("Rejected a bearer token: no key verifies its signature")
        return None

    # -- keys ------------------------------------------------------------------

    def _matching(
        self, keys: Sequence[_VerificationKey], family: str | None, algorithm: str, kid: str | None
    ) -> list[_VerificationKey]:
        found = [
            key
            for key in keys
            if key.family == family and (key.algorithm is None or key.algorithm == algorithm)
        ]
        if kid is not None and any(key.kid is not None for key in found):
            with_kid = [key for key in found if key.kid == kid]
            return with_kid
        return found

    async def _candidate_keys(
        self, family: str | None, algorithm: str, kid: str | None
    ) -> list[_VerificationKey]:
        candidates = self._matching(self._static_keys, family, algorithm, kid)
        if self.options.jwks_url is None or family == "HMAC":
            return candidates
        now = time.monotonic()
        stale = (
            self._jwks_fetched_at is None
            or now - self._jwks_fetched_at >= self.options.jwks_cache_ttl
        )
        remote = self._matching(self._jwks_keys, family, algorithm, kid)
        if stale or (not remote and kid is not None):
            await self._refresh_jwks()
            remote = self._matching(self._jwks_keys, family, algorithm, kid)
        return candidates + remote

    def _lock(self) -> anyio.Lock:
        # One lock per async library, so an instance shared by asyncio and trio
        # event loops (tests) never touches a lock from the other.
        library = sniffio.current_async_library()
        lock = self._locks.get(library)
        if lock is None:
            lock = self._locks[library] = anyio.Lock()
        return lock

    async def _refresh_jwks(self) -> None:
        async with self._lock():
            now = time.monotonic()
            attempted = self._jwks_attempted_at
            if attempted is not None and now - attempted < self.options.jwks_refresh_interval:
                return  # fetched (or failed) moments ago: don't hammer the provider
            self._jwks_attempted_at = now
            try:
                keys = await anyio.to_thread.run_sync(self._fetch_jwks)
            except Exception as exc:
                logger.warning("Could not refresh the JWKS from %s: %s", self.options.jwks_url, exc)
                return
            self._jwks_keys = keys
            self._jwks_fetched_at = time.monotonic()

    def _fetch_jwks(self) -> tuple[_VerificationKey, ...]:
        """Blocking: runs in a worker thread."""
        url = self.options.jwks_url
        assert url is not None
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=self.options.jwks_timeout) as response:
            body = response.read(self.options.jwks_max_bytes + 1)
        if len(body) > self.options.jwks_max_bytes:
            raise JwksError(f"JWKS document larger than {self.options.jwks_max_bytes} bytes")
        return parse_jwks(body)


def parse_jwks(body: bytes | str) -> tuple[_VerificationKey, ...]:
    """The usable signature keys of a JWKS document.

    Symmetric (``oct``) keys are ignored: a key set published over HTTP must
    never become an HMAC secret. Keys marked for encryption only are ignored
    too, as are keys PyJWT cannot load.
    """
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise JwksError(f"JWKS is not JSON: {exc}") from exc
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise JwksError("JWKS has no 'keys' array")
    keys: list[_VerificationKey] = []
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("kty") not in ("RSA", "EC", "OKP"):
            continue
        if entry.get("use") not in (None, "sig"):
            continue
        try:
            jwk = jwt.PyJWK(entry)
            family = _family_of_key(jwk.key)
        except Exception as exc:
            logger.debug("Skipped a JWKS key: %s", exc)
            continue
        algorithm = entry.get("alg") if isinstance(entry.get("alg"), str) else None
        keys.append(_VerificationKey(jwk.key, family, jwk.key_id, algorithm))
    return tuple(keys)
