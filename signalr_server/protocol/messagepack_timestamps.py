"""Datetimes as the MessagePack timestamp extension (type -1), both ways.

The reference writes ``DateTime`` values as the spec's timestamp extension,
so ours do too. Naive datetimes are taken as UTC and aware ones are
converted; the timestamp form follows the spec (32-bit for whole seconds
that fit, 64-bit with a fraction, 96-bit outside that range), which
``msgpack.Timestamp`` chooses for us. On the way in, msgpack decodes the
extension straight to a timezone-aware UTC ``datetime``; Python datetimes
hold microseconds, so a timestamp's nanoseconds are truncated to
microseconds.
"""

from __future__ import annotations

import datetime as _dt

import msgpack

__all__ = ["DECODE_TIMESTAMPS_AS_DATETIME", "datetime_to_timestamp"]

DECODE_TIMESTAMPS_AS_DATETIME = 3
"""msgpack's ``timestamp=`` unpack option for aware UTC ``datetime`` values."""

_UTC = _dt.UTC
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_UTC)


def datetime_to_timestamp(value: _dt.datetime) -> msgpack.Timestamp:
    """Exact conversion (``Timestamp.from_datetime`` goes through a float)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=_UTC)
    delta = value - _EPOCH
    seconds = delta.days * 86400 + delta.seconds
    return msgpack.Timestamp(seconds, delta.microseconds * 1000)
