"""Connection life: connect/disconnect hooks, pings, timeouts, closes, concurrency."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import pytest

from signalr_server.hubs import (
    ClientClosedError,
    ClientTimeoutError,
    Hub,
    HubConnectionHandler,
    HubException,
    HubOptions,
    InMemoryHubLifetimeManager,
)
from signalr_server.protocol.errors import MessageTooLargeError, ProtocolError
from signalr_server.protocol.messages import (
    CloseMessage,
    CompletionMessage,
    InvocationMessage,
    PingMessage,
)

from .fakes import FakeConnection, TestClient, connected

pytestmark = pytest.mark.anyio

EVENTS: list[tuple[str, object]] = []


@pytest.fixture(autouse=True)
def _clear_events() -> None:
    EVENTS.clear()


class LifeHub(Hub):
    async def on_connected(self) -> None:
        self.context.items["joined"] = True
        EVENTS.append(("connected", self.context.connection_id))

    async def on_disconnected(self, error: Exception | None) -> None:
        EVENTS.append(("disconnected", error))

    def joined(self) -> bool:
        return bool(self.context.items.get("joined"))

    async def slow(self, name: str, delay: float) -> str:
        EVENTS.append(("start", name))
        await anyio.sleep(delay)
        EVENTS.append(("end", name))
        return name

    async def leave(self) -> None:
        self.context.abort()
        await anyio.sleep(10)


class FailingHub(Hub):
    async def on_connected(self) -> None:
        raise HubException("not welcome")

    async def on_disconnected(self, error: Exception | None) -> None:
        EVENTS.append(("disconnected", error))


@asynccontextmanager
async def until_handler_ends(
    handler: HubConnectionHandler, connection: FakeConnection | None = None
) -> AsyncIterator[TestClient]:
    """Run ``handler`` and handshake; on exit wait (at most 5 s) for it to end by itself.

    Unlike ``connected``, the input stays open: the block must make the
    server end the conversation (a close, an error, a timeout, an abort).
    """
    connection = connection or FakeConnection()
    client = TestClient(connection)
    with anyio.fail_after(5):
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(handler, connection)
            await client.handshake()
            yield client


async def run_to_end(handler: HubConnectionHandler, *pushes: bytes) -> TestClient:
    """Handshake, push ``pushes`` as raw client bytes, and wait for the handler to end."""
    async with until_handler_ends(handler) as client:
        for data in pushes:
            client.connection.push(data)
    return client


async def test_connect_and_disconnect_hooks_and_items() -> None:
    lifetime = InMemoryHubLifetimeManager()
    async with connected(HubConnectionHandler(LifeHub, lifetime_manager=lifetime)) as client:
        assert (await client.invoke("joined")).result is True
        assert EVENTS == [("connected", "conn-1")]
    assert EVENTS == [("connected", "conn-1"), ("disconnected", None)]
    assert lifetime._connections == {}  # cleaned up


async def test_client_close_is_answered_and_reported() -> None:
    client = await run_to_end(HubConnectionHandler(LifeHub), b'{"type":7,"error":"bye"}\x1e')
    assert await client.next_message() == CloseMessage()
    kind, error = EVENTS[-1]
    assert kind == "disconnected" and isinstance(error, ClientClosedError) and str(error) == "bye"


async def test_plain_client_close() -> None:
    client = await run_to_end(HubConnectionHandler(LifeHub), b'{"type":7}\x1e')
    assert await client.next_message() == CloseMessage()
    assert EVENTS[-1] == ("disconnected", None)


async def test_on_connected_failure_closes_without_reconnect() -> None:
    async with until_handler_ends(HubConnectionHandler(FailingHub)) as client:
        pass  # the server closes right after the handshake
    assert await client.next_message() == CloseMessage(
        "Connection closed with an error. HubException: not welcome", False
    )
    assert EVENTS == []  # on_disconnected does not run when on_connected failed


@pytest.mark.parametrize("detailed", [False, True])
async def test_protocol_error_closes_with_reconnect(detailed: bool) -> None:
    handler = HubConnectionHandler(LifeHub, HubOptions(enable_detailed_errors=detailed))
    client = await run_to_end(handler, b'{"type":1,"target":\x1e')
    close = await client.next_message()
    assert isinstance(close, CloseMessage) and close.allow_reconnect
    if detailed:
        assert close.error is not None
        assert close.error.startswith("Connection closed with an error. InvalidDataException: ")
    else:
        assert close.error == "Connection closed with an error."
    assert isinstance(EVENTS[-1][1], ProtocolError)


async def test_oversize_message_closes_with_reference_text() -> None:
    options = HubOptions(enable_detailed_errors=True, maximum_receive_message_size=64)
    big = b'{"type":1,"target":"joined","arguments":["' + b"x" * 100 + b'"]}\x1e'
    client = await run_to_end(HubConnectionHandler(LifeHub, options), big)
    assert await client.next_message() == CloseMessage(
        "Connection closed with an error. InvalidDataException: The maximum message size of "
        "64B was exceeded. The message size can be configured in AddHubOptions.",
        True,
    )
    assert isinstance(EVENTS[-1][1], MessageTooLargeError)


async def test_keep_alive_pings() -> None:
    options = HubOptions(keep_alive_interval=0.02)
    async with connected(HubConnectionHandler(LifeHub, options)) as client:
        for _ in range(3):
            assert isinstance(await client.next_message(skip_pings=False), PingMessage)


async def test_no_pings_on_inherent_keep_alive() -> None:
    options = HubOptions(keep_alive_interval=0.01)
    connection = FakeConnection(transport_name="LongPolling", has_inherent_keep_alive=True)
    async with connected(HubConnectionHandler(LifeHub, options), connection) as client:
        with anyio.move_on_after(0.1):
            message = await client.next_message(skip_pings=False)
            raise AssertionError(f"unexpected {message!r}")


@pytest.mark.parametrize("detailed", [False, True])
async def test_client_timeout_after_first_ping(detailed: bool) -> None:
    options = HubOptions(client_timeout_interval=0.1, enable_detailed_errors=detailed)
    async with until_handler_ends(HubConnectionHandler(LifeHub, options)) as client:
        await anyio.sleep(0.2)  # no ping yet: no timeout (old clients never ping)
        assert (await client.invoke("joined")).result is True
        client.send(PingMessage())
    close = await client.next_message()
    text = "Connection closed with an error."
    if detailed:
        text += (
            " OperationCanceledException: Client hasn't sent a message/ping within the "
            "configured ClientTimeoutInterval."
        )
    assert close == CloseMessage(text, True)
    assert isinstance(EVENTS[-1][1], ClientTimeoutError)


async def test_abort_from_hub_sends_plain_close() -> None:
    async with until_handler_ends(HubConnectionHandler(LifeHub)) as client:
        client.send(InvocationMessage("1", "leave", []))
    assert await client.next_message() == CloseMessage()
    assert EVENTS[-1] == ("disconnected", None)


async def test_transport_cancellation_still_runs_on_disconnected() -> None:
    with anyio.CancelScope() as transport_gone:
        async with until_handler_ends(HubConnectionHandler(LifeHub)) as client:
            client.send(InvocationMessage("1", "slow", ["a", 10]))
            while ("start", "a") not in EVENTS:
                await anyio.sleep(0.01)
            transport_gone.cancel()
    assert EVENTS[-1] == ("disconnected", None)
    assert ("end", "a") not in EVENTS


@pytest.mark.parametrize("limit", [1, 2])
async def test_parallel_invocation_limit(limit: int) -> None:
    options = HubOptions(maximum_parallel_invocations_per_client=limit)
    async with connected(HubConnectionHandler(LifeHub, options)) as client:
        client.send(InvocationMessage("1", "slow", ["a", 0.1]))
        client.send(InvocationMessage("2", "slow", ["b", 0.0]))
        first = await client.next_message()
        second = await client.next_message()
        assert isinstance(first, CompletionMessage) and isinstance(second, CompletionMessage)
        if limit == 1:
            assert (first.result, second.result) == ("a", "b")
            assert EVENTS[1:] == [("start", "a"), ("end", "a"), ("start", "b"), ("end", "b")]
        else:
            assert (first.result, second.result) == ("b", "a")
            assert EVENTS[1:3] == [("start", "a"), ("start", "b")]


async def test_ping_is_handled_while_an_invocation_runs() -> None:
    options = HubOptions(client_timeout_interval=0.15)
    async with connected(HubConnectionHandler(LifeHub, options)) as client:
        client.send(PingMessage())
        client.send(InvocationMessage("1", "slow", ["a", 0.3]))
        for _ in range(5):  # keep pinging while "a" runs: the connection must stay up
            await anyio.sleep(0.05)
            client.send(PingMessage())
        assert (await client.next_message()).result == "a"  # type: ignore[attr-defined]
