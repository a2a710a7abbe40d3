"""Exceptions of the hub layer and the reference's way of turning them into text.

Clients see exception text only through ``HubException`` or with detailed
errors on (INV-7, ERR-3); everything else is reduced to a fixed sentence so
that server internals never leak by accident.
"""

from __future__ import annotations

from ..protocol.errors import ProtocolError

__all__ = [
    "BindingError",
    "ClientClosedError",
    "ClientTimeoutError",
    "HubException",
    "InvalidOperationError",
    "ServiceNotFoundError",
    "build_error_message",
    "exception_type_name",
]


class HubException(Exception):
    """Raise from a hub method to send its message to the caller.

    Unlike any other exception, its text always reaches the client
    (``"... HubException: {message}"``), whether detailed errors are on or not.
    """

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ClientClosedError(HubException):
    """The reason handed to ``on_disconnected`` when the client closed with an error text."""


class BindingError(Exception):
    """Arguments could not be bound to a hub method (INV-5, MP-7).

    Shown as ``InvalidDataException`` in detailed errors, which is what the
    reference's binder throws.
    """


class ClientTimeoutError(Exception):
    """Nothing arrived from the client within ``client_timeout_interval`` (PING-3).

    Shown as ``OperationCanceledException``, the type the reference reports.
    """

    def __init__(self) -> None:
        super().__init__(
            "Client hasn't sent a message/ping within the configured ClientTimeoutInterval."
        )


class InvalidOperationError(RuntimeError):
    """A call that is not allowed in the current state (shown as ``InvalidOperationException``).

    Raised, for example, by client results inside a hub method when only one
    invocation may run at a time (CRES-5).
    """


class ServiceNotFoundError(LookupError):
    """A hub or service factory asked for a type the ``ServiceRegistry`` does not hold."""


_REFERENCE_TYPE_NAMES: dict[type[BaseException], str] = {
    BindingError: "InvalidDataException",
    ClientTimeoutError: "OperationCanceledException",
    InvalidOperationError: "InvalidOperationException",
}


def exception_type_name(exc: BaseException) -> str:
    """The short type name shown to clients, using .NET names where the reference has one."""
    if isinstance(exc, HubException):
        return "HubException"
    if isinstance(exc, ProtocolError):
        return exc.reference_type
    for exc_type, name in _REFERENCE_TYPE_NAMES.items():
        if isinstance(exc, exc_type):
            return name
    return type(exc).__name__


def build_error_message(message: str, exc: BaseException | None, detailed: bool) -> str:
    """``message``, plus `` {Type}: {text}`` for a HubException or when ``detailed``."""
    if exc is not None and (detailed or isinstance(exc, HubException)):
        return f"{message} {exception_type_name(exc)}: {exc}"
    return message
