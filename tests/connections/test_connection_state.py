"""Buffers, connection lifetime and the registry, without any server."""

from __future__ import annotations

import time

import anyio
import pytest

from signalr_server.connections import (
    ConnectionClosed,
    ConnectionManager,
    ConnectionStatus,
    HttpConnectionOptions,
    HttpTransportType,
    RequestInfo,
    TaskRunner,
)
from signalr_server.connections.channels import ByteChannel
from signalr_server.connections.connection import HARD_CAP_FACTOR, SetTransportResult

pytestmark = pytest.mark.anyio

REQUEST = RequestInfo.from_scope({"path": "/hub", "query_string": b""})


async def test_channel_joins_chunks_and_applies_backpressure() -> None:
    channel = ByteChannel(4)
    await channel.put(b"ab")
    await channel.put(b"cd")
    assert channel.full
    written = anyio.Event()

    async def writer() -> None:
        await channel.put(b"ef")
        written.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(writer)
        await anyio.wait_all_tasks_blocked()
        assert not written.is_set()
        assert await channel.take() == b"abcd"
        with anyio.fail_after(5):
            await written.wait()
    assert await channel.take() == b"ef"


async def test_channel_close_delivers_rest_then_raises() -> None:
    channel = ByteChannel(0)
    channel.put_nowait(b"tail")
    channel.close()
    assert await channel.take() == b"tail"
    with pytest.raises(ConnectionClosed):
        await channel.take()
    with pytest.raises(ConnectionClosed):
        await channel.put(b"late")


async def test_close_wakes_a_blocked_reader() -> None:
    channel = ByteChannel(10)
    async with anyio.create_task_group() as tg:

        async def reader() -> None:
            with pytest.raises(ConnectionClosed):
                await channel.take()

        tg.start_soon(reader)
        await anyio.wait_all_tasks_blocked()
        channel.close(discard=True)


async def test_cancelled_waits_leave_the_channel_working() -> None:
    """Readers that gave up (timeouts, cancelled scopes) must neither be woken
    later nor keep a live reader from being woken; more of them than the
    channel keeps before pruning are made on purpose."""
    channel = ByteChannel(10)
    for _ in range(20):
        with anyio.move_on_after(0.001):
            await channel.take()
    received: list[bytes] = []

    async def reader() -> None:
        received.append(await channel.take())

    async with anyio.create_task_group() as tg:
        tg.start_soon(reader)
        await anyio.wait_all_tasks_blocked()
        channel.put_nowait(b"live")
    assert received == [b"live"]
    assert channel.size == 0


def make_manager(**options: object) -> ConnectionManager:
    return ConnectionManager(HttpConnectionOptions(**options), TaskRunner())  # type: ignore[arg-type]


async def test_v1_looks_up_by_token_and_v0_by_id() -> None:
    registry = make_manager()
    v1 = registry.create(REQUEST, negotiate_version=1)
    v0 = registry.create(REQUEST)
    assert v1.token != v1.connection_id
    assert registry.get(v1.token) is v1
    assert registry.get(v1.connection_id) is None
    assert v0.token == v0.connection_id
    assert registry.get(v0.connection_id) is v0
    await registry.close_all()
    assert len(registry) == 0


async def test_transport_binding_rules() -> None:
    registry = make_manager()
    connection = registry.create(REQUEST)
    assert connection.try_set_transport(HttpTransportType.WebSockets) is SetTransportResult.SUCCESS
    assert connection.transport_name == "WebSockets"
    assert (
        connection.try_set_transport(HttpTransportType.WebSockets)
        is SetTransportResult.ALREADY_ACTIVE
    )
    assert (
        connection.try_set_transport(HttpTransportType.LongPolling)
        is SetTransportResult.CANNOT_CHANGE
    )
    connection.mark_inactive()
    assert connection.try_set_transport(HttpTransportType.WebSockets) is SetTransportResult.SUCCESS
    await registry.close_all()


async def test_expiry_of_inactive_connections_only() -> None:
    registry = make_manager(disconnect_timeout=15.0)
    idle = registry.create(REQUEST, negotiate_version=1)
    active = registry.create(REQUEST, negotiate_version=1)
    active.try_set_transport(HttpTransportType.WebSockets)
    now = time.monotonic()
    registry.sweep(now + 14.0)
    assert registry.get(idle.token) is idle
    registry.sweep(now + 16.0)
    assert registry.get(idle.token) is None
    assert idle.status is ConnectionStatus.DISPOSED
    assert registry.get(active.token) is active
    await registry.close_all()


async def test_dispose_happens_once() -> None:
    registry = make_manager()
    connection = registry.create(REQUEST)
    registry.dispose(connection)
    # A newer connection must not be removed by a stale second dispose.
    registry.dispose(connection)
    assert connection.status is ConnectionStatus.DISPOSED
    assert len(registry) == 0
    await registry.close_all()


async def test_handler_sees_connection_closed_on_dispose() -> None:
    registry = make_manager()
    connection = registry.create(REQUEST)
    seen: list[str] = []

    async def handler(ctx: object) -> None:
        try:
            await connection.receive()
        except ConnectionClosed:
            seen.append("closed")

    connection.start_handler(handler, registry.runner)
    await anyio.wait_all_tasks_blocked()
    registry.dispose(connection)
    with anyio.fail_after(5):
        await connection.wait_handler_finished()
    assert seen == ["closed"]
    await registry.close_all()


async def test_send_nowait_over_hard_cap_aborts_without_waiting() -> None:
    registry = make_manager(application_max_buffer_size=100)
    connection = registry.create(REQUEST)
    for _ in range(HARD_CAP_FACTOR):
        connection.send_nowait(b"x" * 100)
    assert connection.aborted_reason is None
    connection.send_nowait(b"x")
    assert connection.aborted_reason is not None
    assert registry.get(connection.token) is None
    connection.send_nowait(b"dropped")  # never raises once closed
    with pytest.raises(ConnectionClosed):
        await connection.send(b"late")
    await registry.close_all()


async def test_staying_over_the_bound_past_send_timeout_aborts() -> None:
    registry = make_manager(application_max_buffer_size=100, transport_send_timeout=10.0)
    connection = registry.create(REQUEST)
    connection.try_set_transport(HttpTransportType.WebSockets)
    connection.send_nowait(b"x" * 150)
    now = time.monotonic()
    registry.sweep(now + 5.0)
    assert connection.aborted_reason is None
    assert await connection.take_outbound() == b"x" * 150  # the consumer caught up
    connection.send_nowait(b"y" * 150)
    registry.sweep(now + 5.0)
    assert connection.aborted_reason is None
    registry.sweep(now + 20.0)
    assert connection.aborted_reason is not None
    await registry.close_all()


async def test_send_waits_while_outbound_is_full() -> None:
    registry = make_manager(application_max_buffer_size=10)
    connection = registry.create(REQUEST)
    await connection.send(b"0123456789")
    async with anyio.create_task_group() as tg:
        tg.start_soon(connection.send, b"more")
        await anyio.wait_all_tasks_blocked()
        assert connection.outbound.size == 10
        assert await connection.take_outbound() == b"0123456789"
    assert await connection.take_outbound() == b"more"
    await registry.close_all()


async def test_a_send_stalled_past_the_send_timeout_is_cancelled_by_the_sweep() -> None:
    registry = make_manager(transport_send_timeout=10.0)
    connection = registry.create(REQUEST)
    connection.try_set_transport(HttpTransportType.WebSockets)
    writer = anyio.CancelScope()
    connection.writer_scope = writer
    now = time.monotonic()
    connection.send_started_at = now
    registry.sweep(now + 5.0)  # still within the timeout
    assert connection.aborted_reason is None and not writer.cancel_called
    connection.send_started_at = None  # that send finished; the next one starts later
    registry.sweep(now + 30.0)
    assert connection.aborted_reason is None
    connection.send_started_at = now + 30.0
    registry.sweep(now + 40.5)
    assert connection.aborted_reason == "A send to the client exceeded the send timeout."
    assert writer.cancel_called
    await registry.close_all()


async def test_writer_scope_stops_a_blocked_send() -> None:
    registry = make_manager(transport_send_timeout=0.05)
    connection = registry.create(REQUEST)
    connection.try_set_transport(HttpTransportType.WebSockets)
    scope = connection.begin_transport()
    with anyio.fail_after(2):
        with scope:
            connection.send_started_at = time.monotonic()
            await anyio.sleep(0.1)
            registry.sweep()
            await anyio.sleep_forever()  # a send that never returns
    connection.end_transport(scope)
    assert scope.cancelled_caught
    assert connection.send_started_at is None and connection.writer_scope is None
    await registry.close_all()
