"""Client results: the server invokes a client handler and awaits its Completion (CRES)."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from signalr_server.hubs import (
    Hub,
    HubConnectionHandler,
    HubContext,
    HubException,
    HubOptions,
    InMemoryHubLifetimeManager,
)
from signalr_server.hubs.client_results import PendingClientResults
from signalr_server.protocol.messages import CompletionMessage, InvocationMessage

from .fakes import FakeConnection, TestClient, connected

pytestmark = pytest.mark.anyio

connect_outcome: list[str] = []


class AskingHub(Hub):
    async def ask_caller(self, question: str) -> Any:
        return await self.clients.caller.invoke("GetAnswer", question, timeout=2)

    async def ask_number(self) -> int:
        result: int = await self.clients.caller.invoke("GetNumber", result_type=int)
        return result + 1

    async def ask_other(self, connection_id: str) -> Any:
        return await self.clients.client(connection_id).invoke("GetAnswer", "other?")

    async def on_connected(self) -> None:
        if self.context.connection_id == "connect-test":
            try:
                await self.clients.caller.invoke("GetAnswer", "hello?")
            except Exception as exc:
                connect_outcome.append(f"{type(exc).__name__}: {exc}")


def handler(**options: Any) -> HubConnectionHandler:
    options.setdefault("maximum_parallel_invocations_per_client", 2)
    return HubConnectionHandler(AskingHub, HubOptions(**options))


async def expect_invocation(client: TestClient, target: str) -> InvocationMessage:
    message = await client.next_message()
    assert isinstance(message, InvocationMessage), message
    assert message.target == target
    return message


@pytest.mark.parametrize("protocol", ["json", "messagepack"])
async def test_result_from_the_caller(protocol: str) -> None:
    async with connected(handler(), protocol=protocol) as client:
        client.send(InvocationMessage("1", "AskCaller", ["why?"]))
        request = await expect_invocation(client, "GetAnswer")
        assert request.invocation_id == "s1"
        assert list(request.arguments) == ["why?"]
        client.send(CompletionMessage.with_result("s1", {"answer": 42}))
        assert await client.next_message() == CompletionMessage.with_result("1", {"answer": 42})

        client.send(InvocationMessage("2", "AskCaller", ["again"]))
        request = await expect_invocation(client, "GetAnswer")
        assert request.invocation_id == "s2"
        client.send(CompletionMessage.with_result("s2", None))
        assert await client.next_message() == CompletionMessage.with_result("2", None)


async def test_client_error_reaches_the_server_code_as_hub_exception() -> None:
    async with connected(handler()) as client:
        client.send(InvocationMessage("1", "AskCaller", ["?"]))
        request = await expect_invocation(client, "GetAnswer")
        assert request.invocation_id is not None
        client.send(
            CompletionMessage.with_error(request.invocation_id, "Client didn't provide a result.")
        )
        assert await client.next_message() == CompletionMessage.with_error(
            "1",
            "An unexpected error occurred invoking 'AskCaller' on the server. "
            "HubException: Client didn't provide a result.",
        )


async def test_result_type_conversion() -> None:
    async with connected(handler()) as client:
        client.send(InvocationMessage("1", "AskNumber", []))
        request = await expect_invocation(client, "GetNumber")
        assert request.invocation_id is not None
        client.send(CompletionMessage.with_result(request.invocation_id, 41))
        assert await client.next_message() == CompletionMessage.with_result("1", 42)

        client.send(InvocationMessage("2", "AskNumber", []))
        request = await expect_invocation(client, "GetNumber")
        assert request.invocation_id is not None
        client.send(CompletionMessage.with_result(request.invocation_id, "forty"))
        completion = await client.next_message()
        assert isinstance(completion, CompletionMessage) and completion.error is not None
        assert completion.error.startswith(
            "An unexpected error occurred invoking 'AskNumber' on the server. "
            "HubException: Error trying to deserialize result to int. "
        )


@pytest.mark.parametrize(
    ("detailed", "expected"),
    [
        (False, "An unexpected error occurred invoking 'AskCaller' on the server."),
        (
            True,
            "An unexpected error occurred invoking 'AskCaller' on the server. "
            "InvalidOperationException: Client results inside a Hub method requires "
            "HubOptions.MaximumParallelInvocationsPerClient to be greater than 1.",
        ),
    ],
)
async def test_refused_inside_a_hub_method_with_one_slot(detailed: bool, expected: str) -> None:
    options = HubOptions(enable_detailed_errors=detailed)
    async with connected(HubConnectionHandler(AskingHub, options)) as client:
        assert await client.invoke("AskCaller", "?") == CompletionMessage.with_error("1", expected)


async def test_refused_in_on_connected() -> None:
    connect_outcome.clear()
    async with connected(handler(), FakeConnection("connect-test")):
        with anyio.fail_after(2):
            while not connect_outcome:
                await anyio.sleep(0.01)
    assert connect_outcome == [
        "InvalidOperationError: Client results inside OnConnectedAsync Hub methods are not allowed."
    ]


async def test_from_a_hub_context_outside_any_hub() -> None:
    hub_handler = handler()
    context = HubContext(hub_handler.lifetime_manager)
    async with connected(hub_handler, FakeConnection("abc")) as client:
        async with anyio.create_task_group() as task_group:
            answers: list[Any] = []

            async def ask() -> None:
                answers.append(await context.clients.client("abc").invoke("GetAnswer", 1, 2))

            task_group.start_soon(ask)
            request = await expect_invocation(client, "GetAnswer")
            assert list(request.arguments) == [1, 2]
            assert request.invocation_id is not None
            client.send(CompletionMessage.with_result(request.invocation_id, "from client"))
        assert answers == ["from client"]


async def test_one_connection_asks_another() -> None:
    hub_handler = handler()
    async with (
        connected(hub_handler, FakeConnection("first")) as first,
        connected(hub_handler, FakeConnection("second")) as second,
    ):
        second.send(InvocationMessage("1", "AskOther", ["first"]))
        request = await expect_invocation(first, "GetAnswer")
        assert request.invocation_id is not None
        # A Completion with that id from the *wrong* connection is ignored.
        second.send(CompletionMessage.with_result(request.invocation_id, "forged"))
        first.send(CompletionMessage.with_result(request.invocation_id, "genuine"))
        assert await second.next_message() == CompletionMessage.with_result("1", "genuine")


async def test_unknown_connection() -> None:
    context = HubContext(InMemoryHubLifetimeManager())
    with pytest.raises(HubException, match=r"^Connection 'nobody' does not exist\.$"):
        await context.clients.client("nobody").invoke("GetAnswer")


async def test_disconnect_while_waiting() -> None:
    hub_handler = handler()
    context = HubContext(hub_handler.lifetime_manager)
    errors: list[str] = []
    connection = FakeConnection("leaving")

    async def ask() -> None:
        try:
            await context.clients.client("leaving").invoke("GetAnswer")
        except HubException as exc:
            errors.append(str(exc))

    async with (
        anyio.create_task_group() as task_group,
        connected(hub_handler, connection) as client,
    ):
        task_group.start_soon(ask)
        await expect_invocation(client, "GetAnswer")
        connection.close_input()  # the client goes away without answering
    assert errors == ["Connection 'leaving' disconnected."]


async def test_timeout_cancels_the_wait_and_a_late_answer_is_ignored() -> None:
    hub_handler = handler()
    context = HubContext(hub_handler.lifetime_manager)
    async with connected(hub_handler, FakeConnection("slow")) as client:
        with pytest.raises(TimeoutError):
            await context.clients.client("slow").invoke("GetAnswer", timeout=0.05)
        request = await expect_invocation(client, "GetAnswer")
        assert request.invocation_id is not None
        client.send(CompletionMessage.with_result(request.invocation_id, "too late"))
        # The connection is unaffected and the stale id is gone.
        client.send(InvocationMessage("1", "AskCaller", ["still there?"]))
        follow_up = await expect_invocation(client, "GetAnswer")
        assert follow_up.invocation_id is not None
        client.send(CompletionMessage.with_result(follow_up.invocation_id, "yes"))
        assert await client.next_message() == CompletionMessage.with_result("1", "yes")


async def test_pending_table_ignores_unknown_and_repeated_completions() -> None:
    table = PendingClientResults()
    assert [table.new_id(), table.new_id()] == ["s1", "s2"]
    assert not table.set_result("c", CompletionMessage.with_result("s9", 1))
    results: list[Any] = []

    async def send() -> None:
        pass

    async with anyio.create_task_group() as task_group:

        async def wait() -> None:
            results.append(await table.invoke("c", "s3", send, None))

        task_group.start_soon(wait)
        await anyio.sleep(0.01)
        assert len(table) == 1
        assert table.set_result("c", CompletionMessage.with_result("s3", "first"))
        assert not table.set_result("c", CompletionMessage.with_result("s3", "second"))
    assert results == ["first"]
    assert len(table) == 0
