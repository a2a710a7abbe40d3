"""Packing message arrays into bytes for the ``messagepack`` protocol.

``bytes`` travel as bin and ``datetime`` as the timestamp extension -1.
Values msgpack has no native form for are mapped as the reference's
serializer maps them; anything else is a ``TypeError``.
"""

from __future__ import annotations

import datetime as _dt
import enum
import threading
import uuid
from collections.abc import Callable, Mapping, Set
from decimal import Decimal
from typing import Any

import msgpack

from .messagepack_timestamps import datetime_to_timestamp

__all__ = ["packers"]


def _msgpack_default(value: Any) -> Any:
    """Values msgpack has no native form for, mapped as the reference maps them."""
    if isinstance(value, _dt.datetime):
        return datetime_to_timestamp(value)
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, memoryview):
        return value.tobytes()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Set):
        return list(value)
    raise TypeError(f"Object of type {type(value).__name__} is not MessagePack serializable")


class _PackerPerThread(threading.local):
    """A ``Packer`` keeps an internal buffer, so each thread gets its own."""

    def __init__(self) -> None:
        self.pack: Callable[[Any], bytes] = msgpack.Packer(
            use_bin_type=True, datetime=False, default=_msgpack_default, autoreset=True
        ).pack


packers = _PackerPerThread()
"""``packers.pack(value)``: msgpack bytes, with this thread's own ``Packer``."""
