"""The app the PyPI Python clients are tested against, built from the interop hubs.

It maps the same hub classes the Node suite drives (``interop/server``), with
one change: a short keep-alive on the hubs ``signalrcore`` uses over
WebSockets and SSE. ``signalrcore``'s ``stop()`` closes its socket while its
receive thread is blocked reading it, so the thread (and ``stop()``) only
returns when the server sends the next frame; with the default 15 s
keep-alive each stop would take up to 15 s. The quiet route keeps the
default, because ``signalrcore``'s Long Polling handles only one message per
poll response and frequent pings would stall it behind them.

Routes:

- ``/hubs/test``: ``InteropHub`` (user from ``?user=``), 0.2 s keep-alive.
- ``/hubs/quiet``: the same methods, default keep-alive (Long Polling peers).
- ``/hubs/presence``: ``PresenceHub``, 0.2 s keep-alive.
- ``/hubs/streaming``: ``StreamingHub`` plus ``report_sum``, 0.2 s keep-alive.
- ``/hubs/secure``: ``SecureHub`` behind the JWT bearer authenticator of
  ``interop/server/auth_app.py`` (tokens from ``auth_app.issue_token``).
- ``POST /push/...`` and ``GET /health`` as in ``interop/server/app.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from interop.server import auth_app
from interop.server.app import InteropHub, PresenceHub, PushRoutes, user_from_query
from interop.server.streaming_app import StreamingHub
from signalr_server.app import SignalR
from signalr_server.auth import JwtBearerAuthenticator, JwtBearerOptions
from signalr_server.hubs import HubOptions

SHORT_KEEP_ALIVE = 0.2
"""Seconds between server pings on the hubs ``signalrcore`` stops over WebSockets/SSE."""


class QuietInteropHub(InteropHub):
    """``InteropHub`` with the default 15 s keep-alive, for Long Polling peers."""


class PeerStreamingHub(StreamingHub):
    """``StreamingHub`` plus an upload whose outcome reaches a fire-and-forget caller.

    Both PyPI clients start uploads with an Invocation that has no invocation
    id, so a method's return value never comes back to them; this one sends
    the total to the caller as ``Summed(total)`` instead.
    """

    async def report_sum(self, numbers: AsyncIterator[int]) -> None:
        total = sum([number async for number in numbers])
        await self.clients.caller.send("Summed", total)


def create_peer_app() -> SignalR:
    quick = HubOptions(keep_alive_interval=SHORT_KEEP_ALIVE)
    routes = PushRoutes()
    signalr = SignalR(fallback=routes)
    signalr.map_hub("/hubs/test", InteropHub, options=quick, user_id_provider=user_from_query)
    signalr.map_hub("/hubs/quiet", QuietInteropHub, user_id_provider=user_from_query)
    signalr.map_hub("/hubs/presence", PresenceHub, options=quick)
    signalr.map_hub(
        "/hubs/streaming",
        PeerStreamingHub,
        options=HubOptions(
            keep_alive_interval=SHORT_KEEP_ALIVE, maximum_parallel_invocations_per_client=4
        ),
    )
    signalr.map_hub(
        "/hubs/secure",
        auth_app.SecureHub,
        options=quick,
        authenticator=JwtBearerAuthenticator(JwtBearerOptions(signing_keys=[auth_app.SIGNING_KEY])),
    )
    routes.hub = signalr.hub_context(InteropHub)
    return signalr


def issue_token(sub: str, roles: list[str] | None = None) -> str:
    """A token ``/hubs/secure`` accepts, valid for a minute."""
    return auth_app.issue_token(sub, roles or [], None, 60)
