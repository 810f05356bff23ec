"""One simulated device plugged in on a virtual port of its own, as a USB gate or hub is.

The common case of the tests and of the server's simulated rigs: a VirtualDevice at address 0
alone on a VirtualPort, driven through the device and started, unplugged and stopped through
the port. The seed draws the clock's offset and then the port's seed, in that order, so a
seed picked for its clock keeps giving the same clock.
"""

from __future__ import annotations

import random
import time

from hardware.messages import Caps, DeviceKind, EventKind
from hardware.sim.device import LightHook, TouchPolicy, VirtualDevice
from hardware.sim.models import LatencyModel, SimClock, TruthEvent
from hardware.sim.port import VirtualPort


class PluggedDevice:
    """A device (a timing hub unless `kind` says otherwise) with `channels` inputs, at address
    0 of its own port."""

    def __init__(
        self,
        device_id: int = 0x00AB12CD,
        boot_id: int | None = None,
        channels: int = 2,
        clock: SimClock | None = None,
        latency: LatencyModel | None = None,
        seed: int = 0,
        caps: Caps | None = None,
        kind: DeviceKind = DeviceKind.HUB,
        light_hooks: tuple[LightHook, ...] = (),
        touch_after: TouchPolicy | None = None,
    ) -> None:
        rng = random.Random(seed)
        self.device_id = device_id
        self.channels = channels
        self.clock = clock or SimClock(
            origin_ns=time.monotonic_ns(), offset_ticks=rng.getrandbits(32)
        )
        self.latency = latency or LatencyModel()
        self.device = VirtualDevice(
            kind, device_id, boot_id=boot_id, channels=channels, clock=self.clock, seed=seed,
            caps=caps, light_hooks=light_hooks, touch_after=touch_after,
        )  # fmt: skip
        self.sim_port = VirtualPort(
            [self.device],
            latency=self.latency,
            seed=rng.getrandbits(32),
            name=f"sim-{kind.name.lower()}",
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
        """Make an input edge happen at a true host time (in the future, or now)."""
        self.device.schedule_edge(channel, kind, at_mono_ns)

    def truth_since(self, index: int) -> list[TruthEvent]:
        return self.device.truth_since(index)
