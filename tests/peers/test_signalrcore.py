"""``signalrcore`` (PyPI, thread-based) as a peer of our server.

What ``signalrcore`` 1.0 can do, and what these tests drive: WebSockets, SSE
and Long Polling; JSON and MessagePack; invocations with results and error
Completions; server-to-client calls (``on``); server streams with items,
completion and errors; uploads with ``Subject``; ``access_token_factory``;
``stop()``.

Client bugs and gaps noted here rather than worked around in the server:

- ``stream()`` sends the StreamInvocation before it returns the handler to
  ``subscribe`` to, so items that arrive first are dropped ("no callback
  configured"); over SSE and Long Polling, where sending is a blocking POST,
  that happens almost every time. ``start_stream`` below builds the same
  StreamInvocation with the library's own classes but subscribes first.
- Errors of invocations and streams go only to the connection-wide
  ``on_error``, never to the invocation's or the stream's own callback.
- Client results are not supported: a handler's return value is dropped and
  no Completion is sent, so the server's ``invoke`` on such a client times out.
- MessagePack uploads are malformed: its ``InvocationClientStreamMessage``
  has no invocation-id slot, so the server reads the arguments array where
  the target should be and closes the connection with a protocol error
  (tested: the server closes that one connection and keeps serving).
- Long Polling handles only the first message of each poll response (the
  rest wait for the next response), and its MessagePack client cannot even be
  constructed (``super(LongPollingTextClient, self)`` in
  ``LongPollingBinaryClient``). Long Polling is tested with JSON against a hub
  with the default keep-alive, where a response carries one message.
- Long Polling sends the ``Authorization`` header with its POSTs but not
  with its polls, so on a hub that requires a token every poll gets 401 and
  the client silently polls again, never completing its handshake; the token
  is tested over WebSockets and SSE.
- ``stop()`` over WebSockets and SSE returns only after the server's next
  frame (its receive thread stays blocked in ``recv``), and sends no Close
  frame; the tests' hubs ping every 0.2 s for that reason (see ``apps.py``).
- It negotiates without ``negotiateVersion`` (version 0) and sends the hub
  protocol version equal to the negotiate version (0), which the server
  accepts like the reference (any version up to its own).
"""

from __future__ import annotations

import queue
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.error import HTTPError

import pytest
from signalrcore.hub.base_hub_connection import BaseHubConnection
from signalrcore.hub.handlers import StreamHandler
from signalrcore.hub_connection_builder import HubConnectionBuilder
from signalrcore.messages.completion_message import CompletionMessage
from signalrcore.messages.stream_invocation_message import StreamInvocationMessage
from signalrcore.subject import Subject
from signalrcore.types import HttpTransportType, HubProtocolEncoding

from tests.peers.apps import issue_token

TIMEOUT = 5.0

WS = HttpTransportType.web_sockets
SSE = HttpTransportType.server_sent_events
LP = HttpTransportType.long_polling
JSON = HubProtocolEncoding.text
MSGPACK = HubProtocolEncoding.binary

STREAMING_COMBINATIONS = [
    pytest.param(WS, JSON, id="websockets-json"),
    pytest.param(WS, MSGPACK, id="websockets-messagepack"),
    pytest.param(SSE, JSON, id="sse-json"),
]
"""Where messages flow freely: Long Polling only reads one message per poll."""

ALL_COMBINATIONS = [*STREAMING_COMBINATIONS, pytest.param(LP, JSON, id="longpolling-json")]


class Peer:
    """A started ``signalrcore`` connection, with its callbacks turned into waitable state."""

    def __init__(self, connection: BaseHubConnection) -> None:
        self.connection = connection
        self.opened = threading.Event()
        self.closed = threading.Event()
        self._completions: dict[str, CompletionMessage] = {}
        self._completed = threading.Condition()
        self.received: dict[str, queue.Queue[list[Any]]] = {}
        connection.on_open(self.opened.set)
        connection.on_close(self.closed.set)
        # signalrcore reports every error Completion here and nowhere else.
        connection.on_error(self._complete)

    def _complete(self, message: Any) -> None:
        if isinstance(message, CompletionMessage):
            with self._completed:
                self._completions[message.invocation_id] = message
                self._completed.notify_all()

    def wait_completion(self, invocation_id: str) -> CompletionMessage:
        with self._completed:
            arrived = self._completed.wait_for(lambda: invocation_id in self._completions, TIMEOUT)
            assert arrived, f"no Completion for {invocation_id}"
            return self._completions.pop(invocation_id)

    def listen(self, target: str) -> None:
        calls: queue.Queue[list[Any]] = queue.Queue()
        self.connection.on(target, lambda arguments: calls.put(list(arguments)))
        self.received[target] = calls

    def next_call(self, target: str) -> list[Any]:
        return self.received[target].get(timeout=TIMEOUT)

    def invoke(self, method: str, *arguments: Any) -> CompletionMessage:
        """Invoke and wait for the Completion, whether it carries a result or an error."""
        invocation_id = str(uuid.uuid4())
        self.connection.invoke(
            method, list(arguments), on_invocation=self._complete, invocation_id=invocation_id
        )
        return self.wait_completion(invocation_id)

    def start_stream(self, method: str, *arguments: Any) -> tuple[str, queue.Queue[Any]]:
        """Like ``connection.stream`` but subscribed before the request is sent.

        Returns the invocation id (its Completion arrives through
        ``wait_completion``) and a queue of the items.
        """
        invocation_id = str(uuid.uuid4())
        items: queue.Queue[Any] = queue.Queue()
        handler = StreamHandler(method, invocation_id)
        handler.subscribe({"next": items.put, "complete": self._complete, "error": self._complete})
        self.connection.stream_handlers[invocation_id].append(handler)
        self.connection.transport.send(
            StreamInvocationMessage(
                invocation_id, method, list(arguments), headers=self.connection.headers
            )
        )
        return invocation_id, items


@contextmanager
def connected(
    url: str,
    transport: HttpTransportType = WS,
    protocol: HubProtocolEncoding = JSON,
    *,
    listen: tuple[str, ...] = (),
    options: dict[str, Any] | None = None,
) -> Iterator[Peer]:
    """A started connection, stopped (and seen closed) when the block ends."""
    connection = (
        HubConnectionBuilder()
        .with_url(url, options={"transport": transport, **(options or {})})
        .with_hub_protocol(protocol)
        .build()
    )
    peer = Peer(connection)
    for target in listen:
        peer.listen(target)
    assert connection.start()
    try:
        assert peer.opened.wait(TIMEOUT), "signalrcore did not connect in time"
        yield peer
    finally:
        connection.stop()
    assert peer.closed.wait(TIMEOUT), "signalrcore did not report the connection closed"


def hub_for(base_url: str, transport: HttpTransportType, path: str = "/hubs/test") -> str:
    """Long Polling peers use the quiet hub (one message per poll; see the module doc)."""
    return f"{base_url}/hubs/quiet" if transport is LP and path == "/hubs/test" else base_url + path


@pytest.mark.parametrize(("transport", "protocol"), ALL_COMBINATIONS)
def test_invoke_returns_results(
    base_url: str, transport: HttpTransportType, protocol: HubProtocolEncoding
) -> None:
    url = hub_for(base_url, transport) + "?user=lin"
    with connected(url, transport, protocol) as peer:
        assert peer.invoke("add", 20, 22).result == 42
        payload = {"text": "héllo", "items": [1, 2.5, None, True], "nested": {"k": "v"}}
        assert peer.invoke("echo", payload).result == payload
        assert peer.invoke("get_user_identifier").result == "lin"


@pytest.mark.parametrize(("transport", "protocol"), ALL_COMBINATIONS)
def test_hub_exception_text_reaches_the_client(
    base_url: str, transport: HttpTransportType, protocol: HubProtocolEncoding
) -> None:
    with connected(hub_for(base_url, transport), transport, protocol) as peer:
        assert peer.invoke("throw_hub_exception", "custom message").error == (
            "An unexpected error occurred invoking 'throw_hub_exception' on the server. "
            "HubException: custom message"
        )
        assert peer.invoke("throw_exception", "secret detail").error == (
            "An unexpected error occurred invoking 'throw_exception' on the server."
        )
        assert peer.invoke("add", 1, 1).result == 2


@pytest.mark.parametrize(("transport", "protocol"), STREAMING_COMBINATIONS)
def test_server_calls_client_handlers(
    base_url: str, transport: HttpTransportType, protocol: HubProtocolEncoding
) -> None:
    url = f"{base_url}/hubs/test?user=kay"
    with connected(url, transport, protocol, listen=("Message",)) as peer:
        peer.invoke("send_to_caller", {"n": 1})
        assert peer.next_call("Message") == ["caller", {"n": 1}]
        peer.invoke("send_to_user", "kay", [1, 2, 3])
        assert peer.next_call("Message") == ["user", [1, 2, 3]]


def test_groups_across_transports(base_url: str) -> None:
    with (
        connected(f"{base_url}/hubs/test", WS, listen=("Message",)) as member,
        connected(f"{base_url}/hubs/test", SSE, listen=("Message",)) as outsider,
    ):
        member.invoke("join_group", "core-peers")
        outsider.invoke("send_to_group", "core-peers", "to the group")
        assert member.next_call("Message") == ["group", "to the group"]
        # Ordered delivery: a group message to the outsider would come first.
        outsider.invoke("send_to_caller", "marker")
        assert outsider.next_call("Message") == ["caller", "marker"]


@pytest.mark.parametrize(("transport", "protocol"), STREAMING_COMBINATIONS)
def test_server_stream(
    base_url: str, transport: HttpTransportType, protocol: HubProtocolEncoding
) -> None:
    with connected(f"{base_url}/hubs/streaming", transport, protocol) as peer:
        invocation_id, items = peer.start_stream("counter", 5, 1)
        completion = peer.wait_completion(invocation_id)
        assert completion.error is None
        assert [items.get_nowait() for _ in range(items.qsize())] == [0, 1, 2, 3, 4]

        invocation_id, items = peer.start_stream("stream_then_throw", True)
        assert peer.wait_completion(invocation_id).error == (
            "An error occurred on the server while streaming results. "
            "HubException: a message for the client"
        )
        assert items.get_nowait() == 1


@pytest.mark.parametrize(
    ("transport", "protocol"),
    [pytest.param(WS, JSON, id="websockets-json"), pytest.param(SSE, JSON, id="sse-json")],
)
def test_upload_with_subject(
    base_url: str, transport: HttpTransportType, protocol: HubProtocolEncoding
) -> None:
    with connected(f"{base_url}/hubs/streaming", transport, protocol, listen=("Summed",)) as peer:
        subject = Subject()
        peer.connection.send("report_sum", subject)
        for number in (1, 2, 3, 4):
            subject.next(number)
        subject.complete()
        assert peer.next_call("Summed") == [10]


def test_malformed_messagepack_upload_closes_only_that_connection(base_url: str) -> None:
    """signalrcore's MessagePack upload Invocation lacks the invocation-id slot."""
    with connected(f"{base_url}/hubs/streaming", WS, MSGPACK) as broken:
        broken.connection.send("report_sum", Subject())
        assert broken.closed.wait(TIMEOUT), "the server kept a connection that sent garbage"
    with connected(f"{base_url}/hubs/test", WS, MSGPACK) as healthy:
        assert healthy.invoke("add", 1, 2).result == 3


@pytest.mark.parametrize("transport", [WS, SSE], ids=["websockets", "sse"])
def test_access_token_factory(base_url: str, transport: HttpTransportType) -> None:
    options = {"access_token_factory": lambda: issue_token("core-user", roles=["Reader"])}
    with connected(f"{base_url}/hubs/secure", transport, options=options) as peer:
        assert peer.invoke("who_am_i").result == {
            "user": "core-user",
            "roles": ["Reader"],
            "transport": transport.value,
        }
        assert peer.invoke("admin_only").error is not None


def test_missing_token_is_refused(base_url: str) -> None:
    """The negotiate answers 401; signalrcore lets urllib's HTTPError escape.

    (Its own ``UnAuthorizedHubError`` branch is never reached: the request
    helper raises on any 4xx before the status is checked.)
    """
    connection = HubConnectionBuilder().with_url(f"{base_url}/hubs/secure").build()
    with pytest.raises(HTTPError) as refused:
        connection.start()
    assert refused.value.code == 401


@pytest.mark.parametrize("transport", [WS, SSE, LP], ids=["websockets", "sse", "longpolling"])
def test_stop_disconnects_on_the_server(base_url: str, transport: HttpTransportType) -> None:
    presence = ("Connected", "Disconnected")
    with connected(f"{base_url}/hubs/presence", WS, listen=presence) as watcher:
        with connected(f"{base_url}/hubs/presence", transport):
            [arrived] = watcher.next_call("Connected")
        [left] = watcher.next_call("Disconnected")
        assert left == arrived
