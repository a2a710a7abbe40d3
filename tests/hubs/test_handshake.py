"""The handshake as the hub handler answers it (HS-1 … HS-13)."""

from __future__ import annotations

import anyio
import pytest

from signalr_server.hubs import Hub, HubConnectionHandler, HubOptions
from signalr_server.protocol.messages import CompletionMessage, TransferFormat

from .fakes import FakeConnection, TestClient

pytestmark = pytest.mark.anyio


class GreeterHub(Hub):
    async def on_connected(self) -> None:
        await self.clients.caller.send("Welcome", self.context.connection_id)

    def hello(self) -> str:
        return "hi"


async def answer_to(
    data: bytes, options: HubOptions | None = None, connection: FakeConnection | None = None
) -> bytes:
    """Run a handshake that is expected to fail; return everything the server sent."""
    connection = connection or FakeConnection()
    handler = HubConnectionHandler(GreeterHub, options)
    if data:
        connection.push(data)
    with anyio.fail_after(3):
        await handler(connection)
    sent = b""
    while True:
        try:
            sent += connection.outbound.receive_nowait()
        except anyio.WouldBlock:
            return sent


@pytest.mark.parametrize(
    ("protocol", "transfer_format"),
    [("json", TransferFormat.TEXT), ("messagepack", TransferFormat.BINARY)],
)
async def test_success_sets_transfer_format_and_sends_nothing_first(
    protocol: str, transfer_format: TransferFormat
) -> None:
    connection = FakeConnection()
    client = TestClient(connection, protocol)
    async with anyio.create_task_group() as task_group:
        task_group.start_soon(HubConnectionHandler(GreeterHub), connection)
        await client.handshake(version=2 if protocol == "json" else 1)
        assert connection.transfer_format is transfer_format
        welcome = await client.next_message()
        assert welcome.target == "Welcome" and welcome.arguments == ["conn-1"]  # type: ignore[attr-defined]
        assert welcome.invocation_id is None  # type: ignore[attr-defined]
        connection.close_input()


async def test_messages_after_the_handshake_in_the_same_chunk() -> None:
    connection = FakeConnection()
    connection.push(
        b'{"protocol":"json","version":1}\x1e{"type":1,"invocationId":"1","target":"hello","arguments":[]}\x1e'
    )
    async with anyio.create_task_group() as task_group:
        task_group.start_soon(HubConnectionHandler(GreeterHub), connection)
        assert (await connection.read_raw()).startswith(b"{}\x1e")
        client = TestClient(connection)
        assert (await client.next_message()).target == "Welcome"  # type: ignore[attr-defined]
        assert await client.next_message() == CompletionMessage.with_result("1", "hi")
        connection.close_input()


async def test_unknown_protocol() -> None:
    sent = await answer_to(b'{"protocol":"foo","version":1}\x1e')
    assert sent == b'{"error":"The protocol \'foo\' is not supported."}\x1e'


async def test_protocol_not_in_supported_protocols() -> None:
    sent = await answer_to(
        b'{"protocol":"messagepack","version":1}\x1e', HubOptions(supported_protocols=["json"])
    )
    assert sent == b'{"error":"The protocol \'messagepack\' is not supported."}\x1e'


async def test_version_too_high() -> None:
    sent = await answer_to(b'{"protocol":"json","version":3}\x1e')
    assert sent == (
        b'{"error":"The server does not support version 3 of the \'json\' protocol."}\x1e'
    )


async def test_transfer_format_not_available() -> None:
    connection = FakeConnection(
        transport_name="ServerSentEvents", supported_formats=frozenset({TransferFormat.TEXT})
    )
    sent = await answer_to(b'{"protocol":"messagepack","version":1}\x1e', connection=connection)
    assert sent == (
        b'{"error":"Cannot use the \'messagepack\' protocol on the current transport. '
        b"The transport does not support 'Binary' transfer format.\"}\x1e"
    )


@pytest.mark.parametrize("detailed", [False, True])
async def test_malformed_request(detailed: bool) -> None:
    sent = await answer_to(b'{"protocol":"json"}\x1e', HubOptions(enable_detailed_errors=detailed))
    base = b'{"error":"An unexpected error occurred during connection handshake.'
    if detailed:
        assert sent.startswith(
            base + b" InvalidDataException: Missing required property 'version'."
        )
    else:
        assert sent == base + b'"}\x1e'


async def test_timeout() -> None:
    sent = await answer_to(b'{"protocol":', HubOptions(handshake_timeout=0.05))
    assert sent == b'{"error":"Handshake was canceled."}\x1e'


async def test_oversize_handshake() -> None:
    sent = await answer_to(
        b'{"protocol":"json","version":1,"x":1', HubOptions(maximum_receive_message_size=16)
    )
    assert sent == b'{"error":"Handshake was canceled."}\x1e'


async def test_transport_closed_before_handshake_sends_nothing() -> None:
    connection = FakeConnection()
    connection.push(b'{"protocol":')
    connection.close_input()
    assert await answer_to(b"", connection=connection) == b""
