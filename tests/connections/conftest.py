"""Fixtures for the connection tests: one live server per server kind."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from signalr_server.app import SignalR
from signalr_server.connections import ConnectionManager, HttpConnection
from tests.servers import SERVERS, run_server

from .apps import Probe, make_app


@dataclass
class LiveServer:
    base_url: str
    app: SignalR
    probe: Probe
    kind: str

    @property
    def ws_url(self) -> str:
        return "ws" + self.base_url.removeprefix("http")

    def manager(self, base: str) -> ConnectionManager:
        return dict(self.app._endpoints)[base].manager

    def negotiate_token(self, base: str = "/echo") -> str:
        response = httpx.post(f"{self.base_url}{base}/negotiate?negotiateVersion=1")
        assert response.status_code == 200
        return str(response.json()["connectionToken"])

    def connection(self, base: str, token: str) -> HttpConnection:
        found = self.manager(base).get(token)
        assert found is not None
        return found


@pytest.fixture(scope="module", params=SERVERS)
def live_server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    probe = Probe()
    app = make_app(probe)
    with run_server(app, server=request.param) as base_url:
        yield LiveServer(base_url, app, probe, request.param)
