"""Stateful reconnect in the hub layer: numbering, Acks, replay and de-duplication (SR)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import pytest

from signalr_server.hubs import Hub, HubConnectionHandler, HubOptions
from signalr_server.hubs.message_buffer import MessageBuffer, SequenceError
from signalr_server.protocol.messages import (
    AckMessage,
    CloseMessage,
    CompletionMessage,
    HubMessage,
    InvocationMessage,
    SequenceMessage,
    StreamInvocationMessage,
    StreamItemMessage,
)

from .fakes import FakeConnection, TestClient, connected

pytestmark = pytest.mark.anyio

calls: list[str] = []


class EchoHub(Hub):
    def echo(self, text: str) -> str:
        calls.append(text)
        return text

    async def numbers(self, count: int) -> AsyncIterator[int]:
        for index in range(count):
            yield index


class ReconnectableConnection(FakeConnection):
    """A fake transport that offers stateful reconnect like a negotiated WebSocket."""

    def __init__(self, *, enabled: bool = True) -> None:
        super().__init__()
        self.use_stateful_reconnect = enabled
        self.reconnect_callbacks: list[Callable[[], None]] = []

    def on_reconnected(self, callback: Callable[[], None] | None) -> None:
        if callback is not None:
            self.reconnect_callbacks.append(callback)

    def reconnect(self) -> None:
        for callback in self.reconnect_callbacks:
            callback()


@pytest.fixture(autouse=True)
def _clear_calls() -> None:
    calls.clear()


def handler(**options: Any) -> HubConnectionHandler:
    return HubConnectionHandler(EchoHub, HubOptions(**options))


# -- the buffer on its own -----------------------------------------------------


def test_buffer_numbers_keeps_and_forgets() -> None:
    buffer = MessageBuffer(limit=100)
    assert buffer.resend_start() == 1
    assert [buffer.record(b"aaa"), buffer.record(b"bb"), buffer.record(b"c")] == [1, 2, 3]
    assert buffer.size == 6 and len(buffer) == 3
    assert buffer.resend_start() == 1
    buffer.ack(2)
    assert buffer.unacked() == [b"c"] and buffer.size == 1
    assert buffer.resend_start() == 3
    buffer.ack(3)
    assert buffer.unacked() == [] and buffer.resend_start() == 4


def test_buffer_drops_duplicates_after_a_sequence() -> None:
    buffer = MessageBuffer()
    assert [buffer.should_process() for _ in range(3)] == [True, True, True]
    assert buffer.ack_due() == 3
    assert buffer.ack_due() is None  # only when it moved
    buffer.on_sequence(2)  # the peer resends 2 and 3, then sends 4
    assert [buffer.should_process() for _ in range(3)] == [False, False, True]
    assert buffer.ack_due() == 4
    with pytest.raises(SequenceError, match="Sequence ID greater than amount of messages"):
        buffer.on_sequence(6)


async def test_buffer_backpressure_waits_for_an_ack() -> None:
    buffer = MessageBuffer(limit=4)
    buffer.record(b"1234")
    released: list[bool] = []

    async def writer() -> None:
        await buffer.wait_for_room()
        released.append(True)

    async with anyio.create_task_group() as task_group:
        task_group.start_soon(writer)
        await anyio.sleep(0.02)
        assert released == []
        buffer.ack(1)
    assert released == [True]


def test_buffer_size_default_and_validation() -> None:
    assert HubOptions().stateful_reconnect_buffer_size == 100_000
    with pytest.raises(ValueError, match="stateful_reconnect_buffer_size"):
        HubOptions(stateful_reconnect_buffer_size=0)
    with pytest.raises(ValueError):
        MessageBuffer(0)


# -- the handler -----------------------------------------------------------------


async def test_version_1_handshake_keeps_stateful_reconnect_off() -> None:
    connection = ReconnectableConnection()
    async with connected(handler(), connection) as client:
        assert connection.reconnect_callbacks == []
        client.send(AckMessage(5))  # ignored without SR (SR-13)
        client.send(SequenceMessage(9))
        assert await client.invoke("Echo", "hi") == CompletionMessage.with_result("1", "hi")
        await client.no_message(0.1)  # and no Ack comes back


async def next_non_ack(client: TestClient, acks: list[int]) -> HubMessage:
    """The next message other than Ack; Acks seen on the way are collected."""
    while True:
        message = await client.next_message()
        if not isinstance(message, AckMessage):
            return message
        acks.append(message.sequence_id)


@pytest.mark.parametrize("protocol", ["json", "messagepack"])
async def test_acks_replay_and_deduplication(protocol: str) -> None:
    connection = ReconnectableConnection()
    client = TestClient(connection, protocol)
    acks: list[int] = []
    async with anyio.create_task_group() as task_group:
        task_group.start_soon(handler(), connection)
        await client.handshake(version=2)
        assert len(connection.reconnect_callbacks) == 1

        client.send(InvocationMessage("1", "Echo", ["one"]))
        assert await next_non_ack(client, acks) == CompletionMessage.with_result("1", "one")

        client.send(StreamInvocationMessage("2", "Numbers", [2]))
        assert [await next_non_ack(client, acks) for _ in range(3)] == [
            StreamItemMessage("2", 0),
            StreamItemMessage("2", 1),
            CompletionMessage.empty("2"),
        ]
        # We acknowledge the first two of the server's four messages, then the socket drops.
        client.send(AckMessage(2))
        await anyio.sleep(0.05)

        connection.reconnect()
        # On the new socket: Sequence 3, then the unacknowledged 3 and 4 (SR-11).
        assert [await next_non_ack(client, acks) for _ in range(3)] == [
            SequenceMessage(3),
            StreamItemMessage("2", 1),
            CompletionMessage.empty("2"),
        ]

        # We resend from our message 2 (the server has it), then send a new one.
        client.send(SequenceMessage(2))
        client.send(StreamInvocationMessage("2", "Numbers", [2]))  # duplicate: dropped
        client.send(InvocationMessage("3", "Echo", ["three"]))
        assert await next_non_ack(client, acks) == CompletionMessage.with_result("3", "three")
        assert calls == ["one", "three"]
        # Acks only move forward and end at our third message, about once a second.
        with anyio.fail_after(3):
            while not acks or acks[-1] != 3:
                acks.append((await client.next_message()).sequence_id)  # type: ignore[attr-defined]
        # The first Ack goes out at once; it covers message 1, or 2 when the
        # second invocation arrived before the Ack task ran (acks are cumulative).
        assert acks[0] in (1, 2) and acks == sorted(acks)
        connection.close_input()


async def test_sequence_beyond_what_was_received_closes() -> None:
    connection = ReconnectableConnection()
    client = TestClient(connection)
    async with anyio.create_task_group() as task_group:
        task_group.start_soon(handler(enable_detailed_errors=True), connection)
        await client.handshake(version=2)
        client.send(SequenceMessage(5))
        assert await client.next_message() == CloseMessage(
            "Connection closed with an error. InvalidOperationException: "
            "Sequence ID greater than amount of messages we've received.",
            allow_reconnect=True,
        )


async def test_full_replay_buffer_holds_sends_until_acked() -> None:
    connection = ReconnectableConnection()
    client = TestClient(connection)
    async with anyio.create_task_group() as task_group:
        task_group.start_soon(handler(stateful_reconnect_buffer_size=30), connection)
        await client.handshake(version=2)
        client.send(StreamInvocationMessage("1", "Numbers", [10]))
        received = []
        with anyio.move_on_after(0.2):
            while True:
                message = await client.next_message()
                if isinstance(message, StreamItemMessage):
                    received.append(message.item)
        # About 30 bytes of items fit before the server waits for an Ack.
        assert 0 < len(received) < 10
        client.send(AckMessage(100))
        while True:
            message = await client.next_message()
            if isinstance(message, StreamItemMessage):
                received.append(message.item)
                client.send(AckMessage(100))  # everything so far
            elif isinstance(message, CompletionMessage):
                break
        assert received == list(range(10))
        connection.close_input()
