"""Authorization rules for hubs and hub methods: the ``@authorize`` decorator.

On a hub class a rule guards the *connection*: it is checked on negotiate and
on every transport request (the endpoint answers 401 to an anonymous caller,
403 to an authenticated one the rule refuses), and once more when the hub
handler starts, so a connection that slipped past the endpoint still never
reaches ``on_connected``. On a method it guards each *invocation*: a refused
call gets ``Failed to invoke '{target}' because user is unauthorized`` (INV-8)
and the connection stays open, as in ASP.NET Core.

Every rule requires an authenticated user. Beyond that it may require

* ``roles``: any one of them (``"Admin,Manager"`` or a list, as ``Roles =``);
* ``claims``: each named claim present, and with one of the given values when
  values are listed (``RequireClaim``);
* ``policy``: plain callables ``(user, context) -> bool``, sync or async,
  all of which must return true. ``context`` is an ``AuthorizationContext``.

Several ``@authorize`` on one target must all pass; class rules are inherited
by subclasses. A policy that raises counts as a refusal (and is logged).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, overload

from ..connections.context import RequestInfo

if TYPE_CHECKING:
    from .context import HubCallerContext
    from .hub import Hub

__all__ = [
    "AUTHORIZE_ATTRIBUTE",
    "AuthorizationContext",
    "AuthorizationRule",
    "Policy",
    "authorize",
    "hub_rules",
    "is_authenticated",
    "is_authorized",
    "method_rules",
]

logger = logging.getLogger("signalr_server.hubs.authorization")

AUTHORIZE_ATTRIBUTE = "__signalr_authorize__"

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class AuthorizationContext:
    """What a policy may look at besides the user.

    ``caller`` and ``method`` are ``None`` while a connection is being
    authorized (negotiate, transport requests, hub start); for a method rule
    they are the calling connection and the invoked method's wire name, and
    ``arguments`` are the bound arguments.
    """

    hub: type[Hub]
    request: RequestInfo
    caller: HubCallerContext | None = None
    method: str | None = None
    arguments: tuple[Any, ...] = ()


Policy = Callable[[Any, AuthorizationContext], "bool | Awaitable[bool]"]
"""``(user, context) -> bool``, sync or async."""


def is_authenticated(user: Any) -> bool:
    """True for a user someone vouched for. Objects without an
    ``is_authenticated`` attribute (plain ids, claim mappings from custom
    authenticators) count as authenticated when present."""
    if user is None:
        return False
    return bool(getattr(user, "is_authenticated", True))


def _has_role(user: Any, role: str) -> bool:
    check = getattr(user, "is_in_role", None)
    return bool(check(role)) if callable(check) else False


def _claim_values(user: Any, claim_type: str) -> list[str]:
    find_all = getattr(user, "find_all", None)
    if callable(find_all):
        return list(find_all(claim_type))
    if isinstance(user, Mapping):
        value = user.get(claim_type)
        if value is None:
            return []
        return [str(item) for item in value] if isinstance(value, list) else [str(value)]
    return []


@dataclass(frozen=True, slots=True)
class AuthorizationRule:
    """One ``@authorize(...)``: authenticated, plus the optional requirements."""

    roles: frozenset[str] = frozenset()
    claims: Mapping[str, frozenset[str] | None] = field(default_factory=dict)
    policies: tuple[Policy, ...] = ()

    async def evaluate(self, user: Any, context: AuthorizationContext) -> bool:
        if not is_authenticated(user):
            return False
        if self.roles and not any(_has_role(user, role) for role in self.roles):
            return False
        for claim_type, allowed in self.claims.items():
            values = _claim_values(user, claim_type)
            if not values or (allowed is not None and not allowed.intersection(values)):
                return False
        for policy in self.policies:
            try:
                result = policy(user, context)
                if inspect.isawaitable(result):
                    result = await result
            except Exception:
                logger.warning(
                    "Authorization policy %s raised; access denied",
                    getattr(policy, "__name__", repr(policy)),
                    exc_info=True,
                )
                return False
            if result is not True:
                return False
        return True


async def is_authorized(
    user: Any, rules: Sequence[AuthorizationRule], context: AuthorizationContext
) -> bool:
    """Whether ``user`` passes every rule (no rules: everyone, anonymous included)."""
    for rule in rules:
        if not await rule.evaluate(user, context):
            return False
    return True


def _roles(value: str | Iterable[str] | None) -> frozenset[str]:
    if value is None:
        return frozenset()
    items = value.split(",") if isinstance(value, str) else list(value)
    roles = frozenset(item.strip() for item in items if isinstance(item, str) and item.strip())
    if not roles:
        raise ValueError("roles must name at least one role")
    return roles


def _claims(
    value: Mapping[str, str | Iterable[str] | None] | Iterable[str] | None,
) -> dict[str, frozenset[str] | None]:
    if value is None:
        return {}
    if isinstance(value, str):
        return {value: None}
    if not isinstance(value, Mapping):
        return {claim_type: None for claim_type in value}
    claims: dict[str, frozenset[str] | None] = {}
    for claim_type, allowed in value.items():
        if allowed is None:
            claims[claim_type] = None
        else:
            values = frozenset([allowed] if isinstance(allowed, str) else allowed)
            if not values:
                raise ValueError(f"claim {claim_type!r}: give allowed values or None")
            claims[claim_type] = values
    return claims


def _policies(value: Policy | Sequence[Policy] | None) -> tuple[Policy, ...]:
    if value is None:
        return ()
    policies: tuple[Policy, ...] = (value,) if callable(value) else tuple(value)
    for policy in policies:
        if not callable(policy):
            raise TypeError(f"a policy must be callable, not {type(policy).__name__}")
    return policies


def _attach(target: T, rule: AuthorizationRule) -> T:
    holder: Any = target.__func__ if isinstance(target, staticmethod | classmethod) else target
    if isinstance(holder, type):
        own = holder.__dict__.get(AUTHORIZE_ATTRIBUTE, ())
    else:
        own = getattr(holder, AUTHORIZE_ATTRIBUTE, ())
    setattr(holder, AUTHORIZE_ATTRIBUTE, (*own, rule))
    return target


@overload
def authorize(target: T, /) -> T: ...


@overload
def authorize(
    *,
    roles: str | Iterable[str] | None = None,
    claims: Mapping[str, str | Iterable[str] | None] | Iterable[str] | None = None,
    policy: Policy | Sequence[Policy] | None = None,
) -> Callable[[T], T]: ...


def authorize(
    target: T | None = None,
    /,
    *,
    roles: str | Iterable[str] | None = None,
    claims: Mapping[str, str | Iterable[str] | None] | Iterable[str] | None = None,
    policy: Policy | Sequence[Policy] | None = None,
) -> T | Callable[[T], T]:
    """Require an authenticated user (and optionally roles, claims, policies)
    for a hub class or a hub method, like ``[Authorize]``.

    ``@authorize`` alone means "any authenticated user". Examples::

        @authorize
        class ChatHub(Hub): ...

        class AdminHub(Hub):
            @authorize(roles="Admin")
            async def shutdown(self) -> None: ...

            @authorize(claims={"scope": "write"}, policy=owns_document)
            async def edit(self, document_id: str) -> None: ...
    """
    rule = AuthorizationRule(_roles(roles), _claims(claims), _policies(policy))
    if target is not None:
        return _attach(target, rule)

    def decorate(item: T) -> T:
        return _attach(item, rule)

    return decorate


def hub_rules(hub_type: type[Any]) -> tuple[AuthorizationRule, ...]:
    """The class-level rules of a hub, its base classes' included."""
    rules: list[AuthorizationRule] = []
    for cls in reversed(hub_type.__mro__):
        rules.extend(cls.__dict__.get(AUTHORIZE_ATTRIBUTE, ()))
    return tuple(rules)


def method_rules(function: Any) -> tuple[AuthorizationRule, ...]:
    """The rules attached to one hub method."""
    holder = function.__func__ if isinstance(function, staticmethod | classmethod) else function
    rules = getattr(holder, AUTHORIZE_ATTRIBUTE, ())
    return tuple(rules) if isinstance(rules, tuple) else ()
