"""``python -m bench instructions`` counts what the server executes per echo.

The count itself is for people (docs/benchmarks.md); this checks the
machinery: the server runs under callgrind, the counters are zeroed after
start-up and warm-up, and the dump covers the measured echoes only.
"""

from __future__ import annotations

import pytest

from bench.instructions import count_echo_instructions


@pytest.mark.timeout(240)
def test_counts_the_measured_echoes_only() -> None:
    per_echo = count_echo_instructions("raw@hypercorn-asyncio", "raw", connections=2, echoes=4)
    # Starting Python and hypercorn executes hundreds of millions of
    # instructions; an echo through hypercorn some tens of thousands.
    assert 5_000 < per_echo < 2_000_000
