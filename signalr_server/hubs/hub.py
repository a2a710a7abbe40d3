"""The ``Hub`` base class and the ``@hub_method`` decorator."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, overload

if TYPE_CHECKING:
    from .clients import GroupManager, HubCallerClients
    from .context import HubCallerContext

__all__ = ["HUB_METHOD_ATTRIBUTE", "Hub", "HubMethodSettings", "hub_method"]

F = TypeVar("F", bound=Callable[..., Any])

HUB_METHOD_ATTRIBUTE = "__signalr_hub_method__"


class Hub:
    """Base class of hubs. Public methods of a subclass are callable by clients.

    A hub instance lives for one invocation (or one ``on_connected`` /
    ``on_disconnected`` call), as in ASP.NET Core: keep per-connection state
    in ``self.context.items`` and shared state in services. ``context``,
    ``clients`` and ``groups`` are set before the method runs; ``__init__``
    may take services by type annotation (see ``ServiceRegistry``).
    """

    context: HubCallerContext
    clients: HubCallerClients
    groups: GroupManager

    async def on_connected(self) -> None:
        """Called once after the handshake; raising closes the connection without reconnect."""

    async def on_disconnected(self, error: Exception | None) -> None:
        """Called once when the connection ends; ``error`` is why, or ``None`` for a clean close."""


@dataclass(frozen=True, slots=True)
class HubMethodSettings:
    """What ``@hub_method`` recorded on a function."""

    name: str | None = None
    hidden: bool = False


@overload
def hub_method(function: F, /) -> F: ...


@overload
def hub_method(*, name: str | None = None, hidden: bool = False) -> Callable[[F], F]: ...


def hub_method(
    function: F | None = None, /, *, name: str | None = None, hidden: bool = False
) -> F | Callable[[F], F]:
    """Adjust how a hub method is exposed.

    ``name`` replaces the wire name (like ``[HubMethodName]``); the Python and
    PascalCase names then no longer work. ``hidden=True`` keeps a public
    method from being callable by clients, as a leading underscore does.
    """
    if name is not None and not name:
        raise ValueError("a hub method name must not be empty")
    settings = HubMethodSettings(name=name, hidden=hidden)

    def decorate(func: F) -> F:
        target = func.__func__ if isinstance(func, staticmethod) else func
        setattr(target, HUB_METHOD_ATTRIBUTE, settings)
        return func

    if function is not None:
        return decorate(function)
    return decorate
