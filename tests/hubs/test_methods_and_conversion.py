"""Method tables and value conversion, without a connection."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import uuid
from typing import Any, Literal

import pytest

from signalr_server.hubs import Hub, hub_method
from signalr_server.hubs.conversion import ConversionError, camel_case, converter_for, to_wire
from signalr_server.hubs.errors import BindingError
from signalr_server.hubs.methods import MethodTable, pascal_case


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


@dataclasses.dataclass
class Item:
    item_id: uuid.UUID
    level: Level
    created_at: dt.datetime | None = None


def test_names() -> None:
    assert pascal_case("send_message") == "SendMessage"
    assert pascal_case("add") == "Add"
    assert camel_case("item_id") == "itemId"
    assert camel_case("name") == "name"


def test_to_wire() -> None:
    item = Item(uuid.UUID(int=2), Level.HIGH, dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    assert to_wire(item) == {
        "itemId": "00000000-0000-0000-0000-000000000002",
        "level": 2,
        "createdAt": dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
    }
    assert to_wire((1, {2: bytearray(b"x")}, {None})) == [1, {"2": b"x"}, [None]]
    assert to_wire(dt.date(2020, 1, 2)) == "2020-01-02"
    with pytest.raises(TypeError):
        to_wire(object())


@pytest.mark.parametrize(
    ("annotation", "value", "expected"),
    [
        (int, 3.0, 3),
        (float, 3, 3.0),
        (int | str, "x", "x"),
        (float | int, 1, 1),
        (list[int], [1, 2], [1, 2]),
        (tuple[int, str], [1, "a"], (1, "a")),
        (set[str], ["a", "a"], {"a"}),
        (dict[str, list[int]], {"a": [1]}, {"a": [1]}),
        (Literal["a", "b"], "b", "b"),
        (Level, "high", Level.HIGH),
        (dt.date, "2020-01-02T10:00:00Z", dt.date(2020, 1, 2)),
        (Any, object, object),
        (
            Item,
            {"ITEMID": "00000000-0000-0000-0000-000000000001", "Level": 1},
            Item(uuid.UUID(int=1), Level.LOW),
        ),
    ],
)
def test_conversions(annotation: Any, value: Any, expected: Any) -> None:
    assert converter_for(annotation)(value) == expected


@pytest.mark.parametrize(
    ("annotation", "value"),
    [
        (int, True),
        (int, 1.5),
        (bool, 1),
        (str, None),
        (bytes, "not base64!"),
        (dt.datetime, "yesterday"),
        (uuid.UUID, "nope"),
        (Level, 7),
        (list[int], {"a": 1}),
        (Item, {"level": 1}),
        (Literal["a"], "c"),
    ],
)
def test_conversion_failures(annotation: Any, value: Any) -> None:
    with pytest.raises(ConversionError):
        converter_for(annotation)(value)


class TableHub(Hub):
    def plain(self, a: int, b: int = 2) -> int:
        return a + b

    @staticmethod
    def static(a: str) -> str:
        return a

    @hub_method
    def decorated(self) -> None:
        return None

    @property
    def prop(self) -> int:
        return 1

    async def stream(self):  # type: ignore[no-untyped-def]
        yield 1


def test_method_table() -> None:
    table = MethodTable(TableHub)
    assert {method.attribute for method in table.methods} == {
        "plain",
        "static",
        "decorated",
        "stream",
    }
    plain = table.lookup("PLAIN")
    assert plain is not None and plain.bind([1], per_argument_errors=False) == [1]
    assert plain.bind([1, 5], per_argument_errors=False) == [1, 5]
    with pytest.raises(BindingError, match=r"provides 3 argument\(s\) but target expects 2"):
        plain.bind([1, 2, 3], per_argument_errors=False)
    stream = table.lookup("Stream")
    assert stream is not None and stream.is_streaming
    assert table.lookup("prop") is None
    assert table.lookup("on_connected") is None


def test_overloads_are_refused() -> None:
    class Clash(Hub):
        def send_message(self) -> None: ...

        def sendmessage(self) -> None: ...

    with pytest.raises(TypeError, match="Overloading is not supported"):
        MethodTable(Clash)


def test_unbindable_parameters_are_refused() -> None:
    class Variadic(Hub):
        def many(self, *values: int) -> None: ...

    with pytest.raises(TypeError, match="cannot fill"):
        MethodTable(Variadic)
