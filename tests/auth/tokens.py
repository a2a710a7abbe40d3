"""Keys and token makers shared by the auth tests (all generated per run)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from signalr_server.connections.context import RequestInfo

SECRET = b"s" * 64
OTHER_SECRET = b"o" * 64

RSA_PRIVATE = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_PUBLIC_PEM = (
    RSA_PRIVATE.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)
OTHER_RSA_PRIVATE = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_PRIVATE = ec.generate_private_key(ec.SECP256R1())


def claims(lifetime: float = 60.0, **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": "alice", "iat": now, "exp": now + int(lifetime), **extra}


def hs256(payload: dict[str, Any] | None = None, key: bytes = SECRET, **headers: Any) -> str:
    return jwt.encode(payload or claims(), key, algorithm="HS256", headers=headers or None)


def rs256(
    payload: dict[str, Any] | None = None, key: Any = RSA_PRIVATE, kid: str | None = None
) -> str:
    headers = {"kid": kid} if kid else None
    return jwt.encode(payload or claims(), key, algorithm="RS256", headers=headers)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hmac_signed_with(secret: bytes, payload: dict[str, Any] | None = None) -> str:
    """An HS256 token signed with any bytes, even a PEM public key (which PyJWT
    itself refuses to use as a secret): the algorithm-confusion attack."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps(payload or claims()).encode())
    signature = hmac.new(secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_b64(signature)}"


def unsigned(payload: dict[str, Any] | None = None, alg: str = "none") -> str:
    """A token with ``alg: none`` (or any header alg) and an empty signature."""
    header = _b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    body = _b64(json.dumps(payload or claims()).encode())
    return f"{header}.{body}."


def request(
    token: str | None = None, *, header: str | None = None, query: str | None = None
) -> RequestInfo:
    headers = {}
    if header is not None:
        headers["authorization"] = header
    elif token is not None:
        headers["authorization"] = f"Bearer {token}"
    params = {"access_token": [query]} if query is not None else {}
    return RequestInfo(path="/hub", headers=headers, query=params)
