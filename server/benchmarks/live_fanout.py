"""Live feed fan-out: commit-to-phone latency with a squad's phones on the feed, and memory.

Why: on a match day every athlete and parent watches the board on a phone, and a split must
reach all of them about as fast as it reaches one; over a session the server's memory must
stay flat (the catch-up history is bounded, a client that leaves is forgotten).

The real app runs under uvicorn in a child process (so its memory is its own) on a temp
SQLite file, with no devices. Inside it a publisher writes reps through the real RunRecorder
(commit, then publish) at a fixed split rate; LiveHub.publish is wrapped to stamp each message
with the host monotonic time right after the commit. This process opens the WebSocket clients
and, for each stamped message, takes receive time minus that stamp: CLOCK_MONOTONIC is one
clock for every process on a Linux host. Receive time is taken before the message is parsed;
all clients share one event loop here, so the last of 200 to be read also waits for the
others: the figure includes that, and so errs on the slow side. A short first phase with
`baseline_clients` gives the same figure without fan-out, for comparison within one run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from server.benchmarks.common import JsonDict, summarize

DRILL = "sprint-20m"  # two splits per rep, so reps end (a `run` message) as on a real day
SQUAD = 12
STAMP = "committed_mono_ns"
_STAMP_RE = re.compile(rf'"{STAMP}":(\d+)')
_SEQ_RE = re.compile(r'"seq":(\d+)')
CONNECT_TIMEOUT_S = 30.0
DRAIN_TIMEOUT_S = 30.0


# -- the server side (a child process) -----------------------------------------------------


async def _publish_reps(
    services: Any, clients: int, rate_hz: float, duration_s: float, started: Callable[[], bool]
) -> None:
    """Waits for the clients, then writes `rate_hz * duration_s` splits as reps of DRILL."""
    from drills import RunOutcome, RunState, SplitResult

    live, rec = services.live, services.recorder
    real_publish = live.publish

    def stamped(message: dict[str, Any]) -> None:
        real_publish({**message, STAMP: time.monotonic_ns()})

    setattr(live, "publish", stamped)  # noqa: B010  (the recorder calls live.publish)
    while not started() or live.client_count < clients:
        await asyncio.sleep(0.02)
    team = rec.ensure_team("Bench Squad")
    squad = [rec.ensure_athlete(team, f"Runner {i:02d}") for i in range(SQUAD)]
    drill_id = rec.drill_id(DRILL)
    total = round(rate_hz * duration_s)
    print(f"go {total} {live.seq}", flush=True)
    t0 = time.monotonic()
    run_id = 0
    splits: list[SplitResult] = []
    for i in range(total):
        delay = t0 + i / rate_hz - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        position = i % 2 + 1
        athlete = squad[(i // 2) % SQUAD]
        ctx = {"drill": DRILL, "athlete": f"Runner {(i // 2) % SQUAD:02d}", "rep": i // 2 + 1}
        if position == 1:
            run_id, splits = rec.open_run(drill_id, athlete, rep=i // 2 + 1), []
        split = SplitResult(
            "0-10m" if position == 1 else "10-20m", "a", "b", 1_500_000 + i % 1000, 10.0
        )
        splits.append(split)
        rec.add_split(run_id, position, split, ctx, final=position == 2)
        if position == 2 or i == total - 1:
            outcome = RunOutcome(RunState.FINISHED, tuple(splits), 3_000_000, None)
            rec.close_run(run_id, outcome, ctx)
    print(f"done {live.seq}", flush=True)


def serve_main(argv: list[str]) -> int:
    """Child process: `python -m server.benchmarks.live_fanout serve --db D --port P ...`."""
    import uvicorn

    from server.app import build_services, create_app
    from server.config import Settings
    from server.db.session import migrate

    p = argparse.ArgumentParser()
    p.add_argument("--db", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--clients", type=int, required=True)
    p.add_argument("--rate", type=float, required=True)
    p.add_argument("--duration", type=float, required=True)
    args = p.parse_args(argv)
    migrate(args.db)
    services = build_services(Settings(db=args.db, port=args.port))
    app = create_app(services.settings, services)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=args.port, log_level="warning",
                       ws="websockets-sansio")
    )  # fmt: skip

    async def both() -> None:
        pub = asyncio.create_task(
            _publish_reps(services, args.clients, args.rate, args.duration, lambda: server.started)
        )
        await server.serve()  # until SIGTERM
        pub.cancel()

    asyncio.run(both())
    return 0


# -- the clients and the measurement (this process) ----------------------------------------


@dataclass
class _Client:
    latencies_ms: list[float] = field(default_factory=list)
    seqs: list[int] = field(default_factory=list)


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


async def _client(url: str, state: _Client, ready: asyncio.Event, counter: list[int]) -> None:
    from websockets.asyncio.client import connect

    async with connect(url, open_timeout=CONNECT_TIMEOUT_S, max_size=None) as ws:
        await ws.recv()  # hello: subscribed
        counter[0] += 1
        if counter[0] == counter[1]:
            ready.set()
        async for text in ws:
            now = time.monotonic_ns()
            m = _STAMP_RE.search(text if isinstance(text, str) else text.decode())
            if m is None:
                continue
            state.latencies_ms.append((now - int(m.group(1))) / 1e6)
            seq = _SEQ_RE.search(text if isinstance(text, str) else text.decode())
            state.seqs.append(int(seq.group(1)) if seq else -1)


async def _run_phase(
    clients: int, rate_hz: float, duration_s: float, sample_s: float, db: str
) -> JsonDict:
    port = _free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server.benchmarks.live_fanout", "serve", "--db", db,
        "--port", str(port), "--clients", str(clients), "--rate", str(rate_hz),
        "--duration", str(duration_s), stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    states = [_Client() for _ in range(clients)]
    tasks: list[asyncio.Task[None]] = []
    rss: list[float] = []
    try:
        await _wait_listening(port, proc)
        ready, counter = asyncio.Event(), [0, clients]
        url = f"ws://127.0.0.1:{port}/ws/live"
        tasks = [asyncio.create_task(_client(url, s, ready, counter)) for s in states]
        await _until(ready.wait(), CONNECT_TIMEOUT_S, tasks, "clients did not all connect")
        go = (await _until(proc.stdout.readline(), CONNECT_TIMEOUT_S, tasks, "no go")).split()
        published_splits, first_seq = int(go[1]), int(go[2]) + 1
        done_line = asyncio.create_task(proc.stdout.readline())
        while not done_line.done():
            rss.append(_rss_mb(proc.pid))
            await asyncio.wait({done_line}, timeout=sample_s)
        rss.append(_rss_mb(proc.pid))
        last_seq = int(done_line.result().split()[1])
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while any(not s.seqs or s.seqs[-1] < last_seq for s in states):
            if time.monotonic() > deadline or all(t.done() for t in tasks):
                break
            await asyncio.sleep(0.05)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        await proc.wait()
    return _report(states, published_splits, range(first_seq, last_seq + 1), rss)


def _report(states: list[_Client], splits: int, seqs: range, rss: list[float]) -> JsonDict:
    """Every client must have every message after `go`, once each, in order."""
    expected = set(seqs)
    complete = sum(1 for s in states if s.seqs == list(seqs))
    lat = summarize((x for s in states for x in s.latencies_ms), "messages")
    return {
        **lat,
        "clients": len(states),
        "splits_published": splits,
        "messages_published": len(expected),
        "clients_complete": complete,
        "messages_missing": sum(len(expected - set(s.seqs)) for s in states),
        "rss_mb": {
            "start": round(rss[0], 1), "end": round(rss[-1], 1), "max": round(max(rss), 1),
            "growth_pct": round((rss[-1] / rss[0] - 1) * 100, 2),
            "max_growth_pct": round((max(rss) / rss[0] - 1) * 100, 2), "samples": len(rss),
            # A dozen points along the run, to tell a leak (a ramp) from a warm-up (a knee).
            "trend": [round(rss[i * (len(rss) - 1) // 11], 1) for i in range(12)],
        },
    }  # fmt: skip


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _wait_listening(port: int, proc: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + CONNECT_TIMEOUT_S
    while True:
        if proc.returncode is not None:
            raise RuntimeError(f"bench server exited with {proc.returncode}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError("bench server did not listen") from None
            await asyncio.sleep(0.1)


async def _until(
    what: Awaitable[Any], timeout_s: float, tasks: list[asyncio.Task[None]], why: str
) -> Any:
    try:
        return await asyncio.wait_for(what, timeout_s)
    except TimeoutError:
        failed = [t.exception() for t in tasks if t.done() and t.exception()]
        raise TimeoutError(f"{why} within {timeout_s:.0f} s; {failed[:1]}") from None


def run_live_fanout_bench(
    clients: int = 200,
    rate_hz: float = 20.0,
    duration_s: float = 600.0,
    baseline_clients: int = 1,
    baseline_s: float = 30.0,
    sample_s: float = 1.0,
) -> JsonDict:
    """Two phases on fresh databases: `baseline_clients` for `baseline_s` (capped at the
    duration), then `clients` for `duration_s`. Latency figures in ms; memory from the
    first sample after the clients connected, so their own buffers are in the start."""
    baseline_s = min(baseline_s, duration_s)
    results: JsonDict = {}
    with tempfile.TemporaryDirectory(prefix="agility-fanout-") as tmp:
        for name, n, secs in (("baseline", baseline_clients, baseline_s),
                              ("fanout", clients, duration_s)):  # fmt: skip
            db = os.path.join(tmp, f"{name}.db")
            results[name] = asyncio.run(_run_phase(n, rate_hz, secs, sample_s, db))
    results["config"] = {
        "clients": clients, "rate_hz": rate_hz, "duration_s": duration_s,
        "baseline_clients": baseline_clients, "baseline_s": baseline_s, "sample_s": sample_s,
        "database": "sqlite", "drill": DRILL,
    }  # fmt: skip
    return results


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        raise SystemExit(serve_main(sys.argv[2:]))
    raise SystemExit(
        "usage: python -m server.benchmarks.live_fanout serve ... (or agility bench live)"
    )
