"""The client examples in docs/python-clients.md run as written against the quickstart hub."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from signalrcore.types import HttpTransportType

from docs.examples.chat import ChatHub
from signalr_server import HubOptions, SignalR
from tests.servers import run_server

PAGE = Path(__file__).resolve().parents[2] / "docs" / "python-clients.md"


def examples() -> list[dict[str, Any]]:
    """Each ```python block of the page, executed as a module that is not ``__main__``."""
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.DOTALL)
    namespaces = []
    for block in blocks:
        namespace: dict[str, Any] = {"__name__": "python_clients_example"}
        exec(compile(block, str(PAGE), "exec"), namespace)
        namespaces.append(namespace)
    return namespaces


@pytest.fixture(scope="module")
def chat_url() -> Iterator[str]:
    # The quickstart hub; a short keep-alive so signalrcore's stop() returns quickly.
    app = SignalR()
    app.map_hub("/hubs/chat", ChatHub, options=HubOptions(keep_alive_interval=0.2))
    with run_server(app) as base_url:
        yield f"{base_url}/hubs/chat"


def test_page_has_one_example_per_client() -> None:
    pysignalr_example, signalrcore_example = examples()
    assert "SignalRClient" in pysignalr_example
    assert "HubConnectionBuilder" in signalrcore_example


def test_pysignalr_example(chat_url: str) -> None:
    pysignalr_example = examples()[0]
    assert asyncio.run(pysignalr_example["main"](chat_url)) == [5, ["ada", "hello"]]


@pytest.mark.parametrize(
    "transport",
    [
        HttpTransportType.web_sockets,
        HttpTransportType.server_sent_events,
    ],
)
def test_signalrcore_example(chat_url: str, transport: HttpTransportType) -> None:
    signalrcore_example = examples()[1]
    assert signalrcore_example["main"](chat_url, transport) == [5, ["ada", "hello"]]
