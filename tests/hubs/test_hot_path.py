"""The per-message fast paths: inline plain methods, the endpoint heartbeat."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import warnings
from collections.abc import Awaitable
from typing import Any

import anyio
import pytest
import sniffio

from signalr_server.hubs import (
    Hub,
    HubConnectionHandler,
    HubOptions,
    ServiceRegistry,
    hub_method,
)
from signalr_server.hubs.authorization import authorize
from signalr_server.hubs.dispatcher import HubDispatcher
from signalr_server.hubs.heartbeat import Heartbeat, heartbeat_interval
from signalr_server.hubs.lifetime import InMemoryHubLifetimeManager
from signalr_server.protocol.messages import (
    CloseMessage,
    CompletionMessage,
    InvocationMessage,
    PingMessage,
)

from .fakes import FakeConnection, connected

pytestmark = pytest.mark.anyio


class Service:
    pass


class FastHub(Hub):
    def plain(self, value: int) -> int:
        return value + 1

    async def awaited(self, value: int) -> int:
        await anyio.sleep(0)
        return value * 2

    def hands_back_awaitable(self, delay: float) -> Awaitable[str]:
        async def later() -> str:
            await anyio.sleep(delay)
            return "later"

        return later()

    def fails(self) -> None:
        raise ValueError("no")

    @authorize
    def guarded(self) -> str:
        return "secret"

    def optional(self, first: Any, second: Any = "default") -> list[Any]:
        return [first, second]

    def no_wire_form(self) -> object:
        return object()

    def not_a_number(self) -> float:
        return float("nan")


class ServiceHub(Hub):
    def __init__(self, service: Service) -> None:
        self.service = service

    def plain(self) -> str:
        return type(self.service).__name__


def dispatcher(hub: type[Hub], services: ServiceRegistry | None = None) -> HubDispatcher:
    return HubDispatcher(
        hub, HubOptions(), InMemoryHubLifetimeManager(), services or ServiceRegistry()
    )


def test_only_plain_unguarded_methods_of_service_free_hubs_run_inline() -> None:
    fast = dispatcher(FastHub)
    kinds = {m.attribute: fast.runs_inline(m) for m in fast.methods.methods}
    assert kinds == {
        "plain": True,
        "awaited": False,
        "hands_back_awaitable": True,
        "fails": True,
        "guarded": False,
        "optional": True,
        "no_wire_form": True,
        "not_a_number": True,
    }
    services = ServiceRegistry().add_singleton(Service, Service())
    with_services = dispatcher(ServiceHub, services)
    assert not any(with_services.runs_inline(m) for m in with_services.methods.methods)


class NamedHub(Hub):
    def plain(self) -> str:
        return "plain"

    @hub_method(name="SendMessage")
    def send_message_impl(self) -> str:
        return "renamed"

    @hub_method(hidden=True)
    def hidden(self) -> str:
        return "hidden"

    async def awaited(self) -> str:
        return "awaited"


@pytest.mark.parametrize(
    ("target", "attribute"),
    [
        ("plain", "plain"),
        ("Plain", "plain"),
        ("PLAIN", "plain"),
        ("SendMessage", "send_message_impl"),
        ("sendmessage", "send_message_impl"),
        ("SENDMESSAGE", "send_message_impl"),
        ("send_message_impl", None),  # renamed: only the new name calls it
        ("hidden", None),
        ("awaited", None),  # known, but not run inline
        ("Awaited", None),
        ("missing", None),
        ("", None),
    ],
)
def test_inline_method_knows_the_names_lookup_knows_in_any_case(
    target: str, attribute: str | None
) -> None:
    named = dispatcher(NamedHub)
    found = named.inline_method(target)
    assert (found.attribute if found else None) == attribute
    if found is not None:
        assert named.methods.lookup(target) is found


def test_no_method_runs_inline_on_a_hub_with_services() -> None:
    services = ServiceRegistry().add_singleton(Service, Service())
    assert dispatcher(ServiceHub, services).inline_method("plain") is None
    assert dispatcher(ServiceHub).methods.lookup("plain") is not None


async def test_inline_results_errors_and_awaitables() -> None:
    options = HubOptions(enable_detailed_errors=True)
    async with connected(HubConnectionHandler(FastHub, options)) as client:
        assert (await client.invoke("plain", 1)).result == 2
        assert (await client.invoke("awaited", 4)).result == 8
        assert (await client.invoke("hands_back_awaitable", 0.0)).result == "later"
        failed = await client.invoke("fails")
        assert failed.error == (
            "An unexpected error occurred invoking 'fails' on the server. ValueError: no"
        )


class CountingConnection(FakeConnection):
    """Counts which way replies leave: at once (``begin_send``) or awaited (``send``)."""

    def __init__(self, *, takes_at_once: bool = True) -> None:
        super().__init__()
        self.takes_at_once = takes_at_once
        self.sent_now = 0
        self.sent_later = 0

    def begin_send(self, data: bytes) -> Awaitable[None] | None:
        if not self.takes_at_once:
            return self.send(data)
        self.sent_now += 1
        return super().begin_send(data)

    async def send(self, data: bytes) -> None:
        self.sent_later += 1
        await super().send(data)


async def test_plain_reply_leaves_at_once_when_the_transport_takes_it() -> None:
    connection = CountingConnection()
    async with connected(HubConnectionHandler(FastHub), connection) as client:
        connection.sent_now = connection.sent_later = 0  # not the handshake's answer
        for value in range(5):
            assert (await client.invoke("plain", value)).result == value + 1
        assert (connection.sent_now, connection.sent_later) == (5, 0)
        assert (await client.invoke("awaited", 1)).result == 2  # the general path
        assert connection.sent_later == 1


async def test_plain_reply_waits_for_send_when_the_transport_cannot_take_it_now() -> None:
    connection = CountingConnection(takes_at_once=False)
    async with connected(HubConnectionHandler(FastHub), connection) as client:
        connection.sent_now = connection.sent_later = 0  # not the handshake's answer
        client.send(InvocationMessage("1", "plain", [1]))
        client.send(InvocationMessage("2", "plain", [2]))
        assert await client.next_message() == CompletionMessage.with_result("1", 2)
        assert await client.next_message() == CompletionMessage.with_result("2", 3)
        assert (connection.sent_now, connection.sent_later) == (0, 2)


async def test_inline_edge_cases_answer_as_the_general_path_does() -> None:
    options = HubOptions(enable_detailed_errors=True)
    async with connected(HubConnectionHandler(FastHub, options)) as client:
        assert (await client.invoke("optional", 1)).result == [1, "default"]
        assert (await client.invoke("optional", 1, 2)).result == [1, 2]
        too_many = await client.invoke("optional", 1, 2, 3)
        assert too_many.error == (
            "Failed to invoke 'optional' due to an error on the server. "
            "InvalidDataException: Invocation provides 3 argument(s) but target expects 2."
        )
        wrong_type = await client.invoke("plain", "text")
        assert wrong_type.error is not None and "Error binding arguments" in wrong_type.error
        unknown = await client.invoke("missing")
        assert unknown.error == (
            "Failed to invoke 'missing' due to an error on the server. "
            "HubException: Method does not exist."
        )
        no_wire = await client.invoke("no_wire_form")
        assert no_wire.error is not None and no_wire.error.startswith(
            "An unexpected error occurred invoking 'no_wire_form' on the server. TypeError:"
        )
        client.send(InvocationMessage(None, "plain", [1]))  # non-blocking: no answer
        client.send(InvocationMessage(None, "fails", []))  # not even for a failure
        await client.no_message()
        assert (await client.invoke("plain", 9)).result == 10


async def test_a_result_the_codec_refuses_closes_the_connection() -> None:
    async with connected(HubConnectionHandler(FastHub)) as client:
        client.send(InvocationMessage("1", "not_a_number", []))
        close = await client.next_message()
        assert close.error == "Connection closed with an error."  # type: ignore[attr-defined]


async def test_a_plain_call_waits_for_a_slot_and_keeps_the_order() -> None:
    # One slot, held by the awaitable: the plain call behind it must not
    # overtake it through the fast path.
    async with connected(HubConnectionHandler(FastHub)) as client:
        client.send(InvocationMessage("1", "hands_back_awaitable", [0.1]))
        client.send(InvocationMessage("2", "plain", [1]))
        assert await client.next_message() == CompletionMessage.with_result("1", "later")
        assert await client.next_message() == CompletionMessage.with_result("2", 2)


async def test_awaitable_from_a_plain_method_does_not_hold_the_read_loop() -> None:
    # With two slots, a quick call must finish while the slow awaitable runs.
    options = HubOptions(maximum_parallel_invocations_per_client=2)
    async with connected(HubConnectionHandler(FastHub, options)) as client:
        client.send(InvocationMessage("1", "hands_back_awaitable", [0.3]))
        client.send(InvocationMessage("2", "plain", [41]))
        first = await client.next_message()
        assert first == CompletionMessage.with_result("2", 42)
        assert await client.next_message() == CompletionMessage.with_result("1", "later")


async def test_services_hub_still_gets_its_services() -> None:
    services = ServiceRegistry().add_singleton(Service, Service())
    async with connected(HubConnectionHandler(ServiceHub, services=services)) as client:
        assert (await client.invoke("plain")).result == "Service"


# -- heartbeat ----------------------------------------------------------------


class Member:
    def __init__(self, fail: bool = False) -> None:
        self.beats: list[float] = []
        self.fail = fail

    def on_heartbeat(self, now: float) -> None:
        self.beats.append(now)
        if self.fail:
            raise RuntimeError("broken member")


def test_interval_is_at_most_a_second_and_at_most_half_of_either_timer() -> None:
    assert heartbeat_interval(15.0, 30.0) == 1.0
    assert heartbeat_interval(0.2, 30.0) == pytest.approx(0.1)
    assert heartbeat_interval(15.0, 0.1) == pytest.approx(0.05)
    assert heartbeat_interval(0.0, 0.0) > 0
    with pytest.raises(ValueError, match="positive"):
        Heartbeat(0)


def test_tick_visits_everyone_even_after_a_failing_member() -> None:
    heartbeat = Heartbeat()
    broken, healthy = Member(fail=True), Member()
    heartbeat._members.update({broken, healthy})  # registered without starting the task
    heartbeat.tick(5.0)
    assert broken.beats == [5.0] and healthy.beats == [5.0]


async def test_one_task_beats_while_members_exist_and_then_stops() -> None:
    heartbeat = Heartbeat(0.01)
    first, second = Member(), Member()
    heartbeat.add(first)
    heartbeat.add(second)  # same loop: no second task
    with anyio.fail_after(2):
        while len(first.beats) < 3 or len(second.beats) < 3:
            await anyio.sleep(0.01)
    heartbeat.discard(first)
    heartbeat.discard(second)
    with anyio.fail_after(2):
        while heartbeat._loop is not None:
            await anyio.sleep(0.01)
    assert len(heartbeat) == 0


async def test_client_timeout_is_paused_while_pinging_and_fires_on_silence() -> None:
    options = HubOptions(client_timeout_interval=0.2, keep_alive_interval=60.0)
    async with connected(HubConnectionHandler(FastHub, options)) as client:
        client.send(PingMessage())
        for _ in range(4):  # 0.4 s in all, never 0.2 s of silence
            await anyio.sleep(0.1)
            client.send(PingMessage())
        assert (await client.invoke("plain", 0)).result == 1
        with anyio.fail_after(2):
            close = await client.next_message()
        assert close.error == "Connection closed with an error."  # type: ignore[attr-defined]


async def test_a_member_added_while_the_beat_stops_is_still_visited() -> None:
    heartbeat = Heartbeat(0.01)
    first, second = Member(), Member()
    heartbeat.add(first)
    await anyio.sleep(0.03)
    heartbeat.discard(first)  # the task is told to stop...
    heartbeat.add(second)  # ...and a new member arrives before it has
    with anyio.fail_after(2):
        while len(second.beats) < 2:
            await anyio.sleep(0.01)
    heartbeat.discard(second)


# -- the transport's listener (native server: no task wake per message) --------


async def test_listener_answers_plain_calls_without_the_read_loop() -> None:
    connection = FakeConnection(listens=True)
    async with connected(HubConnectionHandler(FastHub), connection) as client:
        for value in range(5):
            assert (await client.invoke("plain", value)).result == value + 1
        assert connection.taken_by_listener == 5
        client.send(PingMessage())
        await client.no_message()
        assert connection.taken_by_listener == 6


async def test_listener_leaves_the_rest_of_a_chunk_to_the_read_loop_in_order() -> None:
    connection = FakeConnection(listens=True)
    options = HubOptions(maximum_parallel_invocations_per_client=1)
    async with connected(HubConnectionHandler(FastHub, options), connection) as client:
        protocol = client.protocol
        chunk = b"".join(
            protocol.write(message)
            for message in (
                InvocationMessage("1", "plain", [1]),
                InvocationMessage("2", "awaited", [2]),  # a task: holds the one slot
                InvocationMessage("3", "plain", [3]),  # waits for the slot
                PingMessage(),
                InvocationMessage("4", "plain", [4]),
            )
        )
        connection.push(chunk)
        replies = [await client.next_message() for _ in range(4)]
        assert replies == [
            CompletionMessage.with_result("1", 2),
            CompletionMessage.with_result("2", 4),
            CompletionMessage.with_result("3", 4),
            CompletionMessage.with_result("4", 5),
        ]
        assert connection.taken_by_listener == 0  # the chunk went to the read loop
        assert (await client.invoke("plain", 9)).result == 10
        assert connection.taken_by_listener == 1


async def test_listener_reports_protocol_errors_through_the_read_loop() -> None:
    connection = FakeConnection(listens=True)
    async with connected(HubConnectionHandler(FastHub), connection) as client:
        assert (await client.invoke("plain", 1)).result == 2
        connection.push(b'{"type":1,"target":5,"arguments":[]}\x1e')
        close = await client.next_message()
        assert close.error == "Connection closed with an error."  # type: ignore[attr-defined]
        with anyio.fail_after(2):
            while connection.listener is not None:
                await anyio.sleep(0.01)


async def test_listener_hands_a_close_message_to_the_read_loop() -> None:
    connection = FakeConnection(listens=True)
    async with connected(HubConnectionHandler(FastHub), connection) as client:
        client.send(CloseMessage())
        with anyio.fail_after(2):
            while connection.listener is not None:  # the conversation ended
                await anyio.sleep(0.01)
        assert connection.taken_by_listener == 0


async def test_listener_pings_keep_the_client_timeout_away() -> None:
    connection = FakeConnection(listens=True)
    options = HubOptions(client_timeout_interval=0.2, keep_alive_interval=60.0)
    async with connected(HubConnectionHandler(FastHub, options), connection) as client:
        for _ in range(4):  # 0.4 s in all, never 0.2 s of silence
            client.send(PingMessage())
            await anyio.sleep(0.1)
        assert connection.taken_by_listener == 4
        assert (await client.invoke("plain", 0)).result == 1


@pytest.mark.parametrize("listens", [False, True], ids=["receive", "listener"])
async def test_inline_failures_and_awaitables_on_both_paths(listens: bool) -> None:
    options = HubOptions(enable_detailed_errors=True, maximum_parallel_invocations_per_client=2)
    connection = FakeConnection(listens=listens)
    async with connected(HubConnectionHandler(FastHub, options), connection) as client:
        client.send(InvocationMessage("1", "hands_back_awaitable", [0.2]))
        client.send(InvocationMessage("2", "fails", []))
        client.send(InvocationMessage("3", "plain", [41]))
        failed = await client.next_message()
        assert failed == CompletionMessage.with_error(
            "2", "An unexpected error occurred invoking 'fails' on the server. ValueError: no"
        )
        assert await client.next_message() == CompletionMessage.with_result("3", 42)
        assert await client.next_message() == CompletionMessage.with_result("1", "later")


request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="unset")


class ContextHub(Hub):
    async def on_connected(self) -> None:
        request_id.set("set in on_connected")

    def where(self) -> list[Any]:
        return [request_id.get(), sniffio.current_async_library(), anyio.current_time() > 0]


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_method_run_by_the_listener_sees_what_the_read_loop_would() -> None:
    """The native server calls the listener from a protocol callback, outside any
    task: context variables from ``on_connected``, sniffio and anyio still work."""
    connection = FakeConnection(listens=True)
    async with connected(HubConnectionHandler(ContextHub), connection) as client:
        await anyio.sleep(0.01)  # the read loop is waiting
        data = client.protocol.write(InvocationMessage("1", "where", []))
        asyncio.get_running_loop().call_soon(connection.push, data)  # no task
        reply = await client.next_message()
        assert reply == CompletionMessage.with_result("1", ["set in on_connected", "asyncio", True])
        assert connection.taken_by_listener == 1


class AbortingHub(FastHub):
    def leave(self) -> None:
        self.context.abort()


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_what_the_listener_left_is_closed_if_the_conversation_ends_first() -> None:
    """A plain call aborts the connection, and the rest of its chunk was left
    for a read loop that is cancelled before it can take it over: the
    coroutine left behind is closed, not left to warn "never awaited"."""
    connection = FakeConnection(listens=True)
    handler = HubConnectionHandler(AbortingHub)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with connected(handler, connection) as client:
            await anyio.sleep(0.01)
            chunk = client.protocol.write(InvocationMessage("1", "leave", [])) + (
                client.protocol.write(InvocationMessage("2", "awaited", [1]))
            )
            asyncio.get_running_loop().call_soon(connection.push, chunk)
            assert await client.next_message() == CompletionMessage.with_result("1", None)
            assert isinstance(await client.next_message(), CloseMessage)
            await anyio.sleep(0.05)
        gc.collect()
    assert not [w for w in caught if "never awaited" in str(w.message)]
