"""The authenticated user: a typed, read-only set of claims.

Modelled on .NET's ``ClaimsPrincipal`` because hubs written for ASP.NET Core
ask the same questions (``FindFirst(ClaimTypes.NameIdentifier)``,
``IsInRole``), but kept to one identity: every authenticator here produces
exactly one. JWT payloads keep their short claim names (``sub``, ``nameid``,
``role``); look-ups by the long .NET claim-type URIs find them too, so code
ported from C# and code written against the JWT payload both work.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["Claim", "ClaimTypes", "User"]


class ClaimTypes:
    """The .NET claim-type URIs SignalR code most often uses, with their JWT names."""

    NAME_IDENTIFIER = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier"
    NAME = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
    ROLE = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"
    EMAIL = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"

    ALIASES: Mapping[str, tuple[str, ...]] = {
        NAME_IDENTIFIER: (NAME_IDENTIFIER, "nameid", "sub"),
        NAME: (NAME, "unique_name", "name"),
        ROLE: (ROLE, "role", "roles"),
        EMAIL: (EMAIL, "email"),
    }
    """Claim types a look-up by the key also accepts, in the order they are tried.
    Mirrors the JWT handler's inbound claim map in ASP.NET Core."""


@dataclass(frozen=True, slots=True)
class Claim:
    """One statement about the user, e.g. ``Claim("role", "Admin")``."""

    type: str
    value: str


def _claim_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


class User:
    """Who is on the other end of a connection, as an authenticator established it.

    ``authentication_type`` names the scheme that vouched for the user
    (``"Bearer"``, ``"Cookies"`` …); a user without one is anonymous, like a
    ``ClaimsIdentity`` without an authentication type. ``expires_at`` is when
    the credential stops being valid (the JWT ``exp``), used by
    ``HubOptions.close_on_authentication_expiration``.
    """

    __slots__ = ("_claims", "authentication_type", "expires_at")

    def __init__(
        self,
        claims: Iterable[Claim | tuple[str, str]] = (),
        *,
        authentication_type: str | None = None,
        expires_at: datetime | None = None,
    ) -> None:
        self._claims: tuple[Claim, ...] = tuple(
            claim if isinstance(claim, Claim) else Claim(str(claim[0]), str(claim[1]))
            for claim in claims
        )
        self.authentication_type = authentication_type or None
        if expires_at is not None and expires_at.tzinfo is None:
            raise ValueError("expires_at must be timezone-aware")
        self.expires_at = expires_at

    # -- construction ----------------------------------------------------------

    @classmethod
    def anonymous(cls) -> User:
        """A user nobody vouched for (``is_authenticated`` is False)."""
        return cls()

    @classmethod
    def from_claims(
        cls,
        claims: Mapping[str, Any],
        *,
        authentication_type: str | None = "Bearer",
        expires_at: datetime | None = None,
    ) -> User:
        """Build a user from a JWT-style payload: one claim per value, lists
        flattened (``{"role": ["a", "b"]}`` gives two role claims), other
        non-string values as their JSON text. ``expires_at`` defaults to the
        payload's ``exp``."""
        flat: list[Claim] = []
        for claim_type, value in claims.items():
            values = value if isinstance(value, list | tuple) else (value,)
            flat.extend(
                Claim(claim_type, _claim_value(item)) for item in values if item is not None
            )
        if expires_at is None:
            exp = claims.get("exp")
            if isinstance(exp, int | float) and not isinstance(exp, bool):
                expires_at = datetime.fromtimestamp(exp, UTC)
        return cls(flat, authentication_type=authentication_type, expires_at=expires_at)

    # -- queries ---------------------------------------------------------------

    @property
    def claims(self) -> tuple[Claim, ...]:
        return self._claims

    @property
    def is_authenticated(self) -> bool:
        return self.authentication_type is not None

    def _types(self, claim_type: str) -> tuple[str, ...]:
        return ClaimTypes.ALIASES.get(claim_type, (claim_type,))

    def find_all(self, claim_type: str) -> list[str]:
        """Every value of ``claim_type`` (or of its aliases, see ``ClaimTypes.ALIASES``)."""
        types = self._types(claim_type)
        return [claim.value for name in types for claim in self._claims if claim.type == name]

    def find_first(self, claim_type: str) -> str | None:
        """The first value of ``claim_type`` or an alias of it; ``None`` if absent."""
        values = self.find_all(claim_type)
        return values[0] if values else None

    def has_claim(self, claim_type: str, value: str | None = None) -> bool:
        """Whether the claim is present (with ``value``, when given)."""
        values = self.find_all(claim_type)
        return bool(values) if value is None else value in values

    @property
    def name(self) -> str | None:
        """The display name (``unique_name`` / ``name`` / the .NET Name claim)."""
        return self.find_first(ClaimTypes.NAME)

    @property
    def identifier(self) -> str | None:
        """The default user id for ``clients.user(...)``: ``sub``, then ``nameid``,
        then the .NET NameIdentifier claim."""
        for claim_type in ("sub", "nameid", ClaimTypes.NAME_IDENTIFIER):
            for claim in self._claims:
                if claim.type == claim_type and claim.value:
                    return claim.value
        return None

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(self.find_all(ClaimTypes.ROLE))

    def is_in_role(self, role: str) -> bool:
        """Exact, case-sensitive match, as ``ClaimsPrincipal.IsInRole`` does."""
        return role in self.roles

    def is_expired(self, now: datetime | None = None) -> bool:
        if self.expires_at is None:
            return False
        return (now or datetime.now(UTC)) >= self.expires_at

    def __iter__(self) -> Iterator[Claim]:
        return iter(self._claims)

    def __repr__(self) -> str:
        return (
            f"User(identifier={self.identifier!r}, authentication_type="
            f"{self.authentication_type!r}, claims={len(self._claims)})"
        )
