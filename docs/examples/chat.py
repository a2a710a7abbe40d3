"""The quickstart: a chat hub served by signalr-server.

Run it with ``signalr-server run docs.examples.chat:app --port 5000`` from the
repository root, then connect any SignalR client to ``/hubs/chat``.
"""

from signalr_server import Hub, HubOptions, SignalR


class ChatHub(Hub):
    async def on_connected(self) -> None:
        await self.clients.others.send("UserJoined", self.context.connection_id)

    async def send_message(self, user: str, message: str) -> None:
        # Clients call this as "SendMessage" (or "send_message").
        await self.clients.all.send("ReceiveMessage", user, message)

    async def join_room(self, room: str) -> None:
        await self.groups.add(self.context.connection_id, room)
        await self.clients.group(room).send("UserJoined", self.context.connection_id)

    async def send_to_room(self, room: str, message: str) -> None:
        await self.clients.group(room).send("ReceiveMessage", self.context.connection_id, message)

    def add(self, a: int, b: int) -> int:
        # Plain functions work too; the return value is the invocation's result.
        return a + b


app = SignalR()
app.map_hub("/hubs/chat", ChatHub, options=HubOptions(enable_detailed_errors=False))
