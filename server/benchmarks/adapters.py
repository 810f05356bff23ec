"""Chronopic and Timy through their adapters against the simulators' truth: split error at the
device's resolution, the naive host-receipt baseline, and mapped host time against its bound.

Why: an adapter's promise (issue 13) is that a split between two edges of one device keeps the
device's own resolution, 8 µs ticks for a Chronopic and 1/10,000 s for a Timy, however late
the bytes reach the host. The truth is what the simulators (hardware/sim/chronopic.py and
timy.py) keep: the host time of every edge, and the device's clock (offset and drift) at it.

Figures, per device kind, over splits between successive beam breaks of one device:
- `ticks_vs_device`: tick difference x tick length against the true interval on the
  device's own clock (true interval x (1 + drift)): truncation alone. Target at p99: 16 µs
  for a Chronopic (each interval truncates to whole 8 µs ticks, a split spans two), 0.2 ms
  for a Timy (it truncates each time to 0.1 ms).
- `ticks_vs_true`: the same split against the true interval: the crystal's drift included.
- `receipt`: the baseline in the same run, the split a program without device timestamps
  gets: the difference of the two events' `received_mono_us`, against the true interval.
- `mapped`: each event's `mono_us` (ticks mapped to host time by the ReceiptClock) minus the
  true host time of the edge, against the `sync_error_us` the event states.

Each kind runs on two links. `bridge`: between the simulator's pty and the host, a relay that
adds what a pty leaves out: a USB-serial bridge's latency, 1 to `usb_ms` per chunk, in order
(an FTDI's latency timer is 16 ms by default). The simulators themselves spend the UART's line
time (a record is whole on the pty when its last byte would have crossed the line). `pty`: the
simulator's own pty, as the adapter tests open it. Splits from ticks do not depend on the
link; the baseline and the mapped host time do.

Splits are scheduled densely so that a few hundred fit in about a minute: a dozen Chronopics
at once (break 80-200 ms, then a gap log-uniform over 0.3-5 s, as on one input wired to the
gates of a multi-gate sprint, mostly short gaps between gates and a few long ones), and Timys
at 9600 and 38400 baud with impulses on channels 0, 2, 1 in turn 40-500 ms apart (a line
takes 28 ms at 9600 baud).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import random
import select
import textwrap
import threading
import time
import tty
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from typing import Any, Final

from hardware.adapters.chronopic import TICK_US as CHRONOPIC_TICK_US
from hardware.adapters.receipt_clock import UNSETTLED_ERROR_US
from hardware.adapters.session import AdapterSession
from hardware.adapters.timy import TICK_US as TIMY_TICK_US
from hardware.discovery import DeviceHub
from hardware.messages import EventKind
from hardware.registry import DeviceEvent
from hardware.sim.chronopic import SimChronopic
from hardware.sim.models import LatencyModel
from hardware.sim.timy import SimTimy
from server.benchmarks.common import JsonDict, latency_model, percentile, round_all

LINKS: Final = ("bridge", "pty")
CHRONOPIC_BAUDRATE: Final = 9600
BITS_PER_BYTE: Final = 10  # 8N1
# p99 targets (issue 13): the device's resolution for a split of two of its times.
CHRONOPIC_TARGET_US: Final = 2 * CHRONOPIC_TICK_US
TIMY_TARGET_US: Final = 2 * TIMY_TICK_US
TIMY_CHANNELS: Final = (0, 2, 1)  # start, intermediate, finish
# Time for the first scheduled edge to lie in the future once every timer is set.
FIRST_EDGE_LEAD_S: Final = 1.0
# After the last edge: a Chronopic reports it a debounce later, a bridge holds it up to usb_ms.
DRAIN_S: Final = 5.0
_BRIDGE_WAKE_S: Final = 0.05
_JOIN_S: Final = 2.0


@dataclass(frozen=True)
class AdaptersConfig:
    """What one run simulates (defaults: the figures in docs/BENCHMARKS.md)."""

    chronopics: int = 12  # at once, taking the links in turn
    passes: int = 25  # beam breaks per Chronopic
    gap_s: tuple[float, float] = (0.3, 5.0)  # after a break, log-uniform
    break_ms: tuple[float, float] = (80.0, 200.0)
    chronopic_drift_ppm: float = 50.0  # each crystal drawn within +-this
    timy_bauds: tuple[int, ...] = (9600, 38400)  # each on every link
    impulses: int = 150  # per Timy
    timy_gap_s: tuple[float, float] = (0.04, 0.5)  # between impulses, uniform
    timy_drift_ppm: float = -30.0
    links: tuple[str, ...] = LINKS
    usb_ms: float = 16.0  # the bridge's latency per chunk: uniform 1 ms .. usb_ms
    seed: int = 1

    def check(self) -> None:
        if self.chronopics < 1 or self.passes < 2 or self.impulses < 2 or not self.timy_bauds:
            raise ValueError("need chronopics >= 1, passes >= 2, impulses >= 2 and a Timy")
        if not self.links or set(self.links) - set(LINKS):
            raise ValueError(f"links are among {', '.join(LINKS)}, not {self.links}")
        # A Timy line takes 26 characters and a CR on the wire; impulses closer than that
        # would queue in the device and the figures would time the queue.
        line_ms = 27 * BITS_PER_BYTE * 1000 / min(self.timy_bauds)
        if self.timy_gap_s[0] * 1000 <= line_ms:
            raise ValueError(f"Timy impulses must be more than {line_ms:.1f} ms apart")


class _Bridge:
    """A relay between a simulator's pty and a new pty the host opens: each chunk the device
    writes (already paced at its baud rate by the simulator) waits a USB latency drawn per
    chunk; chunks stay in order. The host's bytes go to the device at once.

    A test fixture only: it adds time, never changes a byte.
    """

    def __init__(self, device_path: str, baudrate: int, latency: LatencyModel, seed: int) -> None:
        self.device_path = device_path
        self.baudrate = baudrate
        self.latency = latency
        self.rng = random.Random(seed)
        self.path = ""
        self._device_fd: int | None = None
        self._master_fd: int | None = None
        self._slave_fd: int | None = None
        self._queue: deque[tuple[int, bytes]] = deque()  # (due_ns, bytes), in order
        self._wire_free_ns = 0
        self._last_due_ns = 0
        self._wake_r, self._wake_w = os.pipe()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors: list[BaseException] = []

    def start(self) -> str:
        device = os.open(self.device_path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(device)
        master, slave = os.openpty()
        # Raw both ends; the bridge keeps its slave open so the master never reads EIO
        # before the host has opened it.
        tty.setraw(master)
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._device_fd, self._master_fd, self._slave_fd = device, master, slave
        self.path = os.ttyname(slave)
        self._thread = threading.Thread(
            target=self._run, name=f"bench-bridge:{self.device_path}", daemon=True
        )
        self._thread.start()
        return self.path

    def stop(self) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"\0")
        if self._thread is not None:
            self._thread.join(timeout=_JOIN_S)
        for fd in (self._device_fd, self._master_fd, self._slave_fd, self._wake_r, self._wake_w):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._device_fd = self._master_fd = self._slave_fd = None

    def _run(self) -> None:
        try:
            self._loop()
        except Exception as exc:  # a fixture bug must show in the result, not hang the run
            self.errors.append(exc)

    def _loop(self) -> None:
        device, master = self._device_fd, self._master_fd
        assert device is not None and master is not None
        readers = [self._wake_r, device, master]
        while not self._stopping.is_set():
            self._deliver(master, time.monotonic_ns())
            timeout = _BRIDGE_WAKE_S
            if self._queue:
                wait_ns = self._queue[0][0] - time.monotonic_ns()
                timeout = min(timeout, max(0.0, wait_ns / 1e9))
            readable, _, _ = select.select(readers, [], [], timeout)
            if self._wake_r in readable:
                os.read(self._wake_r, 4096)
            if device in readable and not self._from_device(device):
                readers.remove(device)  # the simulator closed its end
            if master in readable:
                try:
                    data = os.read(master, 4096)
                except OSError:
                    data = b""
                if data:
                    os.write(device, data)
                else:
                    readers.remove(master)

    def _from_device(self, device: int) -> bool:
        try:
            data = os.read(device, 4096)
        except BlockingIOError:
            return True
        except OSError:
            return False
        if not data:
            return False
        now_ns = time.monotonic_ns()
        due_ns = max(self._last_due_ns, now_ns + self.latency.draw_ns(self.rng))
        self._last_due_ns = due_ns
        self._queue.append((due_ns, data))
        return True

    def _deliver(self, master: int, now_ns: int) -> None:
        while self._queue and self._queue[0][0] <= now_ns:
            due_ns, data = self._queue[0]
            try:
                written = os.write(master, data)
            except BlockingIOError:
                return  # the host is not reading: keep it for the next turn
            if written < len(data):
                self._queue[0] = (due_ns, data[written:])
                return
            self._queue.popleft()


@dataclass
class _Rig:
    """One simulated device on one link, and what the host made of it."""

    kind: str  # "chronopic" or "timy"
    link: str  # "bridge" or "pty"
    baudrate: int
    drift_ppm: float
    sim: SimChronopic | SimTimy
    bridge: _Bridge | None = None
    key: str = ""
    session: AdapterSession | None = None
    expected_events: int = 0
    last_edge_ns: int = 0

    @property
    def group(self) -> str:
        """How the mapped-time table names this device's row."""
        if self.kind == "timy":
            return f"{self.link}, {self.baudrate} baud"
        return self.link

    def url(self, path: str) -> str:
        if self.kind == "chronopic":
            return f"chronopic:{path}"
        return f"timy:{path}@{self.baudrate}"


@dataclass
class _Samples:
    """Signed errors in µs, pooled over a kind's devices."""

    ticks_vs_device: list[float] = field(default_factory=list)
    ticks_vs_true: list[float] = field(default_factory=list)
    receipt: dict[str, list[float]] = field(default_factory=dict)
    mapped: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # (error, bound)
    splits_s: list[float] = field(default_factory=list)


def _stats(errors_us: Iterable[float], count_key: str) -> JsonDict:
    """p50, p95, p99 and max of absolute errors in ms, and how many; nearest rank."""
    ordered = sorted(abs(e) / 1000 for e in errors_us)
    return {
        "p50_ms": round(percentile(ordered, 0.50), 4),
        "p95_ms": round(percentile(ordered, 0.95), 4),
        "p99_ms": round(percentile(ordered, 0.99), 4),
        "max_ms": round(ordered[-1], 4) if ordered else math.nan,
        count_key: len(ordered),
    }


def _mapped_stats(pairs: Sequence[tuple[float, float]]) -> JsonDict:
    """Mapped host time minus the truth, and how often the event's stated bound held."""
    out = _stats((e for e, _ in pairs), "events")
    held = sum(abs(e) <= bound for e, bound in pairs)
    # Until the clock has settled it states a generous bound (a late receipt in its window
    # widens it as much): count the events it held for with one of those apart.
    held_wide = sum(abs(e) <= b and b >= UNSETTLED_ERROR_US for e, b in pairs)
    bounds = sorted(b / 1000 for _, b in pairs)
    out["mean_signed_ms"] = round(sum(e for e, _ in pairs) / len(pairs) / 1000, 4) if pairs else 0
    out["bound_p50_ms"] = round(percentile(bounds, 0.5), 4)
    out["bound_held"] = held
    out["bound_held_pct"] = round(100 * held / len(pairs), 1) if pairs else math.nan
    out["bound_held_wide"] = held_wide
    return out


def _rigs(cfg: AdaptersConfig, rng: random.Random) -> list[_Rig]:
    rigs = []
    for i in range(cfg.chronopics):
        drift = rng.uniform(-cfg.chronopic_drift_ppm, cfg.chronopic_drift_ppm)
        sim = SimChronopic(
            drift_ppm=drift, offset_us=rng.randrange(10**9), seed=rng.getrandbits(32),
            name=f"bench-chronopic-{i}",
        )  # fmt: skip
        link = cfg.links[i % len(cfg.links)]
        rigs.append(_Rig("chronopic", link, CHRONOPIC_BAUDRATE, drift, sim))
    for link in cfg.links:
        for baud in cfg.timy_bauds:
            timy = SimTimy(seed=rng.getrandbits(32), drift_ppm=cfg.timy_drift_ppm, baudrate=baud)
            rigs.append(_Rig("timy", link, baud, cfg.timy_drift_ppm, timy))
    return rigs


def _schedule_chronopic(rig: _Rig, t0_us: int, cfg: AdaptersConfig, rng: random.Random) -> None:
    sim = rig.sim
    assert isinstance(sim, SimChronopic)
    low_s, high_s = cfg.gap_s
    at_us = t0_us + round(rng.uniform(0, low_s) * 1e6)
    for _ in range(cfg.passes):
        duration_us = round(rng.uniform(*cfg.break_ms) * 1000)
        sim.schedule_break(at_us, duration_us)
        rig.last_edge_ns = (at_us + duration_us) * 1000
        gap_s = math.exp(rng.uniform(math.log(low_s), math.log(high_s)))
        at_us += duration_us + round(gap_s * 1e6)
    rig.expected_events = 2 * cfg.passes


def _schedule_timy(rig: _Rig, t0_us: int, cfg: AdaptersConfig, rng: random.Random) -> None:
    sim = rig.sim
    assert isinstance(sim, SimTimy)
    at_ns = (t0_us + round(rng.uniform(0, cfg.timy_gap_s[0]) * 1e6)) * 1000
    for n in range(cfg.impulses):
        sim.impulse_at(at_ns, TIMY_CHANNELS[n % len(TIMY_CHANNELS)])
        rig.last_edge_ns = at_ns
        at_ns += round(rng.uniform(*cfg.timy_gap_s) * 1e9)
    rig.expected_events = cfg.impulses


def _chronopic_samples(rig: _Rig, events: list[DeviceEvent], out: _Samples) -> None:
    sim = rig.sim
    assert isinstance(sim, SimChronopic)
    truth = sim.edges_truth
    if len(events) != len(truth):
        raise RuntimeError(f"{rig.key}: {len(truth)} edges sent, {len(events)} events arrived")
    broken: list[tuple[DeviceEvent, float]] = []
    for event, edge in zip(events, truth, strict=True):
        kind = EventKind.BEAM_BROKEN if edge.state == 1 else EventKind.BEAM_RESTORED
        if event.kind is not kind or event.coarse:
            raise RuntimeError(f"{rig.key}: event {event.seq} is {event.kind.name}, not {kind}")
        _mapped(rig, event, edge.host_mono_us, out)
        if kind is EventKind.BEAM_BROKEN:
            broken.append((event, edge.host_mono_us))
    _splits(rig, broken, CHRONOPIC_TICK_US, out)


def _timy_samples(rig: _Rig, events: list[DeviceEvent], out: _Samples) -> None:
    sim = rig.sim
    assert isinstance(sim, SimTimy)
    truth = sim.truth
    if len(events) != len(truth) or not all(t.sent for t in truth):
        raise RuntimeError(f"{rig.key}: {len(truth)} impulses, {len(events)} events arrived")
    timed: list[tuple[DeviceEvent, float]] = []
    for event, impulse in zip(events, truth, strict=True):
        if event.channel != impulse.channel:
            raise RuntimeError(f"{rig.key}: event {event.seq} on c{event.channel}, not c{impulse}")
        true_us = impulse.true_mono_ns / 1000
        _mapped(rig, event, true_us, out)
        timed.append((event, true_us))
    _splits(rig, timed, TIMY_TICK_US, out)


def _mapped(rig: _Rig, event: DeviceEvent, true_us: float, out: _Samples) -> None:
    if event.mono_us is None or event.sync_error_us is None:
        raise RuntimeError(f"{rig.key}: event {event.seq} has no host time")
    pair = (event.mono_us - true_us, event.sync_error_us)
    out.mapped.setdefault(rig.group, []).append(pair)


def _splits(rig: _Rig, timed: list[tuple[DeviceEvent, float]], tick_us: int, out: _Samples) -> None:
    """Each split between successive breaks, against the truth on both clocks."""
    rate = 1.0 + rig.drift_ppm * 1e-6
    for (a, ta_us), (b, tb_us) in pairwise(timed):
        true_us = tb_us - ta_us
        split_us = (b.ticks - a.ticks) * tick_us
        out.ticks_vs_device.append(split_us - true_us * rate)
        out.ticks_vs_true.append(split_us - true_us)
        receipt_us = b.received_mono_us - a.received_mono_us
        out.receipt.setdefault(rig.link, []).append(receipt_us - true_us)
        out.splits_s.append(true_us / 1e6)


def _figures(samples: _Samples, target_us: int) -> JsonDict:
    device = _stats(samples.ticks_vs_device, "splits")
    return {
        "ticks_vs_device": device,
        "ticks_vs_true": _stats(samples.ticks_vs_true, "splits"),
        "receipt": {link: _stats(v, "splits") for link, v in samples.receipt.items()},
        "mapped": {g: _mapped_stats(v) for g, v in samples.mapped.items()},
        "split_range_s": [round(min(samples.splits_s), 3), round(max(samples.splits_s), 3)]
        if samples.splits_s
        else [],
        "target": {
            "p99_us": target_us,
            "measured_p99_us": round(device["p99_ms"] * 1000, 1),
            "met": device["p99_ms"] * 1000 <= target_us,
        },
    }


async def _wait_events(
    rigs: list[_Rig], by_device: dict[str, list[DeviceEvent]], deadline_ns: int
) -> None:
    while time.monotonic_ns() < deadline_ns:
        if all(len(by_device.get(r.key, [])) >= r.expected_events for r in rigs):
            return
        await asyncio.sleep(0.05)
    short = [
        f"{r.key}: {len(by_device.get(r.key, []))} of {r.expected_events}"
        for r in rigs
        if len(by_device.get(r.key, [])) < r.expected_events
    ]
    raise TimeoutError(f"events missing after the drain: {'; '.join(short)}")


async def _bench(cfg: AdaptersConfig) -> JsonDict:
    rng = random.Random(cfg.seed)
    rigs = _rigs(cfg, rng)
    by_device: dict[str, list[DeviceEvent]] = {}
    hub = DeviceHub(lambda e: by_device.setdefault(e.device, []).append(e))
    latency = latency_model(cfg.usb_ms, 0.0)
    started = time.monotonic()
    try:
        for rig in rigs:
            path = rig.sim.start()
            if rig.link == "bridge":
                rig.bridge = _Bridge(path, rig.baudrate, latency, rng.getrandbits(32))
                path = rig.bridge.start()
            session = await hub.open(rig.url(path))
            assert isinstance(session, AdapterSession) and session.state is not None
            rig.session, rig.key = session, session.state.key
        opened_s = time.monotonic() - started
        t0_us = time.monotonic_ns() // 1000 + round(FIRST_EDGE_LEAD_S * 1e6)
        for rig in rigs:
            schedule = _schedule_chronopic if rig.kind == "chronopic" else _schedule_timy
            schedule(rig, t0_us, cfg, rng)
        last_ns = max(r.last_edge_ns for r in rigs)
        await _wait_events(rigs, by_device, last_ns + round(DRAIN_S * 1e9))
        duration_s = time.monotonic() - started - opened_s
        stats = {r.key: dict(r.session.link_stats) for r in rigs if r.session is not None}
    finally:
        await hub.close_all()
        for rig in rigs:
            if rig.bridge is not None:
                rig.bridge.stop()
            rig.sim.stop()
    faults = [f"{r.key}: {e!r}" for r in rigs for e in r.sim.errors]
    faults += [f"{r.key} bridge: {e!r}" for r in rigs if r.bridge for e in r.bridge.errors]
    if faults:
        raise RuntimeError("simulator or bridge failed: " + "; ".join(faults))
    chronopic, timy = _Samples(), _Samples()
    for rig in rigs:
        events = sorted(by_device[rig.key], key=lambda e: e.seq)
        if rig.kind == "chronopic":
            _chronopic_samples(rig, events, chronopic)
        else:
            _timy_samples(rig, events, timy)
    chronopic_rigs = [r for r in rigs if r.kind == "chronopic"]
    timy_sims = [r.sim for r in rigs if isinstance(r.sim, SimTimy)]
    config = asdict(cfg) | {"usb_ms": [latency.min_ms, latency.max_ms]}
    result: JsonDict = {
        "chronopic": _figures(chronopic, CHRONOPIC_TARGET_US)
        | {
            "devices": len(chronopic_rigs),
            "drifts_ppm": round_all(r.drift_ppm for r in chronopic_rigs),
            "passes": cfg.passes * len(chronopic_rigs),
        },
        "timy": _figures(timy, TIMY_TARGET_US)
        | {
            "devices": len(timy_sims),
            "impulses": cfg.impulses * len(timy_sims),
            "overflow_bytes": sum(sim.overflow_bytes for sim in timy_sims),
        },
        "config": {k: list(v) if isinstance(v, tuple) else v for k, v in config.items()},
        "run": {
            "open_s": round(opened_s, 2),
            "duration_s": round(duration_s, 2),
            "link_stats": stats,
        },
    }
    result["targets"] = {
        "chronopic_split_p99": result["chronopic"]["target"],
        "timy_split_p99": result["timy"]["target"],
    }
    result["met"] = all(t["met"] for t in result["targets"].values())
    return result


def run_adapters_bench(
    chronopics: int = 12, passes: int = 25, impulses: int = 150, seed: int = 1, **knobs: Any
) -> JsonDict:
    """Time splits on simulated Chronopics and Timys through their adapters; see the module
    doc. `knobs` are the other fields of AdaptersConfig."""
    cfg = AdaptersConfig(
        chronopics=chronopics, passes=passes, impulses=impulses, seed=seed, **knobs
    )
    cfg.check()
    return asyncio.run(_bench(cfg))


# --- the report ----------------------------------------------------------------------------


def _met(ok: bool) -> str:
    return "**met**" if ok else "**NOT met**"


def _split_rows(r: JsonDict, tick: str) -> list[tuple[str, str, JsonDict]]:
    rows = [
        ("ticks vs device time", f"Δticks x {tick} - true interval x (1 + drift)",
         r["ticks_vs_device"]),
        ("ticks vs true time", "the same split against the true interval (drift in)",
         r["ticks_vs_true"]),
    ]  # fmt: skip
    what = {
        "bridge": "baseline: Δ receipt, UART + USB bridge",
        "pty": "baseline: Δ receipt, bare pty",
    }
    for link, stats in r["receipt"].items():
        rows.append((f"host receipt, {link}", what[link], stats))
    return rows


def _table(rows: list[tuple[str, str, JsonDict]], count_key: str) -> str:
    out = [f"| figure | what it is | {count_key} | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) |"]
    out.append("|---|---|---:|---:|---:|---:|---:|")
    for name, what, s in rows:
        out.append(
            f"| {name} | {what} | {s[count_key]} | {s['p50_ms']:.3f} | {s['p95_ms']:.3f}"
            f" | {s['p99_ms']:.3f} | {s['max_ms']:.3f} |"
        )
    return "\n".join(out)


def _mapped_table(rows: list[tuple[str, JsonDict]]) -> str:
    out = [
        "| device, link | events | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) | mean signed (ms)"
        " | stated bound p50 (ms) | within bound |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, s in rows:
        out.append(
            f"| {name} | {s['events']} | {s['p50_ms']:.3f} | {s['p95_ms']:.3f}"
            f" | {s['p99_ms']:.3f} | {s['max_ms']:.3f} | {s['mean_signed_ms']:+.3f}"
            f" | {s['bound_p50_ms']:.3f} | {s['bound_held']} ({s['bound_held_pct']:g} %) |"
        )
    return "\n".join(out)


def _target_line(name: str, target: JsonDict) -> str:
    limit_us, measured_us = target["p99_us"], target["measured_p99_us"]
    limit = f"{limit_us} µs" if limit_us < 100 else f"{limit_us / 1000:g} ms"
    return f"{name} split p99 <= {limit}: {_met(target['met'])} ({measured_us:g} µs)"


def _times(baseline: JsonDict | None, device: JsonDict) -> str:
    """How many times the device-timed error the baseline's is, at p99."""
    if baseline is None or not device["p99_ms"]:
        return "n/a"
    return f"{baseline['p99_ms'] / device['p99_ms']:.0f}"


def _baseline_words(cp: JsonDict, ty: JsonDict) -> str:
    cb, tb = cp["receipt"].get("bridge"), ty["receipt"].get("bridge")
    cpty, tpty = cp["receipt"].get("pty"), ty["receipt"].get("pty")
    words = ["The baseline is what a program without device timestamps gets."]
    if cb is not None and tb is not None:
        words.append(
            f"Through the bridge its error is the difference of two USB latencies and of the "
            f"host's delays in reading them: p50 {cb['p50_ms']:.1f} ms and p99 "
            f"{cb['p99_ms']:.1f} ms (Chronopic), p50 {tb['p50_ms']:.1f} ms and p99 "
            f"{tb['p99_ms']:.1f} ms (Timy), {_times(cb, cp['ticks_vs_true'])} and "
            f"{_times(tb, ty['ticks_vs_true'])} times the device-timed split's p99 against the "
            f"same true time."
        )
    if cpty is not None and tpty is not None:
        misses = (
            cpty["p99_ms"] * 1000 > cp["target"]["p99_us"]
            and tpty["p99_ms"] * 1000 > ty["target"]["p99_us"]
        )
        words.append(
            f"On the bare pty nothing delays the bytes but the host's own scheduling (p50 "
            f"{cpty['p50_ms']:.2f} and {tpty['p50_ms']:.2f} ms, p99 {cpty['p99_ms']:.2f} and "
            f"{tpty['p99_ms']:.2f} ms)"
            + (", which alone misses the devices' resolution;" if misses else ";")
            + " a real cable adds its bridge's latency to that."
        )
    drifts = cp["drifts_ppm"]
    if drifts and cp["split_range_s"]:
        worst, span_s = max(drifts, key=abs), cp["split_range_s"][1]
        words.append(
            f"Against the true time a device-timed split also carries its crystal's drift, "
            f"which its ticks cannot know (the largest here, {worst:+g} ppm, is "
            f"{abs(worst) * span_s / 1000:.2f} ms over {span_s:g} s): the Chronopic's "
            f"`ticks vs true time` row."
        )
    return _wrap(" ".join(words))


def _bare_pty_words(cp: JsonDict, ty: JsonDict) -> str:
    rows = [(f"Chronopic {g}", st) for g, st in cp["mapped"].items()]
    rows += [(f"Timy {g}", st) for g, st in ty["mapped"].items()]
    if not rows:
        return ""
    late = ", ".join(f"{st['mean_signed_ms']:+.1f} ms ({name})" for name, st in rows)
    held = sum(st["bound_held"] for _, st in rows)
    events = sum(st["events"] for _, st in rows)
    return _wrap(
        f"Mapped times come out late by the least delay any record took beyond its line time, "
        f"which no receipt can reveal (mean signed error: {late}): on the bridge its 1 ms "
        f"minimum latency plus the host's wake-up, on the bare pty the wake-up alone. The "
        f"stated bound is the spread of receipts above that floor, so it held for {held} of "
        f"{events} events; a cross-device split with such a device is off by about the "
        f"difference of the two floors, well inside the bound it is marked with."
    )


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=96, break_long_words=False, break_on_hyphens=False)


def render_markdown(r: JsonDict) -> str:
    """The section of docs/BENCHMARKS.md for one run."""
    cp, ty, cfg, run = r["chronopic"], r["timy"], r["config"], r["run"]
    mapped = [(f"Chronopic, {g}", s) for g, s in cp["mapped"].items()]
    mapped += [(f"Timy, {g}", s) for g, s in ty["mapped"].items()]
    usb = cfg["usb_ms"]
    bauds = " and ".join(str(b) for b in cfg["timy_bauds"])
    splits = cp["split_range_s"] or ["-", "-"]
    setup = _wrap(
        f"Chronopic and Timy simulators (hardware/sim/) on real pseudo-terminals, opened "
        f'through `DeviceHub.open("chronopic:PATH")` and `open("timy:PATH@BAUD")`, their bytes '
        f"turned into DeviceEvents by the real adapters. {cp['devices']} Chronopics at once, "
        f"crystals drawn within ±{cfg['chronopic_drift_ppm']:g} ppm ({cp['drifts_ppm']}), "
        f"{cfg['passes']} passes each on one input: a break of "
        f"{cfg['break_ms'][0]:g}-{cfg['break_ms'][1]:g} ms, then a gap log-uniform over "
        f"{cfg['gap_s'][0]:g}-{cfg['gap_s'][1]:g} s, mostly the short gaps between the gates "
        f"of a sprint and a few long ones (true splits {splits[0]}-{splits[1]} s). "
        f"{ty['devices']} Timys at {cfg['timy_drift_ppm']:+g} ppm, {bauds} baud, each rate "
        f"on both links, {cfg['impulses']} impulses each on channels 0, 2, 1 in turn, "
        f"{cfg['timy_gap_s'][0] * 1000:g}-{cfg['timy_gap_s'][1] * 1000:g} ms apart. A split "
        f"is the difference of two successive beam breaks of one device. The truth is the "
        f"simulator's: the true (host monotonic) time of each edge, and the device clock's "
        f"drift. The splits are dense so that a few hundred fit in a minute; only the drift "
        f"term grows with a split's length."
    )
    links = _wrap(
        f"Links: **bridge** relays the simulator's pty (paced at its baud rate) to the host "
        f"adding a USB-serial bridge's latency, "
        f"{usb[0]:g}-{usb[1]:g} ms per chunk, in order (an FTDI's latency timer is 16 ms by "
        f"default). **pty** is the simulator's own pty, without it. Splits from ticks do not "
        f"depend on the link; the baseline and the mapped times do."
    )
    return f"""{setup}

{links}

Command: `python -m bench --only adapters` (or `agility bench adapters --json`)

**Chronopic** (8 µs ticks), {cp["passes"]} passes:

{_table(_split_rows(cp, "8 µs"), "splits")}

**Timy** (1/10,000 s), {ty["impulses"]} impulses:

{_table(_split_rows(ty, "100 µs"), "splits")}

Targets: {_target_line("Chronopic", cp["target"])};
{_target_line("Timy", ty["target"])}.

{_baseline_words(cp, ty)}

Mapped host time: each event's `mono_us` (its ticks mapped by the receipt clock) minus the
true time of its edge, against the `sync_error_us` the event states (at least 20 ms until 16
records have arrived):

{_mapped_table(mapped)}

{_bare_pty_words(cp, ty)}
Ports opened in {run["open_s"]} s; the edges took {run["duration_s"]} s.
"""
