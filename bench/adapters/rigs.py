"""The adapters benchmark's devices: what one run simulates, and the edges each device makes.

A rig is one simulated Chronopic or Timy on one link (`bridge` or `pty`, bench/adapters/
bridge.py); its edges are scheduled on the simulator up front, so the run only has to wait.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Final

from bench.adapters.bridge import Bridge
from hardware.adapters.chronopic import TICK_US as CHRONOPIC_TICK_US
from hardware.adapters.session import AdapterSession
from hardware.adapters.timy import TICK_US as TIMY_TICK_US
from hardware.sim.chronopic import SimChronopic
from hardware.sim.timy import SimTimy

LINKS: Final = ("bridge", "pty")
CHRONOPIC_BAUDRATE: Final = 9600
BITS_PER_BYTE: Final = 10  # 8N1
# p99 targets (issue 13): the device's resolution for a split of two of its times.
CHRONOPIC_TARGET_US: Final = 2 * CHRONOPIC_TICK_US
TIMY_TARGET_US: Final = 2 * TIMY_TICK_US
TIMY_CHANNELS: Final = (0, 2, 1)  # start, intermediate, finish


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


@dataclass
class Rig:
    """One simulated device on one link, and what the host made of it."""

    kind: str  # "chronopic" or "timy"
    link: str  # "bridge" or "pty"
    baudrate: int
    drift_ppm: float
    sim: SimChronopic | SimTimy
    bridge: Bridge | None = None
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


def make_rigs(cfg: AdaptersConfig, rng: random.Random) -> list[Rig]:
    rigs = []
    for i in range(cfg.chronopics):
        drift = rng.uniform(-cfg.chronopic_drift_ppm, cfg.chronopic_drift_ppm)
        sim = SimChronopic(
            drift_ppm=drift, offset_us=rng.randrange(10**9), seed=rng.getrandbits(32),
            name=f"bench-chronopic-{i}",
        )  # fmt: skip
        link = cfg.links[i % len(cfg.links)]
        rigs.append(Rig("chronopic", link, CHRONOPIC_BAUDRATE, drift, sim))
    for link in cfg.links:
        for baud in cfg.timy_bauds:
            timy = SimTimy(seed=rng.getrandbits(32), drift_ppm=cfg.timy_drift_ppm, baudrate=baud)
            rigs.append(Rig("timy", link, baud, cfg.timy_drift_ppm, timy))
    return rigs


def schedule_chronopic(rig: Rig, t0_us: int, cfg: AdaptersConfig, rng: random.Random) -> None:
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


def schedule_timy(rig: Rig, t0_us: int, cfg: AdaptersConfig, rng: random.Random) -> None:
    sim = rig.sim
    assert isinstance(sim, SimTimy)
    at_ns = (t0_us + round(rng.uniform(0, cfg.timy_gap_s[0]) * 1e6)) * 1000
    for n in range(cfg.impulses):
        sim.impulse_at(at_ns, TIMY_CHANNELS[n % len(TIMY_CHANNELS)])
        rig.last_edge_ns = at_ns
        at_ns += round(rng.uniform(*cfg.timy_gap_s) * 1e9)
