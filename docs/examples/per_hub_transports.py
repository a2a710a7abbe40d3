"""One hub on every transport, the same methods on SSE and Long Polling only."""

from signalr_server import HttpTransportType, Hub, SignalR


class TestHub(Hub):
    def echo(self, message: str) -> str:
        return message


class NoWebSocketsTestHub(TestHub):
    """A hub class is mapped once, so the second path gets a subclass."""


app = SignalR()
app.map_hub("/testhub", TestHub)
app.map_hub(
    "/testhub-nowebsockets",
    NoWebSocketsTestHub,
    transports=HttpTransportType.ServerSentEvents | HttpTransportType.LongPolling,
)
