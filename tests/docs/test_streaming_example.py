"""docs/examples/streaming.py (the app of docs/streaming.md) behaves as the page says."""

from __future__ import annotations

import pytest

from docs.examples import streaming
from signalr_server.hubs import HubConnectionHandler, HubOptions
from signalr_server.protocol.messages import (
    CompletionMessage,
    InvocationMessage,
    StreamInvocationMessage,
    StreamItemMessage,
)
from tests.hubs.fakes import connected

pytestmark = pytest.mark.anyio


def handler() -> HubConnectionHandler:
    return HubConnectionHandler(
        streaming.SensorHub, HubOptions(maximum_parallel_invocations_per_client=2)
    )


async def test_readings_average_and_confirm() -> None:
    async with connected(handler()) as client:
        client.send(StreamInvocationMessage("1", "Readings", [3, 0]))
        items = [await client.next_message() for _ in range(4)]
        assert items == [
            StreamItemMessage("1", 0.0),
            StreamItemMessage("1", 0.5),
            StreamItemMessage("1", 1.0),
            CompletionMessage.empty("1"),
        ]

        client.send(InvocationMessage("2", "Average", [], stream_ids=["3"]))
        for value in (1.5, 2.5):
            client.send(StreamItemMessage("3", value))
        client.send(CompletionMessage.empty("3"))
        assert await client.next_message() == CompletionMessage.with_result("2", 2.0)

        client.send(InvocationMessage("4", "Confirm", ["Sure?"]))
        request = await client.next_message()
        assert isinstance(request, InvocationMessage) and request.target == "Confirm"
        assert request.invocation_id is not None
        client.send(CompletionMessage.with_result(request.invocation_id, True))
        assert await client.next_message() == CompletionMessage.with_result("4", True)


def test_the_example_app_allows_stateful_reconnect() -> None:
    dispatchers = streaming.app.dispatchers
    assert any(d.options.allow_stateful_reconnects for d in dispatchers)
