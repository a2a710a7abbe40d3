"""Streams both ways and parallel invocations, over a fake connection (STR, INV-9..11)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from signalr_server.hubs import Hub, HubConnectionHandler, HubOptions
from signalr_server.hubs.streams import ClientStreamError
from signalr_server.protocol.messages import (
    CancelInvocationMessage,
    CompletionMessage,
    HubMessage,
    InvocationMessage,
    StreamInvocationMessage,
    StreamItemMessage,
)

from .fakes import TestClient, connected

pytestmark = pytest.mark.anyio


class Probe:
    """Shared state the test hub reports into (hubs are created per call)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.cleaned_up = anyio.Event()
        self.cancelled = False
        self.release = anyio.Event()
        self.started = anyio.Event()
        self.marks: list[str] = []
        self.seen: list[Any] = []


probe = Probe()


class StreamHub(Hub):
    async def counter(self, count: int) -> AsyncIterator[int]:
        for index in range(count):
            yield index

    async def forever(self) -> AsyncIterator[int]:
        index = 0
        try:
            while True:
                yield index
                index += 1
                await anyio.sleep(0.01)
        except (anyio.get_cancelled_exc_class(), GeneratorExit):
            # Cancelled while awaiting the sleep, or closed (GeneratorExit)
            # while suspended at the yield: either way the generator is told.
            probe.cancelled = True
            raise
        finally:
            probe.cleaned_up.set()

    async def blocked(self) -> AsyncIterator[int]:
        """Suspended in an await (not at a yield) when the cancel arrives."""
        try:
            yield 1
            probe.marks.append("blocked")
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            probe.cancelled = True
            raise
        finally:
            probe.cleaned_up.set()

    def from_iterator(self, count: int) -> AsyncIterator[str]:
        async def produce() -> AsyncIterator[str]:
            for index in range(count):
                yield f"item {index}"

        return produce()

    async def awaited_iterator(self) -> AsyncIterator[int]:
        return self.counter(2)  # type: ignore[return-value]

    async def broken(self) -> AsyncIterator[int]:
        yield 1
        raise ValueError("secret detail")

    def not_a_stream(self) -> AsyncIterator[int]:
        return 42  # type: ignore[return-value]

    async def empty(self) -> AsyncIterator[int]:
        return
        yield 0

    async def upload_sum(self, numbers: AsyncIterator[int]) -> int:
        total = 0
        async for number in numbers:
            total += number
        return total

    async def concat(
        self, first: AsyncIterator[str], separator: str, second: AsyncIterator[str]
    ) -> str:
        parts = [item async for item in first]
        parts.append(separator)
        parts.extend([item async for item in second])
        return "".join(parts)

    async def echo_stream(self, source: AsyncIterator[str]) -> AsyncIterator[str]:
        async for item in source:
            yield item.upper()

    async def slow_reader(self, source: AsyncIterator[int]) -> int:
        await probe.release.wait()
        async for item in source:
            probe.seen.append(item)
        return len(probe.seen)

    async def upload_errors(self, source: AsyncIterator[int]) -> str:
        try:
            async for _ in source:
                pass
        except ClientStreamError as exc:
            return f"client said: {exc}"
        return "no error"

    async def upload_raises(self, source: AsyncIterator[int]) -> int:
        return len([item async for item in source])

    async def first_only(self, source: AsyncIterator[int]) -> int:
        async for item in source:
            return item
        return -1

    def mark(self, name: str) -> None:
        probe.marks.append(name)

    async def wait_for_release(self) -> str:
        probe.started.set()
        await probe.release.wait()
        return "released"


@pytest.fixture(autouse=True)
def _reset_probe() -> None:
    probe.reset()


def handler(**options: Any) -> HubConnectionHandler:
    return HubConnectionHandler(StreamHub, HubOptions(**options))


async def collect(client: TestClient, invocation_id: str) -> list[HubMessage]:
    """Messages for ``invocation_id`` up to and including its Completion."""
    messages: list[HubMessage] = []
    while True:
        message = await client.next_message()
        if getattr(message, "invocation_id", None) != invocation_id:
            continue
        messages.append(message)
        if isinstance(message, CompletionMessage):
            return messages


# -- server to client --------------------------------------------------------


@pytest.mark.parametrize("protocol", ["json", "messagepack"])
async def test_items_then_completion(protocol: str) -> None:
    async with connected(handler(), protocol=protocol) as client:
        client.send(StreamInvocationMessage("7", "Counter", [3]))
        assert await collect(client, "7") == [
            StreamItemMessage("7", 0),
            StreamItemMessage("7", 1),
            StreamItemMessage("7", 2),
            CompletionMessage.empty("7"),
        ]


async def test_methods_returning_async_iterators_stream() -> None:
    async with connected(handler()) as client:
        client.send(StreamInvocationMessage("1", "FromIterator", [2]))
        assert await collect(client, "1") == [
            StreamItemMessage("1", "item 0"),
            StreamItemMessage("1", "item 1"),
            CompletionMessage.empty("1"),
        ]
        client.send(StreamInvocationMessage("2", "AwaitedIterator", []))
        messages = await collect(client, "2")
        assert [m.item for m in messages if isinstance(m, StreamItemMessage)] == [0, 1]


async def test_empty_stream_is_just_a_completion() -> None:
    async with connected(handler()) as client:
        client.send(StreamInvocationMessage("1", "Empty", []))
        assert await collect(client, "1") == [CompletionMessage.empty("1")]


@pytest.mark.parametrize("method", ["Forever", "Blocked"])
async def test_cancel_reaches_the_generator_and_runs_its_cleanup(method: str) -> None:
    async with connected(handler()) as client:
        client.send(StreamInvocationMessage("9", method, []))
        first = await client.next_message()
        assert isinstance(first, StreamItemMessage)
        if method == "Blocked":
            # Cancel only once the generator sits in its await, not at the yield.
            with anyio.fail_after(2):
                while "blocked" not in probe.marks:
                    await anyio.sleep(0.005)
        client.send(CancelInvocationMessage("9"))
        with anyio.fail_after(2):
            await probe.cleaned_up.wait()
        assert probe.cancelled
        messages = await collect(client, "9")
        assert messages[-1] == CompletionMessage.empty("9")


async def test_disconnect_cancels_running_streams() -> None:
    async with connected(handler()) as client:
        client.send(StreamInvocationMessage("1", "Forever", []))
        await client.next_message()
    with anyio.fail_after(2):
        await probe.cleaned_up.wait()


@pytest.mark.parametrize(
    ("detailed", "expected"),
    [
        (False, "An error occurred on the server while streaming results."),
        (
            True,
            "An error occurred on the server while streaming results. ValueError: secret detail",
        ),
    ],
)
async def test_error_mid_stream(detailed: bool, expected: str) -> None:
    async with connected(handler(enable_detailed_errors=detailed)) as client:
        client.send(StreamInvocationMessage("1", "Broken", []))
        assert await collect(client, "1") == [
            StreamItemMessage("1", 1),
            CompletionMessage.with_error("1", expected),
        ]


async def test_a_non_iterator_result_fails_before_the_stream() -> None:
    async with connected(handler()) as client:
        client.send(StreamInvocationMessage("1", "NotAStream", []))
        assert await collect(client, "1") == [
            CompletionMessage.with_error(
                "1", "An unexpected error occurred invoking 'NotAStream' on the server."
            )
        ]


async def test_wrong_call_kinds() -> None:
    async with connected(handler()) as client:
        assert await client.invoke("Counter", 1) == CompletionMessage.with_error(
            "1",
            "The client attempted to invoke the streaming 'Counter' method with a "
            "non-streaming invocation.",
        )
        client.send(StreamInvocationMessage("2", "Mark", ["x"]))
        assert await collect(client, "2") == [
            CompletionMessage.with_error(
                "2",
                "The client attempted to invoke the non-streaming 'Mark' method with a "
                "streaming invocation.",
            )
        ]


async def test_invocation_id_already_in_use() -> None:
    async with connected(handler()) as client:
        client.send(StreamInvocationMessage("1", "Forever", []))
        await client.next_message()
        client.send(StreamInvocationMessage("1", "Counter", [1]))
        while True:
            message = await client.next_message()
            if isinstance(message, CompletionMessage):
                break
        assert message == CompletionMessage.with_error("1", "Invocation ID '1' is already in use.")
        client.send(CancelInvocationMessage("1"))


# -- client to server --------------------------------------------------------


@pytest.mark.parametrize("protocol", ["json", "messagepack"])
async def test_upload_stream(protocol: str) -> None:
    async with connected(handler(), protocol=protocol) as client:
        client.send(InvocationMessage("1", "UploadSum", [], stream_ids=["0"]))
        for number in (1, 2, 3):
            client.send(StreamItemMessage("0", number))
        client.send(CompletionMessage.empty("0"))
        assert await client.next_message() == CompletionMessage.with_result("1", 6)


async def test_two_streams_and_an_argument_in_one_invocation() -> None:
    async with connected(handler()) as client:
        client.send(InvocationMessage("3", "Concat", ["-"], stream_ids=["1", "2"]))
        client.send(StreamItemMessage("2", "c"))
        client.send(StreamItemMessage("1", "a"))
        client.send(StreamItemMessage("1", "b"))
        client.send(CompletionMessage.empty("1"))
        client.send(StreamItemMessage("2", "d"))
        client.send(CompletionMessage.empty("2"))
        assert await client.next_message() == CompletionMessage.with_result("3", "ab-cd")


async def test_upload_into_a_server_stream() -> None:
    async with connected(handler()) as client:
        client.send(StreamInvocationMessage("5", "EchoStream", [], stream_ids=["4"]))
        client.send(StreamItemMessage("4", "x"))
        client.send(StreamItemMessage("4", "y"))
        client.send(CompletionMessage.empty("4"))
        assert await collect(client, "5") == [
            StreamItemMessage("5", "X"),
            StreamItemMessage("5", "Y"),
            CompletionMessage.empty("5"),
        ]


async def test_client_error_completes_the_stream_with_that_error() -> None:
    async with connected(handler()) as client:
        client.send(InvocationMessage("1", "UploadErrors", [], stream_ids=["0"]))
        client.send(StreamItemMessage("0", 1))
        client.send(CompletionMessage.with_error("0", "boom"))
        assert await client.next_message() == CompletionMessage.with_result(
            "1", "client said: boom"
        )


@pytest.mark.parametrize(
    ("detailed", "suffix"), [(False, " HubException: boom"), (True, " HubException: boom")]
)
async def test_unhandled_client_stream_error_fails_the_invocation(
    detailed: bool, suffix: str
) -> None:
    async with connected(handler(enable_detailed_errors=detailed)) as client:
        client.send(InvocationMessage("1", "UploadRaises", [], stream_ids=["0"]))
        client.send(CompletionMessage.with_error("0", "boom"))
        assert await client.next_message() == CompletionMessage.with_error(
            "1", "An unexpected error occurred invoking 'UploadRaises' on the server." + suffix
        )


async def test_item_of_the_wrong_type_fails_the_stream() -> None:
    async with connected(handler()) as client:
        client.send(InvocationMessage("1", "UploadErrors", [], stream_ids=["0"]))
        client.send(StreamItemMessage("0", "not a number"))
        assert await client.next_message() == CompletionMessage.with_result(
            "1", "client said: Failed to bind Stream message."
        )


@pytest.mark.parametrize(
    ("target", "stream_ids", "text"),
    [
        ("UploadSum", [], "Client sent 0 stream(s), Hub method expects 1."),
        ("UploadSum", ["0", "1"], "Client sent 2 stream(s), Hub method expects 1."),
        ("Mark", ["0"], "Client sent 1 stream(s), Hub method expects 0."),
    ],
)
async def test_stream_count_mismatch(target: str, stream_ids: list[str], text: str) -> None:
    arguments = ["x"] if target == "Mark" else []
    async with connected(handler()) as client:
        client.send(InvocationMessage("1", target, arguments, stream_ids=stream_ids))
        assert await client.next_message() == CompletionMessage.with_error(
            "1",
            f"An unexpected error occurred invoking '{target}' on the server. HubException: {text}",
        )


async def test_items_for_unknown_or_finished_streams_are_ignored() -> None:
    async with connected(handler()) as client:
        client.send(StreamItemMessage("99", 1))
        client.send(CompletionMessage.empty("98"))
        client.send(InvocationMessage("1", "FirstOnly", [], stream_ids=["0"]))
        client.send(StreamItemMessage("0", 5))
        assert await client.next_message() == CompletionMessage.with_result("1", 5)
        # The method has returned: its stream is closed and later items are dropped.
        client.send(StreamItemMessage("0", 6))
        client.send(CompletionMessage.empty("0"))
        assert await client.invoke("Mark", "after") == CompletionMessage.with_result("1", None)
        await client.no_message()


async def test_full_stream_buffer_stops_reading_until_the_method_catches_up() -> None:
    async with connected(handler(stream_buffer_capacity=2)) as client:
        client.send(InvocationMessage("1", "SlowReader", [], stream_ids=["0"]))
        for item in range(5):
            client.send(StreamItemMessage("0", item))
        client.send(InvocationMessage(None, "Mark", ["after items"]))
        await anyio.sleep(0.1)
        # Two items fit; the third waits, and the read loop with it.
        assert probe.marks == []
        probe.release.set()
        client.send(CompletionMessage.empty("0"))
        assert await client.next_message() == CompletionMessage.with_result("1", 5)
        assert probe.seen == [0, 1, 2, 3, 4]
        assert probe.marks == ["after items"]


def test_stream_buffer_capacity_default_and_validation() -> None:
    assert HubOptions().stream_buffer_capacity == 10
    with pytest.raises(ValueError, match="stream_buffer_capacity"):
        HubOptions(stream_buffer_capacity=0)


# -- parallel invocations ------------------------------------------------------


async def test_one_slot_serializes_invocations_but_not_streams() -> None:
    assert HubOptions().maximum_parallel_invocations_per_client == 1
    async with connected(handler()) as client:
        client.send(InvocationMessage("1", "WaitForRelease", []))
        with anyio.fail_after(2):
            await probe.started.wait()
        # A stream and its items flow while the invocation holds the only slot.
        client.send(StreamInvocationMessage("2", "Counter", [2]))
        messages = await collect(client, "2")
        assert messages[-1] == CompletionMessage.empty("2")
        # An upload stream's items are read too.
        client.send(InvocationMessage("3", "UploadSum", [], stream_ids=["s"]))
        client.send(StreamItemMessage("s", 4))
        client.send(CompletionMessage.empty("s"))
        assert await client.next_message() == CompletionMessage.with_result("3", 4)
        # A second plain invocation waits for the slot.
        client.send(InvocationMessage("4", "Mark", ["second"]))
        await anyio.sleep(0.05)
        assert probe.marks == []
        probe.release.set()
        assert await client.next_message() == CompletionMessage.with_result("1", "released")
        assert await client.next_message() == CompletionMessage.with_result("4", None)
        assert probe.marks == ["second"]


async def test_two_slots_run_invocations_side_by_side() -> None:
    async with connected(handler(maximum_parallel_invocations_per_client=2)) as client:
        client.send(InvocationMessage("1", "WaitForRelease", []))
        client.send(InvocationMessage("2", "Mark", ["parallel"]))
        assert await client.next_message() == CompletionMessage.with_result("2", None)
        assert probe.marks == ["parallel"]
        probe.release.set()
        assert await client.next_message() == CompletionMessage.with_result("1", "released")
