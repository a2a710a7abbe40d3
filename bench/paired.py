"""Echo ratios from interleaved windows: ``python -m bench paired``.

The suite measures each target in turn, minutes apart; on a shared machine
the speed of the core moves by tens of percent over minutes, and it does not
move alike for a syscall-bound raw echo and for Python-bound SignalR code.
Here the servers of one comparison run side by side (all pinned to the server
core, idle while not driven) and the generator alternates between them in
short windows, rotating the order every round. Each round yields one ratio
measured within seconds; the report gives the median and the range over the
rounds, which is what the echo targets of issue 7 are judged on.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Callable
from typing import Any

from .plan import Step
from .report import echo_vs_aiosignalr_line, echo_vs_raw_line
from .runner import _generate
from .targets import TARGETS, RunningServer, available

__all__ = ["GROUPS", "format_paired", "main", "paired_table", "paired_targets", "run_paired"]

#: (ours, its raw ceiling, the peer); the peer runs in every group so that
#: each server's ratio to it is measured in the same windows.
GROUPS: list[tuple[str, str, str]] = [
    ("ours@native-uvloop", "raw@native-uvloop", "aiosignalr@aiohttp"),
    ("ours@native-asyncio", "raw@native-asyncio", "aiosignalr@aiohttp"),
    ("ours@uvicorn-uvloop", "raw@uvicorn-uvloop", "aiosignalr@aiohttp"),
    ("ours@granian", "raw@granian", "aiosignalr@aiohttp"),
    ("ours@hypercorn-asyncio", "raw@hypercorn-asyncio", "aiosignalr@aiohttp"),
    ("ours@hypercorn-uvloop", "raw@hypercorn-uvloop", "aiosignalr@aiohttp"),
    ("ours@hypercorn-trio", "raw@hypercorn-trio", "aiosignalr@aiohttp"),
]


def _dialect(name: str, json_or_msgpack: str) -> str:
    return "raw" if TARGETS[name].kind == "raw" else json_or_msgpack


def run_paired(
    *,
    groups: list[tuple[str, str, str]] | None = None,
    rounds: int = 7,
    connections: int = 100,
    dialect: str = "signalr-json",
    only: list[str] | None = None,
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
) -> list[dict[str, Any]]:
    """One result per group: per-round rates and the two ratios' medians and ranges."""
    results = []
    for group in groups or GROUPS:
        if only and not any(part in group[0] for part in only):
            continue
        missing = [f"{n}: {why}" for n in group if (why := available(TARGETS[n]))]
        if missing:
            log(f"skip {group[0]}: {'; '.join(missing)}")
            continue
        log(f"paired echo: {' / '.join(group)}")
        servers = [RunningServer(TARGETS[name]) for name in group]
        rates: list[list[float]] = [[] for _ in group]
        try:
            for round_ in range(rounds):
                shift = round_ % len(servers)
                for index in [*range(shift, len(servers)), *range(shift)]:
                    server = servers[index]
                    name = server.target.name
                    step = Step(
                        "echo",
                        _dialect(name, dialect),
                        {"connections": [connections], "warmup": 0.3, "duration": 0.7},
                    )
                    outcome = _generate(server, step, timeout=60)
                    if outcome.get("ok") and "rate" in outcome["results"][0]:
                        rates[index].append(outcome["results"][0]["rate"])
                    else:
                        rates[index].append(float("nan"))
                        log(f"  {name}: {outcome.get('error') or outcome['results'][0]}")
        finally:
            for server in servers:
                server.stop()
        results.append(_summarise(group, rates))
    return results


def _summarise(group: tuple[str, str, str], rates: list[list[float]]) -> dict[str, Any]:
    """Rates are per position in ``group`` (ours, raw, peer), one per round."""

    def ratios(of: int, to: int) -> list[float]:
        return [a / b for a, b in zip(rates[of], rates[to], strict=True) if a == a and b > 0]

    summary: dict[str, Any] = {"group": list(group), "rates": rates}
    for key, values in (("vs_raw", ratios(0, 1)), ("vs_peer", ratios(0, 2))):
        summary[key] = (
            {"median": statistics.median(values), "min": min(values), "max": max(values)}
            if values
            else None
        )
    summary["median_rates"] = [
        statistics.median([r for r in values if r == r] or [0.0]) for values in rates
    ]
    return summary


def paired_table(
    results: list[dict[str, Any]], rounds: int, connections: int, dialect: str
) -> list[str]:
    """The rates and ratios of every group, as a Markdown table."""
    lines = [
        f"Paired echo at {connections} connections, {dialect}: {rounds} interleaved rounds "
        "(median rate; ratio = median of per-round ratios, range in brackets)",
        "| ours | ours/s | raw/s | aiosignalr/s | ours ÷ raw | ours ÷ aiosignalr |",
        "|---|---|---|---|---|---|",
    ]

    def fmt(ratio: dict[str, float] | None) -> str:
        if ratio is None:
            return "-"
        return f"{ratio['median']:.2f}x ({ratio['min']:.2f} to {ratio['max']:.2f})"

    for result in results:
        ours = result["group"][0]
        medians = result["median_rates"]
        lines.append(
            f"| {ours} | {medians[0]:,.0f} | {medians[1]:,.0f} | {medians[2]:,.0f} "
            f"| {fmt(result['vs_raw'])} | {fmt(result['vs_peer'])} |"
        )
    return lines


def paired_targets(results: list[dict[str, Any]], dialect: str) -> list[str]:
    """The echo targets judged on the paired ratios.

    The overhead target holds on every server, so each group gets a line. The
    aiosignalr target is about our fastest supported server only: it is judged
    for the group whose own rate is highest, the other groups' ratios stay in
    the table.
    """
    lines = []
    for result in results:
        ratio = result["vs_raw"]
        if ratio is not None:
            lines.append(
                echo_vs_raw_line(result["group"][0], f"{dialect}, paired", ratio["median"])
            )
    judged = [result for result in results if result["vs_peer"] is not None]
    if judged:
        fastest = max(judged, key=lambda result: result["median_rates"][0])
        lines.append(
            echo_vs_aiosignalr_line(
                fastest["group"][0], f"{dialect}, paired", fastest["vs_peer"]["median"]
            )
        )
    return lines


def format_paired(
    results: list[dict[str, Any]], rounds: int, connections: int, dialect: str = "signalr-json"
) -> str:
    return "\n".join(
        [*paired_table(results, rounds, connections, dialect), *paired_targets(results, dialect)]
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench paired", description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument(
        "--dialect", default="signalr-json", choices=["signalr-json", "signalr-msgpack"]
    )
    parser.add_argument("--only", action="append", help="only groups whose 'ours' contains this")
    parser.add_argument("--json", help="write the per-round rates here")
    args = parser.parse_args(argv)
    results = run_paired(
        rounds=args.rounds, connections=args.connections, dialect=args.dialect, only=args.only
    )
    print(format_paired(results, args.rounds, args.connections, args.dialect))
    if args.json:
        import json

        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0 if results else 1
