"""Live feed fan-out: commit-to-phone latency with a squad's phones on the feed, and memory.

Why: on a match day every athlete and parent watches the board on a phone, and a split must
reach all of them about as fast as it reaches one; over a session the server's memory must
stay flat (the catch-up history is bounded, a client that leaves is forgotten).

The real app runs under uvicorn in a child process (so its memory is its own) on a temp
SQLite file. Inside it, beam breaks of three gates go to the real RunCoordinator (stored,
timed, committed, published) at a fixed split rate; LiveHub.publish is wrapped to stamp each
message with the host monotonic time right after the commit. This process opens the WebSocket
clients and, for each stamped message, takes receive time minus that stamp: CLOCK_MONOTONIC is
one clock for every process on a Linux host. The clients are plain sockets under websockets'
sans-I/O protocol in one selector loop, each stamped as its socket is read and parsed only
after every ready socket was read, so the figure is the server's and not the benchmark's own
queue. A short first phase with `baseline_clients` gives the same figure without fan-out, for
comparison within one run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import selectors
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

from bench.common import JsonDict
from bench.stats import summarize

DRILL = "sprint-20m"  # two splits per rep, so reps end (a `run` message) as on a real day
HUB = "hub-bench001"
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
    """Waits for the clients, then runs reps of DRILL through the real RunCoordinator from
    beam breaks on three gates, one split every 1/rate_hz s, as a timing hub would feed it:
    each break is stored, timed, committed and published by the same code as on a real day."""
    from hardware.messages import EventKind
    from hardware.records import DeviceEvent
    from server.catalog.service import Catalog
    from server.runs.coordinator import Binding, RunCoordinator

    live, rec = services.live, services.recorder
    real_publish = live.publish

    def stamped(message: dict[str, Any]) -> None:
        real_publish({**message, STAMP: time.monotonic_ns()})

    setattr(live, "publish", stamped)  # noqa: B010  (the recorder calls live.publish)
    while not started() or live.client_count < clients:
        await asyncio.sleep(0.02)
    drill = Catalog.load().get(DRILL)
    roles = list(drill.roles)
    coordinator = RunCoordinator(rec, {role: Binding(HUB, ch) for ch, role in enumerate(roles)})
    team = rec.ensure_team("Bench Squad")
    squad = [(rec.ensure_athlete(team, f"Runner {i:02d}"), f"Runner {i:02d}") for i in range(SQUAD)]
    reps = max(1, round(rate_hz * duration_s / len(drill.segments)))
    print(f"go {reps * len(drill.segments)} {live.seq}", flush=True)
    t0 = time.monotonic()
    seq = 0
    for rep in range(reps):
        athlete_id, name = squad[rep % SQUAD]
        done = coordinator.begin(drill, athlete_id, name, rep // SQUAD + 1, start_within_s=5)
        for channel in range(len(roles)):
            # The finish of one rep and the start of the next share an instant.
            at_s = t0 + (rep * len(drill.segments) + channel) / rate_hz
            delay = at_s - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            seq += 1
            now_us = time.monotonic_ns() // 1000
            coordinator.on_device_event(
                DeviceEvent(device=HUB, boot_id=1, seq=seq, channel=channel,
                            kind=EventKind.BEAM_BROKEN, ticks=round(at_s * 1e6),
                            tick_hz_est=1e6, mono_us=round(at_s * 1e6), received_mono_us=now_us)
            )  # fmt: skip
        await asyncio.wait_for(done, 5)
    print(f"done {live.seq}", flush=True)


def serve_main(argv: list[str]) -> int:
    """Child process: `python -m bench.live_fanout serve --db D --port P ...`."""
    import uvicorn

    from server.app import build_services, create_app
    from server.config import Settings
    from server.db.session import migrate
    from server.serve import uvicorn_options

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
    options = {**uvicorn_options("127.0.0.1", args.port), "log_level": "warning"}
    server = uvicorn.Server(uvicorn.Config(app, **options))

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
    """One phone: a socket driven by websockets' sans-I/O protocol (no task, no loop of its own),
    so reading 200 of them costs the benchmark little and the figure is the server's."""

    sock: socket.socket
    protocol: ClientProtocol
    latencies_ms: list[float] = field(default_factory=list)
    seqs: list[int] = field(default_factory=list)
    subscribed: bool = False

    def flush(self) -> None:
        for data in self.protocol.data_to_send():
            if data:
                self.sock.sendall(data)

    def feed(self, data: bytes, now_ns: int) -> None:
        """Takes what the socket gave, read at `now_ns`; answers pings (websockets queues the
        pong) so the server keeps the client."""
        if data:
            self.protocol.receive_data(data)
        else:
            self.protocol.receive_eof()
        for event in self.protocol.events_received():
            if isinstance(event, Response):
                if event.status_code != 101:
                    raise RuntimeError(f"/ws/live answered {event.status_code}")
                continue
            if not isinstance(event, Frame) or event.opcode is not Opcode.TEXT:
                continue
            text = bytes(event.data).decode()
            if not self.subscribed:
                self.subscribed = True  # the hello
                continue
            m = _STAMP_RE.search(text)
            if m is None:
                continue
            self.latencies_ms.append((now_ns - int(m.group(1))) / 1e6)
            seq = _SEQ_RE.search(text)
            self.seqs.append(int(seq.group(1)) if seq else -1)
        self.flush()


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def _open_client(port: int) -> _Client:
    sock = socket.create_connection(("127.0.0.1", port), timeout=CONNECT_TIMEOUT_S)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    # No extensions offered: a phone's browser offers permessage-deflate, which the server
    # declines (server/serve.uvicorn_options), so the frames are the same either way.
    protocol = ClientProtocol(parse_uri(f"ws://127.0.0.1:{port}/ws/live"), max_size=None)
    client = _Client(sock, protocol)
    protocol.send_request(protocol.connect())
    client.flush()
    sock.setblocking(False)
    return client


def _run_phase(
    clients: int, rate_hz: float, duration_s: float, sample_s: float, db: str
) -> JsonDict:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.live_fanout", "serve", "--db", db,
         "--port", str(port), "--clients", str(clients), "--rate", str(rate_hz),
         "--duration", str(duration_s)],
        stdout=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    states: list[_Client] = []
    rss: list[float] = []
    lines: list[str] = []
    try:
        _wait_listening(port, proc)
        states = [_open_client(port) for _ in range(clients)]
        sel = selectors.DefaultSelector()
        for c in states:
            sel.register(c.sock, selectors.EVENT_READ, c)
        os.set_blocking(proc.stdout.fileno(), False)
        sel.register(proc.stdout, selectors.EVENT_READ, None)
        pending = b""
        received: list[tuple[_Client, bytes, int]] = []

        def pump(timeout_s: float) -> None:
            nonlocal pending
            for key, _ in sel.select(timeout_s):
                if key.data is None:
                    pending += proc.stdout.read() or b""  # type: ignore[union-attr]
                    *done, pending = pending.split(b"\n")
                    lines.extend(d.decode() for d in done)
                    continue
                client: _Client = key.data
                try:
                    data = client.sock.recv(1 << 16)
                except BlockingIOError:
                    continue
                # Parsed after every ready socket is read: the last phone's receive time must
                # not include the parsing of the others' messages.
                received.append((client, data, time.monotonic_ns()))
            for client, data, now_ns in received:
                client.feed(data, now_ns)
                if not data:
                    sel.unregister(client.sock)
            received.clear()

        deadline = time.monotonic() + CONNECT_TIMEOUT_S
        while not any(line.startswith("go") for line in lines):
            if time.monotonic() > deadline or proc.poll() is not None:
                ready = sum(c.subscribed for c in states)
                raise TimeoutError(f"no go within {CONNECT_TIMEOUT_S:.0f} s; {ready} subscribed")
            pump(0.1)
        go = next(line for line in lines if line.startswith("go")).split()
        published_splits, first_seq = int(go[1]), int(go[2]) + 1
        next_sample = time.monotonic()
        while not any(line.startswith("done") for line in lines):
            if proc.poll() is not None:
                raise RuntimeError(f"bench server exited with {proc.returncode}")
            if time.monotonic() >= next_sample:
                rss.append(_rss_mb(proc.pid))
                next_sample += sample_s
            pump(max(0.0, next_sample - time.monotonic()))
        rss.append(_rss_mb(proc.pid))
        last_seq = int(next(line for line in lines if line.startswith("done")).split()[1])
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while any(not s.seqs or s.seqs[-1] < last_seq for s in states):
            if time.monotonic() > deadline:
                break
            pump(0.05)
    finally:
        for c in states:
            c.sock.close()
        proc.terminate()
        proc.wait()
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
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + CONNECT_TIMEOUT_S
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"bench server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1.0).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError("bench server did not listen") from None
            time.sleep(0.1)


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
            results[name] = _run_phase(n, rate_hz, secs, sample_s, db)
    results["config"] = {
        "clients": clients, "rate_hz": rate_hz, "duration_s": duration_s,
        "baseline_clients": baseline_clients, "baseline_s": baseline_s, "sample_s": sample_s,
        "database": "sqlite", "drill": DRILL,
    }  # fmt: skip
    return results


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        raise SystemExit(serve_main(sys.argv[2:]))
    raise SystemExit("usage: python -m bench.live_fanout serve ... (or python -m bench run live)")
