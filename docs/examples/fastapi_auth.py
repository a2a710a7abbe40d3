"""FastAPI issues JWTs at a login route; a SignalR hub mounted beside it uses them.

Run it with ``signalr-server run docs.examples.fastapi_auth:app`` (or any ASGI
server), then connect with ``accessTokenFactory`` returning the token from
``POST /login``.
"""

import os
import time

import jwt
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from signalr_server import (
    Hub,
    HubOptions,
    JwtBearerAuthenticator,
    JwtBearerOptions,
    SignalR,
    authorize,
)

# One secret signs and checks tokens. Read it from the environment in real
# deployments; it must be long and random (32+ bytes for HS256).
SECRET = os.environ.get("JWT_SECRET", "change-me-to-a-long-random-secret-of-32-bytes-or-more")
ISSUER = "fastapi-auth-example"
TOKEN_LIFETIME = 3600

# A stand-in for your user store: name -> (password, roles).
USERS = {"alice": ("wonderland", ["Admin"]), "bob": ("builder", [])}


@authorize  # only authenticated users may connect
class NotificationsHub(Hub):
    async def whoami(self) -> dict[str, object]:
        user = self.context.user
        return {"name": self.context.user_identifier, "roles": sorted(user.roles)}

    async def notify(self, user_id: str, text: str) -> None:
        # Reaches every connection (every tab) of that user.
        await self.clients.user(user_id).send("Notification", text)

    @authorize(roles="Admin")
    async def broadcast(self, text: str) -> None:
        await self.clients.all.send("Notification", text)


signalr = SignalR(
    authenticator=JwtBearerAuthenticator(
        JwtBearerOptions(signing_keys=[SECRET], algorithms=["HS256"], issuer=ISSUER)
    )
)
signalr.map_hub(
    "/hubs/notifications",
    NotificationsHub,
    options=HubOptions(close_on_authentication_expiration=True),
)


class Login(BaseModel):
    username: str
    password: str


app = FastAPI(lifespan=signalr.lifespan)


@app.post("/login")
async def login(body: Login) -> dict[str, str]:
    known = USERS.get(body.username)
    if known is None or known[0] != body.password:
        raise HTTPException(status_code=401, detail="Wrong user name or password")
    now = int(time.time())
    claims = {"sub": body.username, "role": known[1], "iss": ISSUER, "iat": now}
    claims["exp"] = now + TOKEN_LIFETIME
    return {"access_token": jwt.encode(claims, SECRET, algorithm="HS256")}


@app.post("/api/notify/{user_id}")
async def notify_from_api(user_id: str, text: str) -> dict[str, bool]:
    """Push to a user from ordinary HTTP code, through the hub context."""
    await signalr.hub_context(NotificationsHub).clients.user(user_id).send("Notification", text)
    return {"sent": True}


app.mount("/", signalr)
