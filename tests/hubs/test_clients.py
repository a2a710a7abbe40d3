"""Every clients target, groups and users, across several fake connections."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import pytest

from signalr_server.hubs import Hub, HubEndpoint
from signalr_server.protocol.messages import InvocationMessage
from signalr_server.protocol.registry import PROTOCOLS

from .fakes import FakeConnection, TestClient

pytestmark = pytest.mark.anyio


class RoomHub(Hub):
    async def join(self, room: str) -> None:
        await self.groups.add(self.context.connection_id, room)

    async def leave(self, room: str) -> None:
        await self.groups.remove(self.context.connection_id, room)

    async def to(self, target: str, arg: str = "") -> None:
        clients = self.clients
        proxy = {
            "all": lambda: clients.all,
            "others": lambda: clients.others,
            "caller": lambda: clients.caller,
            "client": lambda: clients.client(arg),
            "clients": lambda: clients.clients(arg.split(",")),
            "all_except": lambda: clients.all_except(arg.split(",")),
            "group": lambda: clients.group(arg),
            "groups": lambda: clients.groups(arg.split(",")),
            "group_except": lambda: clients.group_except("room", arg.split(",")),
            "others_in_group": lambda: clients.others_in_group(arg),
            "user": lambda: clients.user(arg),
            "users": lambda: clients.users(arg.split(",")),
        }[target]()
        await proxy.send("Got", target, self.context.connection_id)


USERS = {"c1": "alice", "c2": "bob", "c3": "alice", "c4": None}


@asynccontextmanager
async def four_clients(endpoint: HubEndpoint) -> AsyncIterator[dict[str, TestClient]]:
    clients: dict[str, TestClient] = {}
    async with anyio.create_task_group() as task_group:
        for index, (connection_id, user) in enumerate(USERS.items()):
            connection = FakeConnection(connection_id, user=user)
            client = TestClient(connection, "json" if index % 2 == 0 else "messagepack")
            task_group.start_soon(endpoint.handler, connection)
            await client.handshake()
            clients[connection_id] = client
        try:
            yield clients
        finally:
            for client in clients.values():
                client.connection.close_input()


async def receivers(
    clients: dict[str, TestClient], caller: str, target: str, arg: str = ""
) -> set[str]:
    """Call ``to(target, arg)`` from ``caller``; return who got the message."""
    await clients[caller].invoke("to", target, arg)
    got: set[str] = set()
    for connection_id, client in clients.items():
        with anyio.move_on_after(0.05):
            message = await client.next_message()
            assert isinstance(message, InvocationMessage)
            assert message.invocation_id is None
            assert (message.target, message.arguments) == ("Got", [target, caller])
            got.add(connection_id)
    return got


async def test_every_target() -> None:
    async with four_clients(HubEndpoint(RoomHub)) as clients:
        for connection_id in ("c1", "c2", "c3"):
            await clients[connection_id].invoke("join", "room")
        await clients["c4"].invoke("join", "other")
        assert await receivers(clients, "c1", "all") == {"c1", "c2", "c3", "c4"}
        assert await receivers(clients, "c1", "others") == {"c2", "c3", "c4"}
        assert await receivers(clients, "c2", "caller") == {"c2"}
        assert await receivers(clients, "c1", "client", "c3") == {"c3"}
        assert await receivers(clients, "c1", "client", "nobody") == set()
        assert await receivers(clients, "c1", "clients", "c2,c4") == {"c2", "c4"}
        assert await receivers(clients, "c1", "all_except", "c2,c4") == {"c1", "c3"}
        assert await receivers(clients, "c4", "group", "room") == {"c1", "c2", "c3"}
        assert await receivers(clients, "c1", "groups", "room,other") == {"c1", "c2", "c3", "c4"}
        assert await receivers(clients, "c1", "group_except", "c1,c3") == {"c2"}
        assert await receivers(clients, "c2", "others_in_group", "room") == {"c1", "c3"}
        assert await receivers(clients, "c2", "user", "alice") == {"c1", "c3"}
        assert await receivers(clients, "c2", "users", "bob,alice") == {"c1", "c2", "c3"}
        assert await receivers(clients, "c2", "group", "ROOM") == set()  # case-sensitive


async def test_group_remove_and_disconnect_cleanup() -> None:
    endpoint = HubEndpoint(RoomHub)
    async with four_clients(endpoint) as clients:
        for connection_id in ("c1", "c2"):
            await clients[connection_id].invoke("join", "room")
        await clients["c1"].invoke("leave", "room")
        await clients["c3"].invoke("leave", "room")  # not a member: ignored
        assert await receivers(clients, "c4", "group", "room") == {"c2"}
        clients["c2"].connection.close_input()
        with anyio.fail_after(2):
            while "c2" in endpoint.lifetime_manager._connections:  # type: ignore[attr-defined]
                await anyio.sleep(0.01)
        del clients["c2"]
        assert await receivers(clients, "c4", "group", "room") == set()
        assert await receivers(clients, "c1", "user", "bob") == set()


async def test_hub_context_pushes_from_outside() -> None:
    endpoint = HubEndpoint(RoomHub)
    async with four_clients(endpoint) as clients:
        context = endpoint.context
        await context.groups.add("c3", "news")
        await context.clients.group("news").send("Headline", "hello", 1)
        await context.clients.all.send("Tick")
        for connection_id, client in clients.items():
            if connection_id == "c3":
                headline = await client.next_message()
                assert (headline.target, headline.arguments) == ("Headline", ["hello", 1])  # type: ignore[attr-defined]
            tick = await client.next_message()
            assert (tick.target, tick.arguments) == ("Tick", [])  # type: ignore[attr-defined]
        await context.groups.remove("c3", "news")
        await context.clients.group("news").send("Headline", "again")
        await context.clients.user("bob").send("Private")
        assert (await clients["c2"].next_message()).target == "Private"  # type: ignore[attr-defined]
        await clients["c3"].no_message()


async def test_broadcast_is_encoded_once_per_protocol_and_survives_a_dead_connection() -> None:
    endpoint = HubEndpoint(RoomHub)
    async with four_clients(endpoint) as clients:
        dead = clients.pop("c4")
        dead.connection.closed = True  # its sends now raise: the others must not notice
        writes: list[str] = []
        protocols = list(PROTOCOLS.values())
        for protocol in protocols:
            original = protocol.write

            def counting(message: object, _original=original, _name=protocol.name) -> bytes:
                writes.append(_name)
                return _original(message)  # type: ignore[arg-type]

            protocol.write = counting  # type: ignore[method-assign]
        try:
            await endpoint.context.clients.all.send("Hello", {"nested": [1, 2]})
        finally:
            for protocol in protocols:
                del protocol.write  # type: ignore[attr-defined]
        assert sorted(writes) == ["json", "messagepack"]
        for client in clients.values():
            message = await client.next_message()
            assert message.arguments == [{"nested": [1, 2]}]  # type: ignore[attr-defined]
        dead.connection.close_input()
