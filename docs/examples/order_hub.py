"""The seed's OrderHub, ported: services handed to a hub through its constructor.

In ASP.NET Core the hub is ``OrderHub(IOrderService orders, ICurrentUserService user)``
and the services are registered in DI. Here a ``ServiceRegistry`` plays that
part: singletons are shared, scoped services are built once per invocation
by a factory, and a generator factory's code after ``yield`` is its cleanup.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass

from signalr_server import Hub, HubCallerContext, HubContext, HubException, ServiceRegistry, SignalR


@dataclass
class Order:
    order_id: int
    product: str
    quantity: int


class OrderService:
    """An application service; in a real app it would talk to a database."""

    def __init__(self) -> None:
        self._orders: dict[int, Order] = {}

    def place(self, product: str, quantity: int) -> Order:
        order = Order(len(self._orders) + 1, product, quantity)
        self._orders[order.order_id] = order
        return order

    def get(self, order_id: int) -> Order | None:
        return self._orders.get(order_id)


class CurrentUser:
    def __init__(self, name: str) -> None:
        self.name = name
        self.closed = False


async def current_user(context: HubCallerContext) -> AsyncIterator[CurrentUser]:
    """Scoped: one per invocation, from the request that opened the connection."""
    user = CurrentUser(context.request.query_value("user") or "anonymous")
    try:
        yield user
    finally:
        user.closed = True  # cleanup runs after the invocation completes


class OrderHub(Hub):
    def __init__(self, orders: OrderService, user: CurrentUser) -> None:
        self.orders = orders
        self.user = user

    async def place_order(self, product: str, quantity: int) -> Order:
        if quantity <= 0:
            raise HubException("Quantity must be positive.")  # reaches the client verbatim
        order = self.orders.place(product, quantity)
        await self.clients.all.send("OrderPlaced", order.order_id, self.user.name)
        return order  # sent as {"orderId": 1, "product": ..., "quantity": ...}

    def get_order(self, order_id: int) -> Order | None:
        return self.orders.get(order_id)


services = ServiceRegistry()
services.add_singleton(OrderService, OrderService())
services.add_scoped(CurrentUser, current_user)

app = SignalR()
app.map_hub("/hubs/orders", OrderHub, services=services)

# Outside a hub (a web route, a background task) the hub context sends to the same clients:
orders_context: HubContext = app.hub_context(OrderHub)


async def announce_sale(product: str) -> None:
    await orders_context.clients.all.send("Sale", product)
