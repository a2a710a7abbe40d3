"""The benchmark suite keeps working: its smoke mode runs end to end.

Only what CI installs is needed (our server and the raw ASGI ceiling on
hypercorn's asyncio worker). Nothing here looks at how fast anything was:
the figures are for people, the test is for the machinery.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.dialects import dialect
from bench.report import aggregate, format_report
from bench.wsclient import client_frame
from signalr_server.app.cli import build_parser
from signalr_server.app.serve import ServeConfig

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(90)
def test_smoke_mode_runs_every_scenario_and_prints_one_table() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=80,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    for title in (
        "Echo: invoke round trips",
        "Broadcast fan-out",
        "Group fan-out",
        "Connection ramp and idle hold",
        "Slow consumer",
    ):
        assert title in out
    assert "ours@hypercorn-asyncio" in out and "raw@hypercorn-asyncio" in out
    for dialect_name in ("signalr-json", "signalr-msgpack"):
        # every scenario of ours runs in both protocols (the target lines show two)
        assert f"idle connection (ours@hypercorn-asyncio, {dialect_name})" in out
        assert f"slow consumer (ours@hypercorn-asyncio, {dialect_name})" in out
    assert "FAILED" not in out
    # ratios against the baseline measured in the same run are printed
    assert "÷ raw same server" in out and "x " in out


def test_client_frames_are_masked_with_the_zero_key_and_keep_the_payload() -> None:
    small = client_frame(b"hi")
    assert small == b"\x81\x82\x00\x00\x00\x00hi"
    medium = client_frame(b"x" * 300, binary=True)
    assert medium[:4] == b"\x82\xfe\x01\x2c" and medium[8:] == b"x" * 300
    large = client_frame(b"y" * 70000)
    assert large[1] == 0xFF and int.from_bytes(large[2:10], "big") == 70000


def test_dialects_carry_the_reply_markers_and_reject_unknown_names() -> None:
    for name in ("signalr-json", "signalr-msgpack", "raw", "socketio"):
        spec = dialect(name)
        assert b"ECHO" in spec.echo and b"BCAST" in spec.broadcast
        assert b"g7" in spec.join("g7")
    assert dialect("signalr-json").echo.endswith(b"\x1e")
    with pytest.raises(ValueError, match="unknown dialect"):
        dialect("carrier-pigeon")


def test_report_takes_medians_and_ratios_against_the_same_runs_baseline() -> None:
    records = [
        {
            "run": run,
            "target": target,
            "kind": kind,
            "server": "hypercorn-asyncio",
            "scenario": "echo",
            "dialect": dialect_name,
            "param": 100,
            "rate": rate,
            "p50_ms": 1.0,
            "p99_ms": 2.0,
            "gen_cpu": 0.3,
        }
        for run, (ours_rate, raw_rate) in enumerate(
            [(600.0, 1000.0), (500.0, 1000.0), (700.0, 1000.0)]
        )
        for target, kind, dialect_name, rate in (
            ("ours@hypercorn-asyncio", "ours", "signalr-json", ours_rate),
            ("raw@hypercorn-asyncio", "raw", "raw", raw_rate),
        )
    ]
    table = aggregate(records)
    assert table[("ours@hypercorn-asyncio", "echo", "signalr-json", 100)]["rate"] == 600.0
    text = format_report(table, {"seconds": 1.0})
    assert "0.60x" in text
    line = (
        "target echo ≥ 0.6x raw ASGI (ours@hypercorn-asyncio, signalr-json, 100 conns): 0.60x PASS"
    )
    assert line in text


def _point(target: str, scenario: str, dialect_name: str, param: object, **figures: float) -> dict:
    kind, server = target.split("@", 1)
    return {
        "run": 0, "target": target, "kind": kind, "server": server, "scenario": scenario,
        "dialect": dialect_name, "param": param, **figures,
    }  # fmt: skip


def _paired_result(group: tuple[str, str, str], ours: float, raw: float, peer: float) -> dict:
    return {
        "group": list(group),
        "rates": [[ours], [raw], [peer]],
        "median_rates": [ours, raw, peer],
        "vs_raw": {"median": ours / raw, "min": ours / raw, "max": ours / raw},
        "vs_peer": {"median": ours / peer, "min": ours / peer, "max": ours / peer},
    }


def test_paired_sections_judge_the_echo_targets_and_aiosignalr_only_for_the_fastest() -> None:
    records = [
        _point("ours@uvicorn-uvloop", "echo", "signalr-json", 100, rate=500.0),
        _point("raw@uvicorn-uvloop", "echo", "raw", 100, rate=1000.0),
        _point("ours@uvicorn-uvloop", "echo", "signalr-msgpack", 100, rate=550.0),
        _point("aiosignalr@aiohttp", "echo", "signalr-msgpack", 100, rate=200.0),
    ]
    paired = {
        "signalr-json": {
            "rounds": 9,
            "connections": 100,
            "results": [
                _paired_result(
                    ("ours@uvicorn-uvloop", "raw@uvicorn-uvloop", "aio"), 700, 1000, 400
                ),
                _paired_result(("ours@native-uvloop", "raw@native-uvloop", "aio"), 900, 1000, 400),
            ],
        }
    }
    text = format_report(aggregate(records), {"seconds": 1.0, "paired": paired})
    # JSON: judged on the interleaved rounds, not on the single run's 0.50x.
    assert "Paired echo at 100 connections, signalr-json: 9 interleaved rounds" in text
    assert (
        "target echo ≥ 0.6x raw ASGI (ours@uvicorn-uvloop, signalr-json, paired): 0.70x PASS"
        in text
    )
    assert "(ours@uvicorn-uvloop, signalr-json, 100 conns)" not in text
    # aiosignalr: one line, for the fastest server (native here), not a MISS per group.
    assert (
        "target echo ≥ 2x aiosignalr (fastest: ours@native-uvloop, signalr-json, paired): "
        "2.25x PASS"
    ) in text
    assert "aiosignalr (fastest: ours@uvicorn-uvloop, signalr-json" not in text
    # MessagePack was not paired: judged on this run's medians.
    assert "(ours@uvicorn-uvloop, signalr-msgpack, 100 conns): 0.55x MISS" in text
    assert (
        "target echo ≥ 2x aiosignalr (fastest: ours@uvicorn-uvloop, signalr-msgpack): 2.75x PASS"
        in text
    )


def test_target_lines_say_when_the_server_alone_decides_them() -> None:
    records = [
        _point("ours@hypercorn-trio", "echo", "signalr-json", 100, rate=500.0),
        _point("ours@hypercorn-trio", "broadcast", "signalr-json", 1000, rate=600.0),
        _point("raw@hypercorn-trio", "broadcast", "raw", 1000, rate=1500.0),
        _point("socketio@uvicorn-uvloop", "broadcast", "socketio", 1000, rate=1000.0),
        _point("ours@granian", "echo", "signalr-json", 100, rate=500.0),
        _point("ours@granian", "idle", "signalr-json", 10000, bytes_per_conn=90.0 * 1024),
        _point("raw@granian", "idle", "raw", 10000, bytes_per_conn=84.0 * 1024),
    ]
    text = format_report(aggregate(records), {"seconds": 1.0})
    assert (
        "target broadcast@1000 ≥ 2x socketio (ours@hypercorn-trio vs socketio@uvicorn-uvloop): "
        "0.60x MISS (python-socketio does not run on hypercorn-trio; the raw ASGI app on it: 1.50x)"
    ) in text
    assert (
        "target ≤ 20 KiB per idle connection (ours@granian, signalr-json): 90.0 KiB MISS "
        "(raw@granian alone: 84.0 KiB; ours adds 6.0)"
    ) in text


def test_granian_is_a_cli_server_choice_and_refuses_trio() -> None:
    args = build_parser().parse_args(["run", "app:app", "--server", "granian"])
    assert args.server == "granian"
    assert ServeConfig(server="granian", worker_class="uvloop").server == "granian"
    with pytest.raises(ValueError, match="granian cannot run on trio"):
        ServeConfig(server="granian", worker_class="trio")


@pytest.mark.timeout(90)
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["echo", "5", "500"], "µs CPU per echo (5 connections)"),
        (["idle", "20"], "bytes per idle connection"),
    ],
)
def test_in_process_tools_run(args: list[str], expected: str) -> None:
    # The in-process echo only counts Completions, so it also proves that
    # every connection got through the handshake and got its answers.
    done = subprocess.run(
        [sys.executable, "-m", "bench.inprocess", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=80,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert expected in done.stdout


@pytest.mark.timeout(90)
def test_paired_mode_interleaves_windows_and_reports_ratios_per_round() -> None:
    from bench.paired import format_paired, run_paired

    group = ("ours@hypercorn-asyncio", "raw@hypercorn-asyncio", "raw@hypercorn-asyncio")
    results = run_paired(groups=[group], rounds=2, connections=2, log=lambda line: None)
    (result,) = results
    assert all(len(rates) == 2 and all(r > 0 for r in rates) for rates in result["rates"])
    assert result["vs_raw"]["min"] <= result["vs_raw"]["median"] <= result["vs_raw"]["max"]
    report = format_paired(results, rounds=2, connections=2, dialect="signalr-json")
    assert "| ours@hypercorn-asyncio |" in report
    assert "target echo ≥ 0.6x raw ASGI (ours@hypercorn-asyncio, signalr-json, paired)" in report


@pytest.mark.timeout(120)
def test_memory_steps_run_on_a_server_of_their_own() -> None:
    from bench.plan import SMOKE, Plan
    from bench.runner import run_plan

    steps = SMOKE.steps["ours"]
    plan = Plan(
        name="fresh",
        runs=1,
        targets=("ours@hypercorn-asyncio",),
        steps={"ours": tuple(s for s in steps if s.scenario in ("echo", "idle", "slow"))},
        official_check=False,
    )
    records, notes = run_plan(plan, log=lambda line: None)
    assert not notes["failures"]
    pids: dict[str, set[int]] = {}
    for record in records:
        pids.setdefault(record["scenario"], set()).add(record["server_pid"])
    # The echo steps share one process; each idle and slow step (JSON, then
    # MessagePack) starts its own, so no step's growth is hidden in memory an
    # earlier one freed.
    assert len(pids["echo"]) == 1
    assert len(pids["idle"]) == 2 and len(pids["slow"]) == 2
    assert len(pids["echo"] | pids["idle"] | pids["slow"]) == 5
