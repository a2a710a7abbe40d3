"""Encode/decode cost per message of the JSON and MessagePack hub protocols.

The inputs mirror the reference's ``HubProtocolBenchmark`` (an Invocation
with no arguments, a few, many, and a large one of a 10 KB string plus 10 KB
of bytes), so our figures can be read next to the reference's. Absolute
microseconds depend on the machine, so every run also measures a baseline in
the same process (plain ``json``/``msgpack`` calls on the equivalent data)
and prints our cost as a ratio to it; the ratio is the figure to compare
across runs.

Usage::

    python -m bench.protocol_bench           # about 15 s
    python -m bench.protocol_bench --quick   # about 2 s smoke run
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import msgpack

from signalr_server.protocol.json_protocol import JsonHubProtocol
from signalr_server.protocol.messagepack_protocol import MessagePackHubProtocol
from signalr_server.protocol.messages import InvocationMessage

INPUTS: dict[str, list[Any]] = {
    "NoArguments": [],
    "FewArguments": [1, "Foo", 2.0],
    "ManyArguments": [1, "string", 2.0, True, 9, bytes([5, 4, 3, 2, 1]), "c", 123456789101112],
    "LargeArguments": ["F" * 10240, bytes(10240)],
}


def _per_call_us(func: Callable[[], object], budget_s: float, repeats: int) -> float:
    """Median microseconds per call over ``repeats`` timed batches."""
    start = time.perf_counter()
    func()
    calls = max(1, int(budget_s / repeats / max(time.perf_counter() - start, 1e-7)))
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(calls):
            func()
        samples.append((time.perf_counter() - t0) / calls * 1e6)
    return statistics.median(samples)


def _json_plain(args: list[Any]) -> list[Any]:
    return [base64.b64encode(a).decode() if isinstance(a, bytes) else a for a in args]


def _round_trip(protocol: Any, framed: bytes) -> bytes:
    return bytes(protocol.write(protocol.parse(framed)[0]))


def _both(first: Callable[[], object], second: Callable[[], object]) -> None:
    first()
    second()


def measure(budget_s: float, repeats: int) -> list[tuple[str, str, str, float, float]]:
    """Rows of (protocol, input, operation, ours µs, baseline µs)."""
    rows: list[tuple[str, str, str, float, float]] = []
    protocols: dict[str, Any] = {"json": JsonHubProtocol(), "messagepack": MessagePackHubProtocol()}
    for name, args in INPUTS.items():
        message = InvocationMessage(None, "Target", args)
        for proto_name, protocol in protocols.items():
            framed: bytes = protocol.write(message)
            base_encode: Callable[[], object]
            base_decode: Callable[[], object]
            if proto_name == "json":
                doc = {"type": 1, "target": "Target", "arguments": _json_plain(args)}
                text = json.dumps(doc, separators=(",", ":"))
                base_encode = partial(json.dumps, doc, separators=(",", ":"))
                base_decode = partial(json.loads, text)
            else:
                envelope = [1, {}, None, "Target", args, []]
                packed = msgpack.packb(envelope, use_bin_type=True)
                base_encode = partial(msgpack.packb, envelope, use_bin_type=True)
                base_decode = partial(msgpack.unpackb, packed, raw=False)
            ours: dict[str, Callable[[], object]] = {
                "decode": partial(protocol.parse, framed),
                "encode": partial(protocol.write, message),
                "decode+encode": partial(_round_trip, protocol, framed),
            }
            base: dict[str, Callable[[], object]] = {
                "decode": base_decode,
                "encode": base_encode,
                "decode+encode": partial(_both, base_decode, base_encode),
            }
            for operation, func in ours.items():
                ours_us = _per_call_us(func, budget_s, repeats)
                base_us = _per_call_us(base[operation], budget_s, repeats)
                rows.append((proto_name, name, operation, ours_us, base_us))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short smoke run (~2 s)")
    options = parser.parse_args(argv)
    budget_s, repeats = (0.02, 3) if options.quick else (0.25, 5)
    rows = measure(budget_s, repeats)
    header = ("protocol", "input", "operation", "ours µs", "baseline µs", "ratio")
    print(
        f"{header[0]:<12}{header[1]:<16}{header[2]:<15}{header[3]:>10}{header[4]:>13}{header[5]:>8}"
    )
    for proto, name, operation, ours, base in rows:
        ratio = ours / base
        print(f"{proto:<12}{name:<16}{operation:<15}{ours:>10.2f}{base:>13.2f}{ratio:>8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
