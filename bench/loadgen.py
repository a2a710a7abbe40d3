"""The load generator: one process, many connections, pre-encoded frames.

Run by the runner as ``python -m bench.loadgen '<json spec>'`` pinned to its
own core; prints one JSON object with the scenario's figures. Besides the
figures it reports its own CPU use over each measured window
(``gen_cpu``, 1.0 = one full core) so a saturated generator shows up in the
table instead of silently capping the server's numbers. When ``server_pid``
is given it also samples that process's CPU time and resident memory from
``/proc`` at the window's edges.

Scenarios: ``echo`` (closed loop, one invocation in flight per connection),
``broadcast`` (one sender, a ladder of receiver counts, a window of
broadcasts in flight), ``group`` (receivers in groups, the sender cycles
through the groups), ``idle`` (ramp up connections, hold them through
keep-alive pings) and ``slow`` (one receiver stops reading during a
broadcast).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from .dialects import BCAST_MARK, ECHO_MARK, Dialect, dialect
from .wsclient import WsClient, connect

_CLK_TCK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


class ServerProbe:
    """CPU seconds and RSS of the server process, read from ``/proc``."""

    def __init__(self, pid: int | None) -> None:
        self.pid = pid

    def cpu(self) -> float:
        if not self.pid:
            return 0.0
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _CLK_TCK

    def rss(self) -> int:
        if not self.pid:
            return 0
        with open(f"/proc/{self.pid}/statm") as f:
            return int(f.read().split()[1]) * _PAGE


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Window:
    """Wall time, generator CPU and server CPU over one measured interval."""

    def __init__(self, probe: ServerProbe) -> None:
        self.probe = probe
        self.t0, self.c0, self.s0 = time.perf_counter(), own_cpu(), probe.cpu()

    def close(self) -> dict[str, float]:
        elapsed = time.perf_counter() - self.t0
        return {
            "seconds": elapsed,
            "gen_cpu": (own_cpu() - self.c0) / elapsed,
            "server_cpu_s": self.probe.cpu() - self.s0,
        }


class Pool:
    """The open connections of one scenario and how they became ready."""

    def __init__(self, host: str, port: int, spec: Dialect, sources: int = 1) -> None:
        self.host, self.port, self.spec = host, port, spec
        self.clients: list[WsClient] = []
        self._sources = itertools.cycle([f"127.0.0.{i}" for i in range(1, sources + 1)])
        self._sources_count = sources
        self.retries = 0

    def _handshake_handler(self, ready: asyncio.Future[None]) -> Callable[[WsClient, bytes], None]:
        spec = self.spec

        def on_message(client: WsClient, payload: bytes) -> None:
            if spec.ping_prefix is not None and payload.startswith(spec.ping_prefix):
                client.write(spec.pong)
            elif (
                spec.ready_prefix is not None
                and payload.startswith(spec.ready_prefix)
                and not ready.done()
            ):
                ready.set_result(None)

        return on_message

    async def open_one(self) -> WsClient:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()
        local = next(self._sources) if self._sources_count > 1 else None
        for attempt in range(5):
            try:
                client = await connect(
                    self.host,
                    self.port,
                    self.spec.path,
                    self._handshake_handler(ready),
                    local_host=local,
                )
                break
            except ConnectionError:
                # a full accept backlog resets connections during a fast
                # ramp; count the retry and try again after a pause
                self.retries += 1
                if attempt == 4:
                    raise
                await asyncio.sleep(0.05 * (attempt + 1))
        for frame in self.spec.hello:
            client.write(frame)
        if self.spec.ready_prefix is not None:
            await asyncio.wait_for(ready, 10.0)
        self.clients.append(client)
        return client

    async def grow(self, total: int, concurrency: int = 200) -> None:
        """Open connections until there are ``total``, ``concurrency`` at a time."""
        missing = total - len(self.clients)
        if missing <= 0:
            return
        gate = asyncio.Semaphore(concurrency)

        async def one() -> None:
            async with gate:
                await self.open_one()

        await asyncio.gather(*(one() for _ in range(missing)))

    def close(self) -> None:
        for client in self.clients:
            client.abort()
        self.clients.clear()

    def listen_pings(self, client: WsClient, handler: Callable[[WsClient, bytes], None]) -> None:
        """Route a connection's messages to ``handler``, answering protocol pings first."""
        spec = self.spec
        if spec.ping_prefix is None:
            client.on_message = handler
            return

        def on_message(c: WsClient, payload: bytes) -> None:
            if payload.startswith(spec.ping_prefix):  # type: ignore[arg-type]
                c.write(spec.pong)
            else:
                handler(c, payload)

        client.on_message = on_message


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def barrier(pool: Pool, clients: list[WsClient]) -> None:
    """Every connection echoes once: what it sent before has been handled."""
    loop = asyncio.get_running_loop()
    pending = {id(c) for c in clients}
    done: asyncio.Future[None] = loop.create_future()

    def on_message(client: WsClient, payload: bytes) -> None:
        if ECHO_MARK in payload and id(client) in pending:
            pending.discard(id(client))
            if not pending and not done.done():
                done.set_result(None)

    for client in clients:
        pool.listen_pings(client, on_message)
        client.write(pool.spec.echo)
    if clients:
        await asyncio.wait_for(done, 30.0)


async def scenario_echo(
    pool: Pool, probe: ServerProbe, args: dict[str, Any]
) -> list[dict[str, Any]]:
    results = []
    for count in args["connections"]:
        await pool.grow(count)
        clients = pool.clients[:count]
        state = {"running": True, "measuring": False, "count": 0}
        latencies: list[float] = []
        frame = pool.spec.echo
        perf = time.perf_counter

        # Defined per size on purpose: it closes over this size's state and is
        # detached (the loop stops resending) before the next size starts.
        def on_message(client: WsClient, payload: bytes) -> None:
            if ECHO_MARK not in payload:
                return
            now = perf()  # noqa: B023
            if state["measuring"]:  # noqa: B023
                state["count"] += 1  # noqa: B023
                latencies.append(now - client.sent_at)  # noqa: B023
            if state["running"]:  # noqa: B023
                client.sent_at = now
                client.write(frame)  # noqa: B023

        for client in clients:
            pool.listen_pings(client, on_message)
            client.sent_at = perf()
            client.write(frame)
        await asyncio.sleep(args["warmup"])
        state["measuring"] = True
        window = Window(probe)
        await asyncio.sleep(args["duration"])
        state["measuring"] = False
        figures = window.close()
        state["running"] = False
        await asyncio.sleep(0.05)
        results.append(
            {
                "param": count,
                "rate": state["count"] / figures["seconds"],
                "p50_ms": _percentile(latencies, 0.50) * 1e3,
                "p99_ms": _percentile(latencies, 0.99) * 1e3,
                **figures,
            }
        )
        await barrier(pool, clients)  # drain in-flight replies before the next size
    return results


async def _fan_out(
    pool: Pool,
    probe: ServerProbe,
    sender: WsClient,
    receivers: list[WsClient],
    frames: list[bytes],
    per_message: int,
    args: dict[str, Any],
) -> dict[str, Any]:
    """Send ``frames`` in turn, keeping ``window`` messages undelivered at most."""
    loop = asyncio.get_running_loop()
    state: dict[str, Any] = {"delivered": 0, "wanted": 0, "waiter": None}

    def on_message(client: WsClient, payload: bytes) -> None:
        hits = payload.count(BCAST_MARK)
        if hits:
            state["delivered"] += hits
            waiter = state["waiter"]
            if waiter is not None and state["delivered"] >= state["wanted"] and not waiter.done():
                waiter.set_result(None)

    for client in receivers:
        pool.listen_pings(client, on_message)
    pool.listen_pings(sender, lambda c, p: None)
    window_size = args.get("window", 8)
    sent = 0
    stop_at = [0.0]
    measured: dict[str, Any] = {}

    async def send_loop(until: float) -> None:
        nonlocal sent
        frame_cycle = itertools.cycle(frames)
        while time.perf_counter() < until:
            sender.write(next(frame_cycle))
            sent += 1
            wanted = (sent - window_size) * per_message
            if state["delivered"] < wanted:
                state["wanted"] = wanted
                state["waiter"] = loop.create_future()
                await asyncio.wait_for(state["waiter"], 20.0)
                state["waiter"] = None

    await send_loop(time.perf_counter() + args["warmup"])
    start_delivered = state["delivered"]
    window = Window(probe)
    stop_at[0] = time.perf_counter() + args["duration"]
    await send_loop(stop_at[0])
    delivered = state["delivered"] - start_delivered
    figures = window.close()
    # let the last window drain so the next step starts from quiet
    deadline = time.perf_counter() + 10.0
    while state["delivered"] < sent * per_message and time.perf_counter() < deadline:
        await asyncio.sleep(0.01)
    measured.update(
        rate=delivered / figures["seconds"],
        server_us_per_msg=figures["server_cpu_s"] / max(delivered, 1) * 1e6,
        **figures,
    )
    return measured


async def scenario_broadcast(
    pool: Pool, probe: ServerProbe, args: dict[str, Any]
) -> list[dict[str, Any]]:
    results = []
    sender = await pool.open_one()
    for count in args["receivers"]:
        try:
            await pool.grow(count + 1)
            receivers = pool.clients[1 : count + 1]
            frames = [pool.spec.broadcast]
            figures = await _fan_out(pool, probe, sender, receivers, frames, count, args)
        except (TimeoutError, ConnectionError) as exc:
            # keep the smaller sizes already measured; the report lists the failure
            if not results:
                raise
            results.append({"param": count, "failed": f"{type(exc).__name__}: {exc}"})
            break
        results.append({"param": count, **figures})
    return results


async def scenario_group(
    pool: Pool, probe: ServerProbe, args: dict[str, Any]
) -> list[dict[str, Any]]:
    groups, size = args["groups"], args["group_size"]
    sender = await pool.open_one()
    await pool.grow(groups * size + 1)
    receivers = pool.clients[1:]
    names = [f"g{i}" for i in range(groups)]
    for i, client in enumerate(receivers):
        client.write(pool.spec.join(names[i % groups]))
    await barrier(pool, receivers)
    await asyncio.sleep(0.2)
    frames = [pool.spec.to_group(name) for name in names]
    figures = await _fan_out(pool, probe, sender, receivers, frames, size, args)
    return [{"param": f"{groups}x{size}", **figures}]


async def scenario_idle(
    pool: Pool, probe: ServerProbe, args: dict[str, Any]
) -> list[dict[str, Any]]:
    count, hold = args["connections"], args["hold"]
    await asyncio.sleep(0.3)
    rss_before = probe.rss()
    pings = {"n": 0}

    ramp = Window(probe)
    await pool.grow(count, concurrency=args.get("concurrency", 200))
    ramp_figures = ramp.close()

    def on_message(client: WsClient, payload: bytes) -> None:
        pings["n"] += 1

    for client in pool.clients:
        pool.listen_pings(client, on_message)
    idle = Window(probe)
    await asyncio.sleep(hold)
    idle_figures = idle.close()
    rss_after = probe.rss()
    alive = sum(1 for c in pool.clients if not c.closed)
    return [
        {
            "param": count,
            "rate": count / ramp_figures["seconds"],
            "ramp_gen_cpu": ramp_figures["gen_cpu"],
            "gen_cpu": idle_figures["gen_cpu"],
            "bytes_per_conn": (rss_after - rss_before) / count,
            "idle_cpu": idle_figures["server_cpu_s"] / idle_figures["seconds"],
            "pings_per_conn": pings["n"] / count,
            "alive": alive,
        }
    ]


async def scenario_slow(
    pool: Pool, probe: ServerProbe, args: dict[str, Any]
) -> list[dict[str, Any]]:
    """Others' delivered/s and server RSS per second while one receiver never reads."""
    receivers_n = args["receivers"]
    sender = await pool.open_one()
    slow = await pool.open_one()
    await pool.grow(receivers_n + 2)
    receivers = pool.clients[2:]
    state = {"delivered": 0}

    def on_message(client: WsClient, payload: bytes) -> None:
        state["delivered"] += payload.count(BCAST_MARK)

    for client in receivers:
        pool.listen_pings(client, on_message)
    pool.listen_pings(sender, lambda c, p: None)
    assert slow.transport is not None
    slow.transport.pause_reading()
    loop = asyncio.get_running_loop()
    samples: list[dict[str, float]] = []
    frame = pool.spec.broadcast
    window_size = args.get("window", 8)
    sent = 0
    start = time.perf_counter()
    next_sample = start
    last_delivered = 0
    rss0 = probe.rss()
    stalled = False
    while True:
        now = time.perf_counter()
        if now >= next_sample:
            samples.append(
                {
                    "t": now - start,
                    "delivered": state["delivered"] - last_delivered,
                    "rss": probe.rss() - rss0,
                }
            )
            last_delivered = state["delivered"]
            next_sample += 1.0
        if now - start >= args["duration"]:
            break
        sender.write(frame)
        sent += 1
        wanted = (sent - window_size) * receivers_n
        deadline = loop.time() + 1.0
        while state["delivered"] < wanted:
            await asyncio.sleep(0.0005)
            if loop.time() > deadline:
                stalled = True
                break
        if stalled:
            # the server stopped delivering to everyone: record, wait a tick, go on
            stalled = False
            sent = state["delivered"] // receivers_n + window_size
    rates = [s["delivered"] for s in samples[1:]]
    half = max(1, len(rates) // 2)
    first, second = rates[:half], rates[half:] or rates[-1:]
    return [
        {
            "param": receivers_n,
            "rate_first": statistics.mean(first) if first else 0.0,
            "rate_second": statistics.mean(second) if second else 0.0,
            "rss_growth": max((s["rss"] for s in samples), default=0.0),
            "slow_closed": slow.closed,
            "samples": samples,
        }
    ]


SCENARIOS = {
    "echo": scenario_echo,
    "broadcast": scenario_broadcast,
    "group": scenario_group,
    "idle": scenario_idle,
    "slow": scenario_slow,
}


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    pool = Pool(spec["host"], spec["port"], dialect(spec["dialect"]), spec.get("sources", 1))
    probe = ServerProbe(spec.get("server_pid"))
    try:
        results = await SCENARIOS[spec["scenario"]](pool, probe, spec["args"])
        return {"ok": True, "results": results}
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    finally:
        pool.close()
        await asyncio.sleep(0.05)


def main(argv: list[str]) -> int:
    spec = json.loads(argv[0])
    try:
        import uvloop  # type: ignore[import-not-found, unused-ignore]

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:
        runner = asyncio.Runner()
    with runner:
        outcome = runner.run(run(spec))
    print(json.dumps(outcome))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
