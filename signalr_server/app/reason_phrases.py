"""Give hypercorn's HTTP/1.1 responses their reason phrases.

ASGI has no field for a reason phrase, and hypercorn writes none
(``HTTP/1.1 401 ``). The SignalR clients show the phrase in their errors — the
JS client reports a refused negotiate as ``Unauthorized: Status code '401'``
against ASP.NET Core — so without it our users see ``: Status code '401'``.
uvicorn already writes the standard phrase; this makes hypercorn do the same by
wrapping the ``h11.Response`` constructor its HTTP/1.1 protocol calls.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import h11

__all__ = ["install_hypercorn_reason_phrases", "reason_phrase"]


def reason_phrase(status_code: int) -> bytes:
    """The standard phrase for a status code, empty for codes HTTP does not name."""
    try:
        return HTTPStatus(status_code).phrase.encode("ascii")
    except ValueError:
        return b""


class _H11WithReasonPhrases:
    """Stands in for the ``h11`` module inside hypercorn; only ``Response`` differs."""

    def __getattr__(self, name: str) -> Any:
        return getattr(h11, name)

    @staticmethod
    def Response(*, status_code: int, reason: bytes = b"", **fields: Any) -> h11.Response:
        return h11.Response(
            status_code=status_code, reason=reason or reason_phrase(status_code), **fields
        )


def install_hypercorn_reason_phrases() -> None:
    """Idempotent; affects only hypercorn's HTTP/1.1 protocol in this process."""
    import importlib

    hypercorn_h11 = importlib.import_module("hypercorn.protocol.h11")
    if not isinstance(getattr(hypercorn_h11, "h11", None), _H11WithReasonPhrases):
        hypercorn_h11.h11 = _H11WithReasonPhrases()  # type: ignore[attr-defined]
