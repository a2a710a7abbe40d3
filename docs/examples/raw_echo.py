"""A raw-connection echo that answers from the socket callback where it can
(see "Raw connections" in docs/running.md).

``signalr-server run docs.examples.raw_echo:app --server native`` serves it; any
client that speaks the negotiate/WebSocket transport layer can connect to
``/echo``. On the native server, messages that arrive while the handler waits
are answered by ``answer`` without any task waking; elsewhere ``listen``
returns False and every message takes the ``receive``/``send`` loop.
"""

from __future__ import annotations

from signalr_server import SignalR
from signalr_server.connections import ConnectionClosed, ConnectionContext

answered_at_once = 0
"""How many messages ``answer`` sent (the tests read it)."""


async def echo(connection: ConnectionContext) -> None:
    def answer(data: bytes) -> bool:
        global answered_at_once
        if not connection.send_now(data):
            return False  # nothing was sent: receive() gets it instead
        answered_at_once += 1
        return True

    connection.listen(answer)
    try:
        while True:
            await connection.send(await connection.receive())
    except ConnectionClosed:
        pass
    finally:
        connection.listen(None)


app = SignalR()
app.map_connection("/echo", echo)
