"""Services injected into hub constructors (the .NET seed's OrderHub, ported)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator

import anyio
import pytest

from signalr_server.hubs import (
    Hub,
    HubCallerContext,
    HubEndpoint,
    HubOptions,
    ServiceNotFoundError,
    ServiceRegistry,
)
from signalr_server.hubs.connection import HubConnection
from signalr_server.protocol.messages import CloseMessage
from signalr_server.protocol.registry import get_protocol

from .fakes import FakeConnection, TestClient, connected

pytestmark = pytest.mark.anyio


@dataclasses.dataclass
class Order:
    id: int
    item_name: str
    owner: str


class OrderService:
    def __init__(self) -> None:
        self.orders: list[Order] = []

    def place(self, owner: str, item_name: str) -> Order:
        order = Order(len(self.orders) + 1, item_name, owner)
        self.orders.append(order)
        return order

    def for_owner(self, owner: str) -> list[Order]:
        return [order for order in self.orders if order.owner == owner]


class CurrentUserService:
    def __init__(self, user_id: str | None) -> None:
        self.user_id = user_id


class AuditLog:
    created = 0

    def __init__(self) -> None:
        AuditLog.created += 1
        self.serial = AuditLog.created


class OrderHub(Hub):
    def __init__(self, orders: OrderService, current_user: CurrentUserService) -> None:
        self.orders = orders
        self.current_user = current_user

    async def place_order(self, item_name: str) -> Order:
        owner = self.current_user.user_id or "anonymous"
        order = self.orders.place(owner, item_name)
        await self.clients.user(owner).send("OrderPlaced", order)
        return order

    def get_orders(self) -> list[Order]:
        return self.orders.for_owner(self.current_user.user_id or "anonymous")


def current_user(context: HubCallerContext) -> CurrentUserService:
    return CurrentUserService(context.user_identifier)


def order_endpoint() -> tuple[HubEndpoint, OrderService]:
    orders = OrderService()
    services = ServiceRegistry()
    services.add_singleton(OrderService, orders)
    services.add_scoped(CurrentUserService, current_user)
    return HubEndpoint(OrderHub, services=services), orders


async def test_order_hub_gets_its_services() -> None:
    endpoint, orders = order_endpoint()
    async with connected(endpoint.handler, FakeConnection(user="alice")) as client:
        placed = await client.invoke("PlaceOrder", "book")
        assert placed.result == {"id": 1, "itemName": "book", "owner": "alice"}
        pushed = await client.next_message()
        assert pushed.target == "OrderPlaced"  # type: ignore[attr-defined]
        assert pushed.arguments == [placed.result]  # type: ignore[attr-defined]
        assert (await client.invoke("GetOrders")).result == [placed.result]
    assert orders.orders == [Order(1, "book", "alice")]


async def test_missing_service_is_reported_clearly() -> None:
    # The hub is activated for on_connected too, so the connection fails at once,
    # like an ASP.NET Core hub whose constructor dependency is not registered.
    services = ServiceRegistry().add_singleton(OrderService, OrderService())
    options = HubOptions(enable_detailed_errors=True)
    endpoint = HubEndpoint(OrderHub, services=services, options=options)
    connection = FakeConnection()
    client = TestClient(connection)
    with anyio.fail_after(5):
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(endpoint.handler, connection)
            await client.handshake()
    close = await client.next_message()
    assert close == CloseMessage(
        "Connection closed with an error. ServiceNotFoundError: No service of type "
        "'CurrentUserService' is registered (needed by parameter 'current_user' of "
        "OrderHub.__init__).",
        False,
    )


EVENTS: list[str] = []


class Session:
    def __init__(self, name: str) -> None:
        self.name = name


class Clock:
    pass


def session_factory(log: AuditLog, context: HubCallerContext) -> Iterator[Session]:
    EVENTS.append("open")
    yield Session(context.connection_id)
    EVENTS.append("close")


async def clock_factory() -> AsyncIterator[Clock]:
    EVENTS.append("clock-open")
    yield Clock()
    await anyio.sleep(0)
    EVENTS.append("clock-close")


async def audit_factory() -> AuditLog:
    return AuditLog()


class ScopedHub(Hub):
    def __init__(self, session: Session, again: Session, clock: Clock, log: AuditLog) -> None:
        self.session, self.again, self.clock, self.log = session, again, clock, log

    def check(self) -> list[object]:
        EVENTS.append("run")
        return [self.session is self.again, self.session.name, self.log.serial]


async def test_scoped_services_live_for_one_invocation() -> None:
    EVENTS.clear()
    services = ServiceRegistry()
    services.add_scoped(Session, session_factory)
    services.add_scoped(Clock, clock_factory)
    services.add_scoped(AuditLog, audit_factory)
    endpoint = HubEndpoint(ScopedHub, services=services)
    async with connected(endpoint.handler) as client:
        await client.invoke("check")  # on_connected activated the hub too; let it finish
        EVENTS.clear()
        first = await client.invoke("check")
        assert first.result is not None and first.result[:2] == [True, "conn-1"]
        assert EVENTS == ["open", "clock-open", "run", "clock-close", "close"]
        second = await client.invoke("check")
        assert second.result is not None and second.result[2] != first.result[2]


async def test_scope_resolution_directly() -> None:
    services = ServiceRegistry().add_scoped(AuditLog, audit_factory)
    connection = FakeConnection()
    protocol = get_protocol("json")
    assert protocol is not None
    context = HubCallerContext(HubConnection(connection, protocol))
    async with services.scope(context) as scope:
        log = await scope.get(AuditLog)
        assert log is await scope.get(AuditLog)
        assert await scope.get(HubCallerContext) is context
        with pytest.raises(ServiceNotFoundError, match="No service of type 'Clock'"):
            await scope.get(Clock)
