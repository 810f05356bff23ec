"""The v0 entry point kept for its callers: one hub (kind 3) alone on a virtual port.

server/simulation.py, bench/timing.py and the link tests build a VirtualHub and schedule beam
edges on it; underneath it is a VirtualPort with one VirtualDevice at address 0.
"""

from __future__ import annotations

import random
import time

from hardware.messages import Caps, DeviceKind, EventKind
from hardware.sim.device import VirtualDevice
from hardware.sim.models import LatencyModel, SimClock, TruthEvent
from hardware.sim.port import VirtualPort

__all__ = ["LatencyModel", "SimClock", "TruthEvent", "VirtualHub"]


class VirtualHub:
    """One simulated hub with `channels` beams wired to it, at address 0."""

    def __init__(
        self,
        device_id: int = 0x00AB12CD,
        boot_id: int | None = None,
        channels: int = 2,
        clock: SimClock | None = None,
        latency: LatencyModel | None = None,
        seed: int = 0,
        caps: Caps | None = None,
    ) -> None:
        self.rng = random.Random(seed)
        self.device_id = device_id
        self.channels = channels
        # Drawn as v0 drew it, so a seed picked for its clock still gives the same clock.
        self.clock = clock or SimClock(
            origin_ns=time.monotonic_ns(), offset_ticks=self.rng.getrandbits(32)
        )
        self.latency = latency or LatencyModel()
        self.device = VirtualDevice(
            DeviceKind.HUB, device_id, boot_id=boot_id, channels=channels, clock=self.clock,
            seed=seed, caps=caps,
        )  # fmt: skip
        self.sim_port = VirtualPort(
            [self.device], latency=self.latency, seed=self.rng.getrandbits(32), name="sim-hub"
        )

    @property
    def boot_id(self) -> int:
        return self.device.boot_id

    @property
    def truth(self) -> list[TruthEvent]:
        """A copy: the device's list grows on the port thread."""
        return self.device.truth_since(0)

    @property
    def port(self) -> str:
        return self.sim_port.port

    def start(self) -> str:
        return self.sim_port.start()

    def stop(self) -> None:
        self.sim_port.stop()

    def unplug(self) -> None:
        self.sim_port.unplug()

    def replug(self) -> str:
        return self.sim_port.replug()

    def schedule_edge(self, channel: int, kind: EventKind, at_mono_ns: int) -> None:
        """Make a beam edge happen at a true host time (in the future, or now)."""
        self.device.schedule_edge(channel, kind, at_mono_ns)

    def truth_since(self, index: int) -> list[TruthEvent]:
        return self.device.truth_since(index)
