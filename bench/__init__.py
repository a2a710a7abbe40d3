"""Benchmarks; run as modules (``python -m bench.protocol_bench``), not in CI."""
