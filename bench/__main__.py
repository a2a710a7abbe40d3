"""``python -m bench``: the whole comparison in one command.

    python -m bench                 # full suite, 3 runs, then paired echo (about 40 min)
    python -m bench --smoke         # seconds: ours + raw ASGI on hypercorn only
    python -m bench --only granian  # targets whose name contains "granian"
    python -m bench --list          # targets and whether they can run here
    python -m bench protocol        # the codec micro-benchmark (bench/protocol_bench.py)
    python -m bench paired          # echo ratios from interleaved windows (bench/paired.py)
    python -m bench instructions    # instructions per echo in the real server (callgrind)

Needs ``pip install -e '.[bench]'`` for the peers and the faster servers;
missing ones are reported as not run, never silently dropped.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .plan import FULL, SMOKE
from .report import aggregate, format_report, plot
from .runner import run_plan
from .targets import TARGETS, available

PAIRED_CONNECTIONS = 100


def _paired_sections(rounds: int, only: list[str] | None) -> dict[str, Any]:
    """The echo targets' evidence: ``bench paired`` on every server, both protocols.

    The suite's own echo ratios divide medians taken minutes apart; these
    alternate ours, the raw app and aiosignalr within seconds (see
    ``bench/paired.py``), so they are what the echo targets are judged on.
    """
    from .paired import run_paired

    sections: dict[str, Any] = {}
    for dialect in ("signalr-json", "signalr-msgpack"):
        results = run_paired(
            rounds=rounds, connections=PAIRED_CONNECTIONS, dialect=dialect, only=only
        )
        if results:
            sections[dialect] = {
                "rounds": rounds,
                "connections": PAIRED_CONNECTIONS,
                "results": results,
            }
    return sections


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["protocol"]:
        from . import protocol_bench

        return protocol_bench.main(argv[1:])
    if argv[:1] == ["paired"]:
        from . import paired

        return paired.main(argv[1:])
    if argv[:1] == ["instructions"]:
        from . import instructions

        return instructions.main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="a few seconds; what CI runs")
    parser.add_argument("--runs", type=int, help="runs per target (default 3; smoke 1)")
    parser.add_argument("--only", action="append", help="only targets whose name contains this")
    parser.add_argument("--json", type=Path, help="write raw records and medians here")
    parser.add_argument(
        "--plot", type=Path, help="write the throughput PNG here (needs matplotlib)"
    )
    parser.add_argument("--list", action="store_true", help="list targets and exit")
    parser.add_argument(
        "--paired-rounds",
        type=int,
        help="interleaved rounds per server and protocol that judge the echo targets "
        "(default 9; 0 skips them; smoke never runs them)",
    )
    parser.add_argument(
        "--from-json", type=Path, help="re-print the table (and --plot) from a saved --json run"
    )
    args = parser.parse_args(argv)
    if args.list:
        for name, target in TARGETS.items():
            print(f"{name:28} {available(target) or 'ready'}")
        return 0
    if args.runs is not None and args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.paired_rounds is not None and args.paired_rounds < 0:
        parser.error("--paired-rounds must be 0 or more")
    if args.from_json:
        saved = json.loads(args.from_json.read_text())
        records, notes = saved["records"], saved["notes"]
    else:
        plan = SMOKE if args.smoke else FULL
        records, notes = run_plan(plan, runs=args.runs, only=args.only)
        rounds = 0 if args.smoke else (9 if args.paired_rounds is None else args.paired_rounds)
        if rounds:
            notes["paired"] = _paired_sections(rounds, args.only)
    table = aggregate(records)
    print(format_report(table, notes))
    if args.json:
        medians = [
            {"target": k[0], "scenario": k[1], "dialect": k[2], "param": k[3], **v}
            for k, v in table.items()
        ]
        args.json.write_text(
            json.dumps({"records": records, "medians": medians, "notes": notes}, indent=1)
        )
    if args.plot and not plot(table, str(args.plot)):
        print("plot skipped: matplotlib is not installed", file=sys.stderr)
    return 1 if not records else 0


if __name__ == "__main__":
    sys.exit(main())
