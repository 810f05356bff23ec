"""One or more virtual devices on a virtual port behind a raw host, for test_sim_*."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from hardware.messages import DeviceKind, Event
from hardware.sim.device import VirtualDevice
from hardware.sim.models import LatencyModel
from hardware.sim.port import VirtualPort
from tests.hardware.test_sim_host import RawHost, Received

FAST_USB = LatencyModel(0.1, 0.3)


@contextmanager
def rig(*devices: VirtualDevice, latency: LatencyModel = FAST_USB) -> Iterator[RawHost]:
    port = VirtualPort(devices, latency=latency, seed=7)
    host = RawHost(port.start())
    try:
        yield host
    finally:
        host.close()
        port.stop()
    assert not port.errors


def events(got: list[Received]) -> list[Event]:
    return [r.msg for r in got if isinstance(r.msg, Event)]


def gate(**knobs: object) -> VirtualDevice:
    return VirtualDevice(DeviceKind.GATE, 0x00AB12CD, **knobs)  # type: ignore[arg-type]


def pod(**knobs: object) -> VirtualDevice:
    return VirtualDevice(DeviceKind.POD, 0x00C0FFEE, **knobs)  # type: ignore[arg-type]
