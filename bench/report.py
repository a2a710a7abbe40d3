"""Medians over runs, ratios against the baselines of the same run, one table.

Absolute numbers drift on a shared machine; ratios taken within one run hold,
so every section puts the ratio next to the figure: ours ÷ the raw ASGI app
on the same server and worker class (our overhead), ours ÷ aiosignalr and
ours ÷ python-socketio.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from typing import Any

__all__ = ["aggregate", "format_report", "plot"]

Key = tuple[str, str, str, Any]  # target, scenario, dialect, param


def aggregate(records: list[dict[str, Any]]) -> dict[Key, dict[str, Any]]:
    """Median of every numeric figure over the runs of one measured point."""
    grouped: dict[Key, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        grouped[(record["target"], record["scenario"], record["dialect"], record["param"])].append(
            record
        )
    table: dict[Key, dict[str, Any]] = {}
    for key, rows in grouped.items():
        merged: dict[str, Any] = {
            "runs": len(rows),
            "kind": rows[0]["kind"],
            "server": rows[0]["server"],
        }
        for field in rows[0]:
            values = [r[field] for r in rows if isinstance(r.get(field), (int, float))]
            if (
                values
                and not isinstance(rows[0][field], bool)
                and field not in ("run", "param", "server_pid")
            ):
                merged[field] = statistics.median(values)
            elif isinstance(rows[0][field], bool):
                merged[field] = any(r[field] for r in rows)
        table[key] = merged
    return table


def _fmt(value: Any, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float) and digits == 0:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}" if isinstance(value, float) else str(value)


def _ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "-"
    return f"{a / b:.2f}x"


def _render(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    out = [line, rule]
    for row in rows:
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    return out


def _baseline(
    table: dict[Key, dict[str, Any]], target: str, scenario: str, dialect: str, param: Any
) -> float | None:
    point = table.get((target, scenario, dialect, param))
    return point.get("rate") if point else None


def _peer_socketio(server: str, names: set[str]) -> str:
    same = f"socketio@{server}"
    return same if same in names else "socketio@uvicorn-uvloop"


def _series(
    table: dict[Key, dict[str, Any]], scenario: str
) -> dict[tuple[str, str], dict[Any, dict[str, Any]]]:
    series: dict[tuple[str, str], dict[Any, dict[str, Any]]] = defaultdict(dict)
    for (target, scen, dialect, param), point in table.items():
        if scen == scenario:
            series[(target, dialect)][param] = point
    return dict(sorted(series.items()))


def format_report(table: dict[Key, dict[str, Any]], notes: dict[str, Any]) -> str:
    lines: list[str] = []
    names = {key[0] for key in table}

    echo = _series(table, "echo")
    if echo:
        sizes = sorted({p for points in echo.values() for p in points})
        top = sizes[-1]
        headers = [
            "echo target",
            "protocol",
            *(f"{s} conn/s" for s in sizes),
            f"p50 ms@{top}",
            f"p99 ms@{top}",
            "gen cpu",
            "÷ raw same server",
            "÷ aiosignalr",
        ]
        rows = []
        for (target, dialect), points in echo.items():
            point = points.get(top, {})
            kind, server = point.get("kind"), point.get("server")
            raw = _baseline(table, f"raw@{server}", "echo", "raw", top) if kind == "ours" else None
            aio = (
                _baseline(table, "aiosignalr@aiohttp", "echo", dialect, top)
                if kind == "ours"
                else None
            )
            rows.append(
                [
                    target,
                    dialect,
                    *(_fmt(points.get(s, {}).get("rate")) for s in sizes),
                    _fmt(point.get("p50_ms"), 2),
                    _fmt(point.get("p99_ms"), 2),
                    _fmt(max((p.get("gen_cpu", 0.0) for p in points.values()), default=None), 2),
                    _ratio(point.get("rate"), raw),
                    _ratio(point.get("rate"), aio),
                ]
            )
        lines += [
            "Echo: invoke round trips, closed loop (completions/s; median of runs)",
            *_render(headers, rows),
            "",
        ]

    for scenario, title in (
        ("broadcast", "Broadcast fan-out: delivered messages/s by receivers"),
        ("group", "Group fan-out: delivered messages/s"),
    ):
        series = _series(table, scenario)
        if not series:
            continue
        sizes = sorted({p for points in series.values() for p in points}, key=str)
        sizes = sorted(
            sizes, key=lambda s: (isinstance(s, str), s if not isinstance(s, str) else 0)
        )
        ref = 1000 if 1000 in sizes else sizes[-1]
        headers = [
            "target",
            "protocol",
            *(f"N={s}" for s in sizes),
            f"srv µs/msg@{ref}",
            "gen cpu",
            "÷ raw same server",
            "÷ socketio",
        ]
        rows = []
        for (target, dialect), points in series.items():
            point = points.get(ref, {})
            kind, server = point.get("kind"), point.get("server")
            raw_dialect = "raw"
            raw = (
                _baseline(table, f"raw@{server}", scenario, raw_dialect, ref)
                if kind == "ours"
                else None
            )
            sio = (
                _baseline(table, _peer_socketio(str(server), names), scenario, "socketio", ref)
                if kind in ("ours", "aiosignalr")
                else None
            )
            rows.append(
                [
                    target,
                    dialect,
                    *(_fmt(points.get(s, {}).get("rate")) for s in sizes),
                    _fmt(point.get("server_us_per_msg"), 1),
                    _fmt(max((p.get("gen_cpu", 0.0) for p in points.values()), default=None), 2),
                    _ratio(point.get("rate"), raw),
                    _ratio(point.get("rate"), sio),
                ]
            )
        lines += [title, *_render(headers, rows), ""]

    idle = _series(table, "idle")
    if idle:
        headers = [
            "idle target",
            "protocol",
            "connections",
            "conn/s",
            "KiB/conn",
            "idle cpu %",
            "pings/conn",
            "alive",
        ]
        rows = []
        for (target, dialect), points in idle.items():
            for param, point in sorted(points.items()):
                rows.append(
                    [
                        target,
                        dialect,
                        str(param),
                        _fmt(point.get("rate")),
                        _fmt(point.get("bytes_per_conn", 0.0) / 1024, 1),
                        _fmt(point.get("idle_cpu", 0.0) * 100, 1),
                        _fmt(point.get("pings_per_conn"), 1),
                        _fmt(point.get("alive")),
                    ]
                )
        lines += [
            "Connection ramp and idle hold (server RSS growth per connection)",
            *_render(headers, rows),
            "",
        ]

    slow = _series(table, "slow")
    if slow:
        headers = [
            "slow-consumer target",
            "protocol",
            "receivers",
            "msgs/s first half",
            "msgs/s second half",
            "second ÷ first",
            "max RSS growth KiB",
            "slow closed",
        ]
        rows = []
        for (target, dialect), points in slow.items():
            for param, point in sorted(points.items()):
                rows.append(
                    [
                        target,
                        dialect,
                        str(param),
                        _fmt(point.get("rate_first")),
                        _fmt(point.get("rate_second")),
                        _ratio(point.get("rate_second"), point.get("rate_first")),
                        _fmt(point.get("rss_growth", 0.0) / 1024),
                        str(point.get("slow_closed")),
                    ]
                )
        lines += [
            "Slow consumer: one receiver stops reading during a broadcast",
            *_render(headers, rows),
            "",
        ]

    paired: dict[str, Any] = notes.get("paired") or {}
    for dialect, section in paired.items():
        from .paired import paired_table

        lines += [
            *paired_table(section["results"], section["rounds"], section["connections"], dialect),
            "",
        ]
    lines += _targets(table, paired)
    if notes.get("checks"):
        passed = {name: check.get("ok") for name, check in notes["checks"].items()}
        lines.append(
            "Official @microsoft/signalr client check (JSON + MessagePack echo/broadcast/group): "
            + ", ".join(f"{n}={'ok' if ok else 'FAILED'}" for n, ok in passed.items())
        )
    for name, reason in notes.get("skipped", {}).items():
        lines.append(f"not run: {name} ({reason})")
    for failure in notes.get("failures", []):
        parts = [part for part in str(failure).splitlines() if part.strip()]
        summary = parts[0] if len(parts) < 2 else f"{parts[0]} ... {parts[-1]}"
        lines.append(f"FAILED: {summary}")
    lines.append(f"total time: {notes.get('seconds', 0):.0f} s")
    return "\n".join(lines)


_ECHO_DIALECTS = ("signalr-json", "signalr-msgpack")
ECHO_VS_RAW = 0.6
ECHO_VS_AIOSIGNALR = 2.0


def echo_vs_raw_line(target: str, how: str, ratio: float) -> str:
    """The overhead target's line; ``how`` says what the ratio was judged on."""
    verdict = "PASS" if ratio >= ECHO_VS_RAW else "MISS"
    return f"target echo ≥ {ECHO_VS_RAW}x raw ASGI ({target}, {how}): {ratio:.2f}x {verdict}"


def echo_vs_aiosignalr_line(fastest: str, how: str, ratio: float) -> str:
    """The aiosignalr target's line, judged for our fastest server only."""
    verdict = "PASS" if ratio >= ECHO_VS_AIOSIGNALR else "MISS"
    return (
        f"target echo ≥ {ECHO_VS_AIOSIGNALR:g}x aiosignalr (fastest: {fastest}, {how}): "
        f"{ratio:.2f}x {verdict}"
    )


def _targets(table: dict[Key, dict[str, Any]], paired: dict[str, Any]) -> list[str]:
    """The issue's targets, each as PASS/MISS with the ratio it was judged on.

    The echo targets of a dialect that ``paired`` measured are judged there
    (interleaved windows weigh out the drift between two medians taken
    minutes apart); otherwise on this run's medians. Where the server alone
    already decides a line (python-socketio cannot run on it, or the raw app
    on it holds more memory than the target), the line says so.
    """
    out: list[str] = []
    names = {k[0] for k in table}

    def rate(target: str, scenario: str, dialect: str, param: Any) -> float | None:
        return _baseline(table, target, scenario, dialect, param)

    ours = sorted({k[0] for k in table if k[0].startswith("ours@") and k[1] == "echo"})
    for dialect in _ECHO_DIALECTS:
        if dialect in paired:
            from .paired import paired_targets

            out += paired_targets(paired[dialect]["results"], dialect)
            continue
        for target in ours:
            server = target.split("@", 1)[1]
            mine, raw = (
                rate(target, "echo", dialect, 100),
                rate(f"raw@{server}", "echo", "raw", 100),
            )
            if mine and raw:
                out.append(echo_vs_raw_line(target, f"{dialect}, 100 conns", mine / raw))
        measured = [t for t in ours if rate(t, "echo", dialect, 100)]
        aio = rate("aiosignalr@aiohttp", "echo", dialect, 100)
        if measured and aio:
            fastest = max(measured, key=lambda t: rate(t, "echo", dialect, 100) or 0.0)
            mine = rate(fastest, "echo", dialect, 100) or 0.0
            out.append(echo_vs_aiosignalr_line(fastest, dialect, mine / aio))
    for target in ours:
        server = target.split("@", 1)[1]
        sio_name = _peer_socketio(server, names)
        mine, sio = (
            rate(target, "broadcast", "signalr-json", 1000),
            rate(sio_name, "broadcast", "socketio", 1000),
        )
        if mine and sio:
            verdict = "PASS" if mine / sio >= 2 else "MISS"
            line = (
                f"target broadcast@1000 ≥ 2x socketio ({target} vs {sio_name}): "
                f"{mine / sio:.2f}x {verdict}"
            )
            raw = rate(f"raw@{server}", "broadcast", "raw", 1000)
            if sio_name != f"socketio@{server}" and raw:
                line += (
                    f" (python-socketio does not run on {server}; "
                    f"the raw ASGI app on it: {raw / sio:.2f}x)"
                )
            out.append(line)
    for (target, scenario, dialect, _param), point in table.items():
        if scenario == "idle" and target.startswith("ours@"):
            kib = point.get("bytes_per_conn", 0.0) / 1024
            line = (
                f"target ≤ 20 KiB per idle connection ({target}, {dialect}): "
                f"{kib:.1f} KiB {'PASS' if kib <= 20 else 'MISS'}"
            )
            raw_name = "raw@" + target.split("@", 1)[1]
            raw_point = next(
                (v for k, v in table.items() if k[0] == raw_name and k[1] == "idle"), None
            )
            if raw_point is not None:
                raw_kib = raw_point.get("bytes_per_conn", 0.0) / 1024
                line += f" ({raw_name} alone: {raw_kib:.1f} KiB; ours adds {kib - raw_kib:.1f})"
            out.append(line)
        if scenario == "slow" and target.startswith("ours@"):
            growth = point.get("rss_growth", 0.0) / 1024
            out.append(
                f"slow consumer ({target}, {dialect}): RSS growth {growth:.0f} KiB, "
                "others' rate second÷first "
                f"{_ratio(point.get('rate_second'), point.get('rate_first'))}"
            )
    return [*out, ""] if out else out


def plot(table: dict[Key, dict[str, Any]], path: str) -> bool:
    """Echo completions/s vs connections and broadcast delivered/s vs receivers.

    Returns False when matplotlib is not installed (it is a bench extra)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, axes = plt.subplots(1, 2, figsize=(15, 6))
    colours: dict[str, Any] = {}
    palette = plt.get_cmap("tab20").colors
    for ax, scenario, xlabel, ylabel in (
        (axes[0], "echo", "connections", "completions/s"),
        (axes[1], "broadcast", "receivers", "delivered messages/s"),
    ):
        for (target, dialect), points in _series(table, scenario).items():
            if dialect == "signalr-msgpack" and not target.startswith("ours@hypercorn-asyncio"):
                continue
            xs = sorted(points)
            style = (
                "-" if target.startswith("ours") else ("--" if target.startswith("raw") else ":")
            )
            label = f"{target} ({dialect})" if target.startswith(("ours", "aiosignalr")) else target
            colour = colours.setdefault(label, palette[len(colours) % len(palette)])
            ax.plot(
                xs, [points[x]["rate"] for x in xs], style, marker="o", label=label, color=colour
            )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(f"{scenario} (median of runs; server on one core)")
        ax.grid(True, which="both", alpha=0.3)
    handles = {h.get_label(): h for ax in axes for h in ax.get_lines()}
    fig.legend(handles.values(), handles.keys(), fontsize=7, loc="center right")
    fig.subplots_adjust(right=0.78)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
