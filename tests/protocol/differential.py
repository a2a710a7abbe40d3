"""Shared pieces of the tests that hold a shortcut to its general path."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 10),
    st.floats(allow_nan=False),
    st.text(max_size=3),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.text(max_size=2), max_size=1),
)
"""A little of every type a decoded message property can have."""


def feed_outcome(feed: Callable[[bytes], list[Any]], chunks: list[bytes]) -> list[Any]:
    """What a reader gives for each chunk, up to and including the first error
    (as its type and text): two readers agree when these are equal."""
    results: list[Any] = []
    for chunk in chunks:
        try:
            results.append(feed(chunk))
        except Exception as exc:
            results.append((type(exc), str(exc)))
            break
    return results
