"""Invocations end to end over a fake connection: results, errors, binding, look-up."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import uuid
from typing import TypedDict

import pytest

from signalr_server.hubs import Hub, HubConnectionHandler, HubException, HubOptions, hub_method
from signalr_server.protocol.messages import (
    CancelInvocationMessage,
    CompletionMessage,
    InvocationMessage,
    StreamInvocationMessage,
    StreamItemMessage,
)

from .fakes import FakeConnection, connected

pytestmark = pytest.mark.anyio


@dataclasses.dataclass
class Address:
    street_name: str
    zip_code: int = 0


@dataclasses.dataclass
class Person:
    first_name: str
    born: dt.datetime
    address: Address
    tags: list[str] = dataclasses.field(default_factory=list)


class Point(TypedDict):
    x: int
    y: int


class Color(enum.Enum):
    RED = 1
    GREEN = 2


class CalcHub(Hub):
    def add(self, a: int, b: int) -> int:
        return a + b

    async def send_message(self, user: str, message: str) -> str:
        return f"{user}: {message}"

    async def nothing(self) -> None:
        return None

    async def fail(self) -> None:
        raise HubException("custom text")

    async def crash(self) -> None:
        raise ValueError("secret detail")

    @hub_method(name="Custom")
    def renamed(self) -> str:
        return "renamed"

    @hub_method(hidden=True)
    def hidden(self) -> str:
        return "hidden"

    def _private(self) -> str:
        return "private"

    def describe(self, person: Person) -> str:
        assert isinstance(person.address, Address)
        return f"{person.first_name} {person.born.year} {person.address.street_name}"

    def echo_person(self, person: Person) -> Person:
        return person

    def length(self, data: bytes) -> int:
        return len(data)

    def echo_bytes(self, data: bytes) -> bytes:
        return data

    def version(self, value: uuid.UUID) -> str:
        return str(value.version)

    def make_id(self) -> uuid.UUID:
        return uuid.UUID(int=1)

    def year(self, when: dt.datetime) -> int:
        return when.year

    def now(self) -> dt.datetime:
        return dt.datetime(2017, 4, 11, tzinfo=dt.UTC)

    def total(self, values: list[float], weights: dict[str, int]) -> float:
        return sum(values) + sum(weights.values())

    def norm(self, point: Point) -> int:
        return point["x"] + point["y"]

    def color(self, color: Color) -> Color:
        return color

    def maybe(self, value: int | None = None) -> str:
        return repr(value)

    async def counter(self, count: int):  # type: ignore[no-untyped-def]
        for index in range(count):
            yield index

    async def forever(self):  # type: ignore[no-untyped-def]
        index = 0
        while True:
            yield index
            index += 1


def handler(detailed: bool = False) -> HubConnectionHandler:
    return HubConnectionHandler(CalcHub, HubOptions(enable_detailed_errors=detailed))


@pytest.mark.parametrize("protocol", ["json", "messagepack"])
async def test_result_and_void(protocol: str) -> None:
    async with connected(handler(), protocol=protocol) as client:
        completion = await client.invoke("add", 2, 3)
        assert completion.result == 5 and completion.has_result and completion.error is None
        void = await client.invoke("Nothing")
        assert void.has_result and void.result is None and void.error is None


async def test_void_completion_writes_result_null_in_json() -> None:
    connection = FakeConnection()
    async with connected(handler(), connection) as client:
        client.send(InvocationMessage("7", "nothing", []))
        raw = await connection.read_raw()
        assert raw == b'{"type":3,"invocationId":"7","result":null}\x1e'


async def test_lookup_is_case_insensitive_and_pascal_case() -> None:
    async with connected(handler()) as client:
        for target in ("send_message", "SendMessage", "sendMessage", "SENDMESSAGE"):
            completion = await client.invoke(target, "ann", "hi")
            assert completion.result == "ann: hi"


async def test_hub_method_rename_and_hide() -> None:
    unknown = (
        "Failed to invoke '{}' due to an error on the server. HubException: Method does not exist."
    )
    async with connected(handler()) as client:
        assert (await client.invoke("custom")).result == "renamed"
        for target in (
            "renamed",
            "Renamed",
            "hidden",
            "_private",
            "on_connected",
            "OnConnected",
            "OnDisconnected",
            "context",
            "clients",
        ):
            completion = await client.invoke(target)
            assert completion.error == unknown.format(target)


async def test_hub_exception_always_reaches_the_client() -> None:
    async with connected(handler()) as client:
        completion = await client.invoke("fail")
        assert completion.error == (
            "An unexpected error occurred invoking 'fail' on the server. HubException: custom text"
        )


@pytest.mark.parametrize("detailed", [False, True])
async def test_other_exceptions_only_detailed(detailed: bool) -> None:
    async with connected(handler(detailed)) as client:
        completion = await client.invoke("Crash")
        base = "An unexpected error occurred invoking 'Crash' on the server."
        assert completion.error == (f"{base} ValueError: secret detail" if detailed else base)


async def test_unknown_method() -> None:
    async with connected(handler()) as client:
        completion = await client.invoke("Missing", 1)
        assert completion.error == (
            "Failed to invoke 'Missing' due to an error on the server. "
            "HubException: Method does not exist."
        )


@pytest.mark.parametrize("detailed", [False, True])
async def test_wrong_argument_count(detailed: bool) -> None:
    async with connected(handler(detailed)) as client:
        completion = await client.invoke("add", 1)
        base = "Failed to invoke 'add' due to an error on the server."
        detail = " InvalidDataException: Invocation provides 1 argument(s) but target expects 2."
        assert completion.error == (base + detail if detailed else base)


@pytest.mark.parametrize(
    ("protocol", "detail"),
    [
        ("json", "Error binding arguments."),
        ("messagepack", "Error binding argument 1."),
    ],
)
async def test_wrong_argument_type(protocol: str, detail: str) -> None:
    async with connected(handler(True), protocol=protocol) as client:
        completion = await client.invoke("add", 1, "two")
        assert completion.error == (
            "Failed to invoke 'add' due to an error on the server. InvalidDataException: "
            f"{detail} Make sure that the types of the provided values match the types of "
            "the hub method being invoked."
        )
    async with connected(handler(False), protocol=protocol) as client:
        completion = await client.invoke("add", 1, "two")
        assert completion.error == "Failed to invoke 'add' due to an error on the server."


async def test_non_blocking_gets_no_completion() -> None:
    async with connected(handler()) as client:
        for target, args in (("add", [1, 2]), ("crash", []), ("missing", []), ("add", [1])):
            client.send(InvocationMessage(None, target, args))
        client.send(InvocationMessage("", "add", [1, 2]))
        completion = await client.invoke("add", 20, 22)
        assert completion.result == 42  # the first Completion is this one


@pytest.mark.parametrize("protocol", ["json", "messagepack"])
async def test_argument_conversion(protocol: str) -> None:
    born = "2017-04-11T00:00:00Z" if protocol == "json" else dt.datetime(2017, 4, 11, tzinfo=dt.UTC)
    person = {"firstName": "Ann", "Born": born, "address": {"StreetName": "Main"}}
    async with connected(handler(True), protocol=protocol) as client:
        assert (await client.invoke("describe", person)).result == "Ann 2017 Main"
        echoed = await client.invoke("echo_person", person)
        result = echoed.result
        assert result["firstName"] == "Ann"
        assert result["address"] == {"streetName": "Main", "zipCode": 0}
        assert result["tags"] == []
        data = "AQID" if protocol == "json" else b"\x01\x02\x03"
        assert (await client.invoke("length", data)).result == 3
        assert (await client.invoke("version", str(uuid.uuid4()))).result == "4"
        assert (await client.invoke("year", born)).result == 2017
        assert (await client.invoke("total", [1, 2.5], {"a": 1})).result == 4.5
        assert (await client.invoke("norm", {"X": 1, "y": 2})).result == 3
        assert (await client.invoke("color", 2)).result == 2
        assert (await client.invoke("color", "red")).result == 1
        assert (await client.invoke("maybe")).result == "None"
        assert (await client.invoke("maybe", None)).result == "None"
        assert (await client.invoke("maybe", 5)).result == "5"
        bad = await client.invoke("describe", {"firstName": "Ann"})
        assert bad.error is not None and "Error binding" in bad.error


async def test_return_values_become_wire_values() -> None:
    connection = FakeConnection()
    async with connected(handler(), connection) as client:
        client.send(InvocationMessage("1", "make_id", []))
        assert b'"result":"00000000-0000-0000-0000-000000000001"' in await connection.read_raw()
        client.send(InvocationMessage("2", "echo_bytes", ["AQID"]))
        assert b'"result":"AQID"' in await connection.read_raw()
        client.send(InvocationMessage("3", "now", []))
        assert b'"result":"2017-04-11T00:00:00' in await connection.read_raw()


async def test_msgpack_returns_native_bytes_and_datetime() -> None:
    async with connected(handler(), protocol="messagepack") as client:
        assert (await client.invoke("echo_bytes", b"\x01")).result == b"\x01"
        now = (await client.invoke("now")).result
        assert now == dt.datetime(2017, 4, 11, tzinfo=dt.UTC)


async def test_streaming_kind_mismatch() -> None:
    async with connected(handler()) as client:
        completion = await client.invoke("counter", 1)
        assert completion.error == (
            "The client attempted to invoke the streaming 'counter' method with a "
            "non-streaming invocation."
        )
        client.send(StreamInvocationMessage("s", "add", [1, 2]))
        message = await client.next_message()
        assert message == CompletionMessage.with_error(
            "s",
            "The client attempted to invoke the non-streaming 'add' method with a "
            "streaming invocation.",
        )


async def test_upload_streams_to_plain_method_are_refused() -> None:
    async with connected(handler()) as client:
        client.send(InvocationMessage("1", "add", [1, 2], stream_ids=["0"]))
        message = await client.next_message()
        assert isinstance(message, CompletionMessage)
        assert message.error == (
            "An unexpected error occurred invoking 'add' on the server. "
            "HubException: Client sent 1 stream(s), Hub method expects 0."
        )


async def test_server_stream_and_cancel() -> None:
    async with connected(handler()) as client:
        client.send(StreamInvocationMessage("s1", "counter", [3]))
        items = [await client.next_message() for _ in range(4)]
        assert items[:3] == [StreamItemMessage("s1", index) for index in range(3)]
        assert items[3] == CompletionMessage.empty("s1")
        client.send(StreamInvocationMessage("s2", "forever", []))
        first = await client.next_message()
        assert first == StreamItemMessage("s2", 0)
        client.send(CancelInvocationMessage("s2"))
        while True:
            message = await client.next_message()
            if isinstance(message, CompletionMessage):
                assert message == CompletionMessage.empty("s2")
                break
            assert isinstance(message, StreamItemMessage)
