"""Mounting signalr-server inside a Starlette (or FastAPI) application.

Starlette does not pass lifespan events to mounted apps, so hand it ours:
``lifespan=signalr.lifespan`` gives connection handlers their task group.
"""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from signalr_server import Hub, SignalR


class ChatHub(Hub):
    async def send_message(self, user: str, message: str) -> None:
        await self.clients.all.send("ReceiveMessage", user, message)


signalr = SignalR()
signalr.map_hub("/chat", ChatHub)


async def broadcast(request: Request) -> JSONResponse:
    body = await request.json()
    await signalr.hub_context(ChatHub).clients.all.send("ReceiveMessage", "server", body["text"])
    return JSONResponse({"sent": True})


app = Starlette(
    routes=[Route("/api/broadcast", broadcast, methods=["POST"]), Mount("/rt", app=signalr)],
    lifespan=signalr.lifespan,
)
