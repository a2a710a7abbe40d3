"""Hubs and the raw echo handler of the reference functional-test app.

The official clients' functional tests (dotnet/aspnetcore,
``src/SignalR/clients/ts/FunctionalTests``) run against an ASP.NET Core app
whose ``TestHub`` answers with exact values and exact error texts. These
classes give the same answers, so the same client-side assertions hold
against this server. Method and payload property names are PascalCase on
purpose: the reference app turns the JSON naming policy off, so clients
read ``customObject.Name`` in JSON and MessagePack alike.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import anyio

from ..auth.user import ClaimTypes, User
from ..connections.context import ConnectionClosed, ConnectionContext
from ..hubs import Hub
from ..hubs.authorization import authorize

__all__ = [
    "ComplexObject",
    "CustomObject",
    "HubWithAuthorization",
    "InvalidOperationException",
    "TestHub",
    "UncreatableHub",
    "echo_connection_handler",
]

NAME_IDENTIFIER = "nameid"
"""The JWT name of .NET's ``ClaimTypes.NameIdentifier``."""


class InvalidOperationException(Exception):
    """Raised where the reference hub throws ``InvalidOperationException``.

    Error texts name the exception's class (``... InvalidOperationException:
    An error occurred.``) and the client tests compare them verbatim.
    """


@dataclass(slots=True)
class CustomObject:
    """The reference's ``CustomObject``: ``{Name, Value}`` with PascalCase keys."""

    Name: str
    Value: int


@dataclass(slots=True)
class ComplexObject:
    """The reference's ``ComplexObject``.

    On the wire: ``ByteArray`` is base64 in JSON and bin in MessagePack,
    ``DateTime`` an ISO string (``...Z``) in JSON and a timestamp extension in
    MessagePack, ``Guid`` a string in both.
    """

    String: str | None = None
    IntArray: list[int] | None = None
    ByteArray: bytes | None = None
    Guid: uuid.UUID | None = None
    DateTime: dt.datetime | None = None


SAMPLE_COMPLEX_OBJECT = ComplexObject(
    String="hello world",
    IntArray=[1, 2, 3],
    ByteArray=bytes([0x1, 0x2, 0x3]),
    Guid=uuid.UUID("00010203-0405-0607-0706-050403020100"),
    DateTime=dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
)
"""What ``SendComplexObject`` returns (the reference's fixed values)."""


class TestHub(Hub):
    """The reference ``TestHub``: every method the client functional tests call."""

    __test__ = False  # not a pytest test class, despite the reference's name

    def echo(self, message: str) -> str:
        return message

    def get_caller_connection_id(self) -> str:
        """The public connection id, which the client also reports (never the token)."""
        return self.context.connection_id

    def get_num_redirects(self) -> int:
        """The ``numRedirects`` query value the ``/redirect`` route put in the hub URL."""
        value = self.context.request.query_value("numRedirects")
        if value is None:
            raise InvalidOperationException("The request has no 'numRedirects' query value.")
        return int(value)

    def throw_exception(self, message: str) -> None:
        raise InvalidOperationException(message)

    async def invoke_with_string(self, message: str) -> None:
        await self.clients.client(self.context.connection_id).send("Message", message)

    async def send_custom_object(self, custom_object: CustomObject) -> None:
        await self.clients.client(self.context.connection_id).send("CustomObject", custom_object)

    async def stream(self) -> AsyncIterator[str]:
        for item in ("a", "b", "c"):
            yield item

    async def infinite_stream(self) -> AsyncIterator[str]:
        """Yields nothing until cancelled; then tells the caller ``StreamCanceled``."""
        connection_id = self.context.connection_id
        try:
            while True:
                await anyio.sleep_forever()
                yield ""  # pragma: no cover - the stream only ever ends by cancellation
        finally:
            # Runs on cancellation, so the send must not be cancelled too.
            with anyio.CancelScope(shield=True):
                await self.clients.client(connection_id).send("StreamCanceled")

    async def streaming_concat(self, stream: AsyncIterator[str]) -> str:
        """Joins the items of a client upload stream."""
        parts = [item async for item in stream]
        return "".join(parts)

    async def empty_stream(self) -> AsyncIterator[int]:
        nothing: tuple[int, ...] = ()
        for item in nothing:
            yield item

    def stream_throw_exception(self, message: str) -> AsyncIterator[str]:
        """A streaming method that fails before producing its stream, so the
        client sees the invocation error text rather than the mid-stream one."""
        raise InvalidOperationException(message)

    def get_active_transport_name(self) -> str:
        return self.context.transport_name

    def echo_complex_object(self, complex_object: ComplexObject) -> ComplexObject:
        return complex_object

    def send_complex_object(self) -> ComplexObject:
        return SAMPLE_COMPLEX_OBJECT

    def get_content_type_header(self) -> str | None:
        return self.context.request.headers.get("content-type")

    def get_header(self, header_name: str) -> str | None:
        return self.context.request.headers.get(header_name.lower())

    def get_cookie(self, cookie_name: str) -> str | None:
        return self.context.request.cookies.get(cookie_name)


def _claim(hub: Hub, claim_type: str) -> str:
    """A claim of the caller, or ``""`` when absent (the reference's ``?? string.Empty``)."""
    user = hub.context.user
    if not isinstance(user, User):
        return ""
    return user.find_first(claim_type) or ""


@authorize(claims=[ClaimTypes.NAME_IDENTIFIER])
class HubWithAuthorization(Hub):
    """The reference ``HubWithAuthorization`` (mapped at ``/authorizedhub``):
    only requests with a valid test JWT reach it."""

    def echo(self, message: str) -> str:
        return message

    def get_user_name_identifier(self) -> str:
        return _claim(self, NAME_IDENTIFIER)

    def get_user_claim(self, claim_type: str) -> str:
        return _claim(self, claim_type)


class _UnregisteredDependency:
    """A service type no registry of the test app provides."""


class UncreatableHub(Hub):
    """A hub that can never be activated: its constructor needs a service that
    is not registered, so every connection is closed with an error."""

    def __init__(self, dependency: _UnregisteredDependency) -> None:
        self.dependency = dependency


async def echo_connection_handler(connection: ConnectionContext) -> None:
    """The reference ``EchoConnectionHandler``: sends every chunk back as received.

    Like the reference, it ends the connection at once unless the request
    carries the ``testCookie`` that negotiate sets, which is how the client
    tests check that cookies (``withCredentials``) reach the transport.
    """
    if "testCookie" not in connection.request.cookies:
        return
    while True:
        try:
            data = await connection.receive()
            await connection.send(data)
        except ConnectionClosed:
            return
