"""Application services for hubs, resolved by type annotation.

ASP.NET Core hubs receive services through their constructors. This module
gives Python hubs the same thing without a container framework::

    services = ServiceRegistry()
    services.add_singleton(OrderService, OrderService())
    services.add_scoped(CurrentUser, current_user)   # def current_user(ctx: HubCallerContext)

    class OrderHub(Hub):
        def __init__(self, orders: OrderService, user: CurrentUser) -> None: ...

Singletons are shared. Scoped services are created at most once per
invocation (the *scope*) by a factory that may be a plain function, a
coroutine function, or a (sync or async) generator function whose code
after ``yield`` runs when the invocation ends, like FastAPI's ``yield``
dependencies. Factory parameters are resolved the same way as hub
constructor parameters: ``HubCallerContext`` gets the caller's context, any
other annotation is looked up in the registry, and an unannotated lone
parameter gets the context.
"""

from __future__ import annotations

import contextlib
import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar, cast

from .context import HubCallerContext
from .errors import ServiceNotFoundError

__all__ = ["ServiceRegistry", "ServiceScope"]

T = TypeVar("T")

_NO_DEFAULT: Any = inspect.Parameter.empty


@dataclass(frozen=True, slots=True)
class _Dependency:
    name: str
    service_type: Any
    default: Any


def _dependencies(
    function: Callable[..., Any], *, owner: str, skip_first: bool
) -> tuple[_Dependency, ...]:
    """What a constructor or factory needs, read from its signature once."""
    try:
        hints = typing.get_type_hints(function)
    except Exception as exc:
        raise TypeError(f"Cannot resolve the annotations of {owner}: {exc}") from exc
    items = list(inspect.signature(function).parameters.values())
    if skip_first:
        items = items[1:]
    dependencies: list[_Dependency] = []
    for item in items:
        if item.kind in (item.VAR_POSITIONAL, item.VAR_KEYWORD):
            continue
        annotation = hints.get(item.name, _NO_DEFAULT)
        if annotation is _NO_DEFAULT:
            if len(items) == 1:
                annotation = HubCallerContext
            elif item.default is _NO_DEFAULT:
                raise TypeError(
                    f"Parameter '{item.name}' of {owner} needs a type annotation "
                    "so that a service can be found for it"
                )
        dependencies.append(_Dependency(item.name, annotation, item.default))
    return tuple(dependencies)


@dataclass(frozen=True, slots=True)
class _Scoped:
    factory: Callable[..., Any]
    dependencies: tuple[_Dependency, ...]


class ServiceRegistry:
    """The services a hub endpoint can hand to its hubs."""

    def __init__(self) -> None:
        self._singletons: dict[Any, Any] = {}
        self._scoped: dict[Any, _Scoped] = {}
        self._constructors: dict[type, tuple[_Dependency, ...]] = {}

    def add_singleton(self, service_type: type[T], instance: T) -> ServiceRegistry:
        """Share ``instance`` with every hub that asks for ``service_type``."""
        self._scoped.pop(service_type, None)
        self._singletons[service_type] = instance
        return self

    def add_scoped(self, service_type: type[T], factory: Callable[..., Any]) -> ServiceRegistry:
        """Create ``service_type`` once per invocation with ``factory``."""
        owner = f"the factory of {getattr(service_type, '__name__', service_type)}"
        dependencies = _dependencies(factory, owner=owner, skip_first=False)
        self._singletons.pop(service_type, None)
        self._scoped[service_type] = _Scoped(factory, dependencies)
        return self

    def __contains__(self, service_type: object) -> bool:
        return (
            service_type in self._singletons
            or service_type in self._scoped
            or service_type is HubCallerContext
        )

    def scope(self, context: HubCallerContext) -> ServiceScope:
        """A scope for one invocation; close it (``async with``) to run generator cleanups."""
        return ServiceScope(self, context)

    def constructor_dependencies(self, cls: type) -> tuple[_Dependency, ...]:
        """Parameters of ``cls.__init__``, cached per class."""
        found = self._constructors.get(cls)
        if found is None:
            init = vars_init(cls)
            if init is object.__init__:
                found = ()
            else:
                found = _dependencies(init, owner=f"{cls.__name__}.__init__", skip_first=True)
            self._constructors[cls] = found
        return found


def vars_init(cls: type) -> Callable[..., Any]:
    """``cls.__init__`` looked up on the class, not an instance."""
    init: Callable[..., Any] = cls.__init__  # type: ignore[misc]
    return init


class ServiceScope:
    """Services resolved for one invocation, and the cleanups they registered."""

    def __init__(self, registry: ServiceRegistry, context: HubCallerContext) -> None:
        self._registry = registry
        self._context = context
        self._instances: dict[Any, Any] = {}
        self._resolving: set[Any] = set()
        self._exit_stack = contextlib.AsyncExitStack()

    async def get(self, service_type: type[T]) -> T:
        """The instance of ``service_type``; ``ServiceNotFoundError`` if unregistered."""
        return cast(T, await self._get(service_type, needed_by=None))

    async def _get(self, service_type: Any, needed_by: str | None) -> Any:
        if service_type is HubCallerContext:
            return self._context
        registry = self._registry
        if service_type in registry._singletons:
            return registry._singletons[service_type]
        if service_type in self._instances:
            return self._instances[service_type]
        scoped = registry._scoped.get(service_type)
        name = getattr(service_type, "__name__", repr(service_type))
        if scoped is None:
            where = f" (needed by {needed_by})" if needed_by else ""
            raise ServiceNotFoundError(f"No service of type '{name}' is registered{where}.")
        if service_type in self._resolving:
            raise ServiceNotFoundError(f"Circular dependency while creating '{name}'.")
        self._resolving.add(service_type)
        try:
            kwargs = await self._resolve(scoped.dependencies, f"the factory of {name}")
            instance = await self._call_factory(scoped.factory, kwargs)
        finally:
            self._resolving.discard(service_type)
        self._instances[service_type] = instance
        return instance

    async def _resolve(self, dependencies: tuple[_Dependency, ...], owner: str) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        for dependency in dependencies:
            if dependency.service_type not in self._registry and (
                dependency.default is not _NO_DEFAULT
            ):
                continue
            kwargs[dependency.name] = await self._get(
                dependency.service_type, f"parameter '{dependency.name}' of {owner}"
            )
        return kwargs

    async def _call_factory(self, factory: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        if inspect.isasyncgenfunction(factory):
            manager = contextlib.asynccontextmanager(factory)(**kwargs)
            return await self._exit_stack.enter_async_context(manager)
        if inspect.isgeneratorfunction(factory):
            return self._exit_stack.enter_context(contextlib.contextmanager(factory)(**kwargs))
        result = factory(**kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result

    async def create(self, cls: type[T]) -> T:
        """Construct ``cls`` (a hub), filling its ``__init__`` parameters from this scope."""
        dependencies = self._registry.constructor_dependencies(cls)
        kwargs = await self._resolve(dependencies, f"{cls.__name__}.__init__")
        return cls(**kwargs)

    async def aclose(self) -> None:
        """Run the cleanup of generator factories, last created first."""
        await self._exit_stack.aclose()

    async def __aenter__(self) -> ServiceScope:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
