"""Fixtures for the PyPI-client peer tests: one real server per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.peers.apps import create_peer_app
from tests.servers import run_server


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    """The peer app under hypercorn (asyncio), shared by a module's tests."""
    with run_server(create_peer_app(), server="hypercorn-asyncio") as url:
        yield url
