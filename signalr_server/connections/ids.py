"""Connection ids and tokens (NEG-15).

The id is public (hubs and other clients may see it); the token is the secret
that authorizes transport requests, so the two are drawn independently.
"""

from __future__ import annotations

import base64
import secrets

__all__ = ["new_connection_id", "new_id_and_token"]


def new_connection_id() -> str:
    """16 random bytes as base64url without padding: 22 URL-safe characters,
    so clients can append it to a query string without escaping."""
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode("ascii")


def new_id_and_token() -> tuple[str, str]:
    return new_connection_id(), new_connection_id()
