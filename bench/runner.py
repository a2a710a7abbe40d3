"""Runs a plan: start each target pinned to one core, drive it from the other,
stop it, and repeat for every run so drift hits all targets alike."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from .plan import Plan
from .targets import GENERATOR_CPU, ROOT, TARGETS, RunningServer, Target, available, taskset

__all__ = ["Record", "run_plan"]

Record = dict[str, Any]


def _generate(server: RunningServer, step: Any, timeout: float) -> dict[str, Any]:
    spec = {
        "scenario": step.scenario,
        "dialect": step.dialect,
        "host": "127.0.0.1",
        "port": server.port,
        "server_pid": server.pid,
        "sources": step.sources,
        "args": step.args,
    }
    try:
        done = subprocess.run(
            [*taskset(GENERATOR_CPU), sys.executable, "-m", "bench.loadgen", json.dumps(spec)],
            cwd=ROOT,
            capture_output=True,
            timeout=timeout,
            text=True,
        )
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"generator timed out after {timeout:.0f} s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"ok": False, "error": (done.stderr or "no output").strip()[-500:]}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def _official_check(server: RunningServer) -> dict[str, Any]:
    done = subprocess.run(
        [
            *taskset(GENERATOR_CPU),
            "node",
            str(ROOT / "bench" / "node" / "official_check.mjs"),
            f"http://127.0.0.1:{server.port}/bench",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = done.stdout.strip().splitlines()
    if not lines:
        return {"ok": False, "checks": [], "error": done.stderr[-300:]}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def _start(
    target: Target, run: int, notes: dict[str, Any], log: Callable[[str], None]
) -> RunningServer | None:
    """A server for ``target``, or None (the failure noted) if it did not start."""
    try:
        return RunningServer(target)
    except RuntimeError as exc:
        notes["failures"].append(f"run {run + 1} {target.name}: {exc}")
        log(f"  failed to start: {exc}")
        return None


def run_plan(
    plan: Plan,
    *,
    runs: int | None = None,
    only: list[str] | None = None,
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
) -> tuple[list[Record], dict[str, Any]]:
    """Every (run, target, step) as one record per measured point, plus notes
    (skipped targets with the reason, official-client checks, failures)."""
    records: list[Record] = []
    notes: dict[str, Any] = {"skipped": {}, "checks": {}, "failures": []}
    names = [n for n in plan.targets if not only or any(part in n for part in only)]
    targets = []
    for name in names:
        reason = available(TARGETS[name])
        if reason:
            notes["skipped"][name] = reason
            log(f"skip {name}: {reason}")
        else:
            targets.append(TARGETS[name])
    total_runs = runs or plan.runs
    started = time.monotonic()
    for run in range(total_runs):
        for target in targets:
            log(f"[{time.monotonic() - started:6.0f}s] run {run + 1}/{total_runs} {target.name}")
            server = _start(target, run, notes, log)
            if server is None:
                continue
            used = False
            try:
                if plan.official_check and target.kind == "ours" and run == 0:
                    notes["checks"][target.name] = _official_check(server)
                    used = True
                for step in plan.steps_for(target.name, target.kind):
                    if step.fresh and used:
                        server.stop()
                        server = _start(target, run, notes, log)
                        if server is None:
                            break
                    used = True
                    outcome = _generate(server, step, timeout=240)
                    if not outcome.get("ok"):
                        message = f"run {run + 1} {target.name} {step.scenario}/{step.dialect}: "
                        notes["failures"].append(message + str(outcome.get("error")))
                        log("  " + message + str(outcome.get("error")))
                        continue
                    for point in outcome["results"]:
                        if "failed" in point:
                            message = (
                                f"run {run + 1} {target.name} {step.scenario}/{step.dialect} "
                                f"at {point['param']}: {point['failed']}"
                            )
                            notes["failures"].append(message)
                            log("  " + message)
                            continue
                        records.append(
                            {
                                "run": run,
                                "target": target.name,
                                "kind": target.kind,
                                "server": target.server,
                                "scenario": step.scenario,
                                "dialect": step.dialect,
                                "server_pid": server.pid,
                                **point,
                            }
                        )
            finally:
                if server is not None:
                    server.stop()
    notes["seconds"] = time.monotonic() - started
    return records, notes
