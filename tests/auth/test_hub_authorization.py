"""``@authorize`` on hub classes and methods, enforced by the hub handler.

Every refusal test also checks that the protected code never ran.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import pytest

from signalr_server.auth import User
from signalr_server.connections.context import RequestInfo
from signalr_server.hubs import Hub, HubConnectionHandler, HubOptions
from signalr_server.hubs.authorization import (
    AuthorizationContext,
    authorize,
    hub_rules,
    is_authorized,
    method_rules,
)
from signalr_server.protocol.messages import (
    CloseMessage,
    CompletionMessage,
    InvocationMessage,
    StreamInvocationMessage,
)
from tests.hubs.fakes import FakeConnection, TestClient, connected

pytestmark = pytest.mark.anyio

ran: list[str] = []


def alice(*roles: str, expires_in: float | None = None, **extra: str) -> User:
    expires = None if expires_in is None else datetime.now(UTC) + timedelta(seconds=expires_in)
    claims: list[tuple[str, str]] = [("sub", "alice"), *(("role", role) for role in roles)]
    claims.extend(extra.items())
    return User(claims, authentication_type="Test", expires_at=expires)


def owns_document(user: Any, context: AuthorizationContext) -> bool:
    return bool(context.arguments) and context.arguments[0] == f"{user.identifier}-doc"


async def is_weekday_async(user: Any, context: AuthorizationContext) -> bool:
    await anyio.sleep(0)
    return context.caller is not None and context.method == "AsyncPolicy"


def exploding_policy(user: Any, context: AuthorizationContext) -> bool:
    raise RuntimeError("policy bug")


class DocumentsHub(Hub):
    def public(self) -> str:
        ran.append("public")
        return "public"

    @authorize
    def signed_in(self) -> str:
        ran.append("signed_in")
        return self.context.user.identifier  # type: ignore[no-any-return]

    @authorize(roles="Admin,Owner")
    def admin(self) -> str:
        ran.append("admin")
        return "admin"

    @authorize(claims={"scope": ["write", "admin"]})
    def write(self) -> str:
        ran.append("write")
        return "written"

    @authorize(policy=owns_document)
    def edit(self, document: str) -> str:
        ran.append("edit")
        return document

    @authorize(policy=is_weekday_async)
    async def async_policy(self) -> str:
        ran.append("async_policy")
        return "ok"

    @authorize(policy=exploding_policy)
    def exploding(self) -> str:
        ran.append("exploding")
        return "never"

    @authorize(roles="Admin")
    @authorize(claims=["tenant"])
    def stacked(self) -> str:
        ran.append("stacked")
        return "both"

    @authorize(roles="Admin")
    async def admin_stream(self) -> Any:
        ran.append("admin_stream")
        yield 1


@pytest.fixture(autouse=True)
def _reset() -> None:
    ran.clear()


def handler(**options: Any) -> HubConnectionHandler:
    return HubConnectionHandler(DocumentsHub, HubOptions(**options))


async def expect_denied(client: TestClient, target: str, *args: Any) -> None:
    completion = await client.invoke(target, *args)
    assert completion.error == f"Failed to invoke '{target}' because user is unauthorized"


async def test_anonymous_caller_gets_unauthorized_and_stays_connected() -> None:
    async with connected(handler()) as client:
        await expect_denied(client, "SignedIn")
        await expect_denied(client, "Admin")
        assert (await client.invoke("Public")).result == "public"
    assert ran == ["public"]


async def test_roles_claims_and_policies() -> None:
    connection = FakeConnection(user=alice("Owner", scope="write"))
    async with connected(handler(), connection) as client:
        assert (await client.invoke("SignedIn")).result == "alice"
        assert (await client.invoke("Admin")).result == "admin"
        assert (await client.invoke("Write")).result == "written"
        assert (await client.invoke("Edit", "alice-doc")).result == "alice-doc"
        await expect_denied(client, "Edit", "bob-doc")
        assert (await client.invoke("AsyncPolicy")).result == "ok"
        await expect_denied(client, "Exploding")
        await expect_denied(client, "Stacked")
    assert ran == ["signed_in", "admin", "write", "edit", "async_policy"]


async def test_wrong_role_and_claim_value_are_refused() -> None:
    connection = FakeConnection(user=alice("Reader", scope="read"))
    async with connected(handler(), connection) as client:
        await expect_denied(client, "Admin")
        await expect_denied(client, "Write")
    assert ran == []


async def test_stacked_rules_all_apply() -> None:
    connection = FakeConnection(user=alice("Admin", tenant="t1"))
    async with connected(handler(), connection) as client:
        assert (await client.invoke("Stacked")).result == "both"
    assert ran == ["stacked"]


async def test_non_blocking_denied_invocation_is_silent() -> None:
    async with connected(handler()) as client:
        client.send(InvocationMessage(None, "Admin", []))
        await client.no_message()
        assert (await client.invoke("Public")).result == "public"
    assert ran == ["public"]


async def test_denied_stream_gets_the_error_completion() -> None:
    async with connected(handler()) as client:
        client.send(StreamInvocationMessage("s1", "AdminStream", []))
        message = await client.next_message()
        assert isinstance(message, CompletionMessage)
        assert message.error == "Failed to invoke 'AdminStream' because user is unauthorized"
    assert ran == []


@authorize(roles="Admin")
class AdminHub(Hub):
    async def on_connected(self) -> None:
        ran.append("on_connected")

    def ping(self) -> str:
        ran.append("ping")
        return "pong"


class DerivedAdminHub(AdminHub):
    pass


async def test_class_rule_refuses_the_connection_before_anything_runs() -> None:
    for user in (None, alice("Reader")):
        connection = FakeConnection(user=user)
        with anyio.fail_after(2):
            await HubConnectionHandler(DerivedAdminHub)(connection)
        assert connection.outbound.statistics().current_buffer_used == 0  # no handshake answer
    assert ran == []


async def test_class_rule_admits_the_right_user() -> None:
    connection = FakeConnection(user=alice("Admin"))
    async with connected(HubConnectionHandler(AdminHub), connection) as client:
        assert (await client.invoke("Ping")).result == "pong"
    assert ran == ["on_connected", "ping"]


def test_rules_are_collected_and_inherited() -> None:
    assert len(hub_rules(DerivedAdminHub)) == 1
    assert hub_rules(DocumentsHub) == ()
    assert len(method_rules(DocumentsHub.stacked)) == 2
    assert method_rules(DocumentsHub.public) == ()


def test_bad_rule_arguments() -> None:
    with pytest.raises(ValueError):
        authorize(roles=" , ")
    with pytest.raises(ValueError):
        authorize(claims={"scope": []})
    with pytest.raises(TypeError):
        authorize(policy=["not callable"])  # type: ignore[list-item]


async def test_is_authorized_without_rules_admits_anonymous() -> None:
    context = AuthorizationContext(Hub, RequestInfo(path="/", headers={}, query={}))
    assert await is_authorized(None, (), context)


# -- close on authentication expiration (CLOSE-5) ------------------------------------


async def test_expiry_closes_with_allow_reconnect_when_enabled() -> None:
    connection = FakeConnection(user=alice(expires_in=0.3))
    async with connected(handler(close_on_authentication_expiration=True), connection) as client:
        message = await client.next_message(timeout=3)
        assert message == CloseMessage(None, True)


async def test_expiry_is_ignored_by_default() -> None:
    connection = FakeConnection(user=alice(expires_in=0.05))
    async with connected(handler(), connection) as client:
        await anyio.sleep(0.15)
        assert (await client.invoke("SignedIn")).result == "alice"


async def test_refreshed_user_moves_the_expiry() -> None:
    connection = FakeConnection(user=alice(expires_in=0.2))
    async with connected(handler(close_on_authentication_expiration=True), connection) as client:
        connection.user = alice(expires_in=0.6)  # as a Long Polling request with a new token does
        await client.no_message(wait=0.35)
        message = await client.next_message(timeout=3)
        assert message == CloseMessage(None, True)
