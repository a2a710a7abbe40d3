"""``HubContext``: sending to a hub's clients from outside the hub.

Routes, background tasks and other services use it the way ASP.NET Core code
uses ``IHubContext<THub>``; there is no caller, so ``caller`` and ``others``
are not offered.
"""

from __future__ import annotations

from .clients import GroupManager, HubClients
from .lifetime import HubLifetimeManager

__all__ = ["HubContext"]


class HubContext:
    """``clients`` and ``groups`` of one hub endpoint, usable from anywhere in the app."""

    __slots__ = ("clients", "groups", "lifetime_manager")

    def __init__(self, lifetime_manager: HubLifetimeManager) -> None:
        self.lifetime_manager = lifetime_manager
        self.clients = HubClients(lifetime_manager)
        self.groups = GroupManager(lifetime_manager)
