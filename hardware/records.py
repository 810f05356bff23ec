"""What the host hands out about devices: who a device is, and each edge it reported.

Plain values, shared by the sessions, the registry, the adapters and everyone listening.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hardware.messages import Caps, DeviceKind, EventKind


@dataclass(frozen=True)
class DeviceInfo:
    port: str
    addr: int
    kind: DeviceKind
    device_id: int
    boot_id: int
    firmware: tuple[int, int, int]
    nominal_tick_hz: int  # as the HELLO declares it (wire field tick_hz)
    channels: int
    proto: int
    caps: Caps = Caps.NONE
    # A device reached through an adapter (hardware/adapters): "chronopic" or "timy"; None
    # for one that speaks protocol v1. It names the device's key, as coaches know it.
    adapter: str | None = None
    # Several photocells wired in parallel to one input (a Chronopic): a drill's roles bind
    # to successive breaks of that input in running order, not one role per channel.
    successive_breaks: bool = False
    # Set when another device with the same id was already connected on another port as
    # this one said HELLO: two devices share one id, and this one is named by its port too.
    shared_id_port: str | None = None

    @property
    def key(self) -> str:
        """Stable name of the device, independent of port and plug order (but for a second
        device reporting an id already in use on another port: `hub-00AB12CD@/dev/ttyUSB1`)."""
        key = device_key(self.kind, self.device_id, self.adapter)
        return key if self.shared_id_port is None else f"{key}@{self.shared_id_port}"


def device_key(kind: DeviceKind, device_id: int, adapter: str | None = None) -> str:
    return f"{adapter or kind.name.lower()}-{device_id:08X}"


@dataclass(frozen=True)
class DeviceEvent:
    """An edge seen by a device, with its own timestamp and what the host made of it."""

    device: str
    boot_id: int
    seq: int  # the evseq extended past its 16-bit wrap: (device, boot_id, seq) is unique
    channel: int
    kind: EventKind
    ticks: int
    tick_hz_est: float
    mono_us: int | None  # ticks mapped to host time; None while the clock has no fit
    received_mono_us: int  # when the delivered copy's bytes arrived: never a timestamp
    ref: int = 0  # cmd_id of the COMMAND behind a light or beep event
    sync_error_us: float | None = None
    # Set by adapters for devices that do not speak protocol v1 (hardware/adapters):
    by_receipt: bool = False  # mono_us comes from receipt times (no clock query exists)
    manual: bool = False  # a hand time (a Timy keypad impulse)
    coarse: bool = False  # ticks placed by host receipt (a Chronopic interval out of range)
    bib: int | None = None  # the start number a Timy set to start numbers printed with it

    @property
    def clock_id(self) -> str:
        return f"{self.device}:{self.boot_id}"


# What a port session calls back with, whichever kind of device the port carries: an edge, a
# device identified, and the port's url with the error when the port is lost.
EventHandler = Callable[[DeviceEvent], None]
DeviceHandler = Callable[[DeviceInfo], None]
LostHandler = Callable[[str, BaseException | None], None]
