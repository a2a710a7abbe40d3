"""``User``: claims, aliases between JWT names and .NET claim types, roles, expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from signalr_server.auth import Claim, ClaimTypes, User


def test_from_claims_flattens_lists_and_keeps_types() -> None:
    user = User.from_claims({"sub": "u1", "role": ["Admin", "Ops"], "n": 3, "flag": True})
    assert user.is_authenticated
    assert user.authentication_type == "Bearer"
    assert user.roles == frozenset({"Admin", "Ops"})
    assert user.find_first("n") == "3"
    assert user.find_first("flag") == "true"
    assert Claim("role", "Ops") in user.claims


def test_expiry_comes_from_exp() -> None:
    user = User.from_claims({"sub": "u1", "exp": 2_000_000_000})
    assert user.expires_at == datetime.fromtimestamp(2_000_000_000, UTC)
    assert not user.is_expired()
    assert user.is_expired(datetime.fromtimestamp(2_000_000_001, UTC))
    assert not User.from_claims({"sub": "x"}).is_expired()


def test_naive_expiry_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        User([], authentication_type="x", expires_at=datetime(2030, 1, 1))


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"sub": "s", "nameid": "n"}, "s"),
        ({"nameid": "n"}, "n"),
        ({ClaimTypes.NAME_IDENTIFIER: "uri"}, "uri"),
        ({"name": "only a name"}, None),
    ],
)
def test_identifier_is_sub_then_nameid_then_dotnet_claim(
    claims: dict[str, str], expected: str | None
) -> None:
    assert User.from_claims(claims).identifier == expected


def test_dotnet_claim_types_find_jwt_names() -> None:
    user = User.from_claims({"nameid": "n1", "unique_name": "Alice", "role": "Admin"})
    assert user.find_first(ClaimTypes.NAME_IDENTIFIER) == "n1"
    assert user.name == "Alice"
    assert user.find_all(ClaimTypes.ROLE) == ["Admin"]
    assert user.is_in_role("Admin")
    assert not user.is_in_role("admin")  # case-sensitive like IsInRole
    assert user.has_claim("role", "Admin")
    assert not user.has_claim("role", "Ops")
    assert not user.has_claim("missing")


def test_anonymous_user() -> None:
    user = User.anonymous()
    assert not user.is_authenticated
    assert user.identifier is None
    assert user.roles == frozenset()
    assert list(user) == []
    assert "identifier=None" in repr(user)


def test_tuples_become_claims() -> None:
    user = User([("sub", "t")], authentication_type="Custom", expires_at=datetime.now(UTC))
    assert user.identifier == "t"
    assert user.is_expired(datetime.now(UTC) + timedelta(seconds=1))
