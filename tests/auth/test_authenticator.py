"""Authenticator helpers: sync functions, chains, and the host framework's user."""

from __future__ import annotations

from typing import Any

import pytest

from signalr_server.auth import (
    User,
    chain_authenticators,
    scope_user_authenticator,
    sync_authenticator,
    to_authenticator,
)
from signalr_server.connections.context import RequestInfo

pytestmark = pytest.mark.anyio

API_KEYS = {"k1": "alice"}


def by_api_key(request: RequestInfo) -> User | None:
    user_id = API_KEYS.get(request.headers.get("x-api-key", ""))
    return None if user_id is None else User([("sub", user_id)], authentication_type="ApiKey")


def _request(
    headers: dict[str, str] | None = None, scope: dict[str, Any] | None = None
) -> RequestInfo:
    return RequestInfo(path="/hub", headers=headers or {}, query={}, scope=scope or {})


async def test_sync_authenticator_wraps_a_function() -> None:
    authenticate = sync_authenticator(by_api_key)
    user = await authenticate(_request({"x-api-key": "k1"}))
    assert user is not None and user.identifier == "alice"
    assert await authenticate(_request({"x-api-key": "nope"})) is None


async def test_to_authenticator_accepts_sync_and_async() -> None:
    async def async_key(request: RequestInfo) -> User | None:
        return by_api_key(request)

    for function in (by_api_key, async_key):
        user = await to_authenticator(function)(_request({"x-api-key": "k1"}))
        assert user is not None and user.identifier == "alice"


async def test_chain_takes_the_first_authenticated_user() -> None:
    async def anonymous(request: RequestInfo) -> User | None:
        return User.anonymous()

    async def never(request: RequestInfo) -> User | None:
        return None

    chained = chain_authenticators(never, anonymous, sync_authenticator(by_api_key))
    user = await chained(_request({"x-api-key": "k1"}))
    assert user is not None and user.authentication_type == "ApiKey"
    assert await chained(_request()) is None
    with pytest.raises(ValueError):
        chain_authenticators()


class _StarletteUser:
    is_authenticated = True
    display_name = "Alice A."
    identity = "alice"


class _Credentials:
    scopes = ("authenticated", "admin")


async def test_scope_user_from_starlette() -> None:
    authenticate = scope_user_authenticator()
    user = await authenticate(_request(scope={"user": _StarletteUser(), "auth": _Credentials()}))
    assert user is not None
    assert user.identifier == "alice"
    assert user.name == "Alice A."
    assert user.roles == {"authenticated", "admin"}
    assert user.authentication_type == "Starlette"


async def test_scope_user_anonymous_or_missing_is_none() -> None:
    class Unauthenticated:
        is_authenticated = False

    authenticate = scope_user_authenticator()
    assert await authenticate(_request(scope={"user": Unauthenticated()})) is None
    assert await authenticate(_request(scope={})) is None
    assert await authenticate(_request(scope={"user": User.anonymous()})) is None
    ours = User([("sub", "z")], authentication_type="Mine")
    assert await authenticate(_request(scope={"user": ours})) is ours
