"""``parse_json_object`` answers the usual invocation (exactly ``type``,
``invocationId``, ``target`` and ``arguments``) before its general path; for
every value of those four it must give what the general path gives."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given

from signalr_server.protocol import json_reading
from signalr_server.protocol.json_reading import parse_json_object
from signalr_server.protocol.messages import InvocationMessage

from .differential import ANY_VALUE


def _outcome(obj: dict[str, Any]) -> Any:
    try:
        return parse_json_object(dict(obj))
    except Exception as exc:
        return type(exc), str(exc)


def _general_outcome(obj: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    with monkeypatch.context() as patched:
        patched.setattr(json_reading, "_CALL_PROPERTIES", -1)
        return _outcome(obj)


@pytest.mark.parametrize(
    ("type_", "invocation_id", "target", "arguments"),
    [
        (1, "1", "Echo", ["x"]),
        (1, "", "Echo", []),  # an empty id is a non-blocking call
        (True, "1", "Echo", []),  # a bool is not a message type
        (1.0, "1", "Echo", []),
        (4, "1", "Echo", []),  # a stream invocation has the same properties
        (1, 5, "Echo", []),
        (1, None, "Echo", []),
        (1, "1", "", []),
        (1, "1", 5, []),
        (1, "1", "Echo", None),
        (1, "1", "Echo", {"a": 1}),
        (99, "1", "Echo", []),
    ],
)
def test_the_usual_invocation_parses_as_the_general_path_does(
    type_: Any, invocation_id: Any, target: Any, arguments: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    obj = {"type": type_, "invocationId": invocation_id, "target": target, "arguments": arguments}
    assert _outcome(obj) == _general_outcome(obj, monkeypatch)


@pytest.mark.parametrize(
    "obj",
    [
        {"type": 1, "target": "Echo", "arguments": [], "streamIds": ["a"]},
        {"type": 1, "target": "Echo", "arguments": [], "headers": {}},
        {"type": 1, "target": "Echo", "arguments": [], "unknown": "1"},
        {"type": 1, "invocationId": "1", "target": "Echo", "item": []},
        {"target": "Echo", "invocationId": "1", "arguments": [], "error": "x"},
    ],
)
def test_other_four_property_objects_take_the_general_path(
    obj: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _outcome(obj) == _general_outcome(obj, monkeypatch)


def test_the_fast_path_is_taken_for_the_usual_invocation(monkeypatch: pytest.MonkeyPatch) -> None:
    # The general path would reach the invocation parser; the fast path never does.
    def refuse(obj: dict[str, Any]) -> Any:
        raise AssertionError("took the general path")

    parsers = dict(json_reading._PARSERS)
    parsers[1] = (refuse, parsers[1][1])
    monkeypatch.setattr(json_reading, "_PARSERS", parsers)
    obj = {"type": 1, "invocationId": "7", "target": "Echo", "arguments": ["x"]}
    assert parse_json_object(obj) == InvocationMessage("7", "Echo", ["x"], None, None)


@given(type_=ANY_VALUE, invocation_id=ANY_VALUE, target=ANY_VALUE, arguments=ANY_VALUE)
def test_any_values_of_the_four_properties_agree(
    type_: Any, invocation_id: Any, target: Any, arguments: Any
) -> None:
    obj = {"type": type_, "invocationId": invocation_id, "target": target, "arguments": arguments}
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert _outcome(obj) == _general_outcome(obj, monkeypatch)
