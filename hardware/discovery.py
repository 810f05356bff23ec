"""Finding device ports by USB identity and following hot-plug (hardware.device_ports opens them).

Ports are chosen by VID:PID (and optionally USB serial number), never by name or plug order
(PROTOCOL.md section 1): a gate replugged into another socket gets another /dev path, and
the DeviceRegistry lets it resume there.

Arduino Nano and Uno clones carry a plain USB-serial bridge (CH340, FTDI) instead of a USB
identity of their own, and so does much else (GPS mice, 3D printers). A port with such a
bridge is probed: opened, asked IDENTIFY, and left alone until it is plugged in again if no
HELLO comes back in PROBE_WINDOW_S.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from hardware.tasks import cancel_task

log = logging.getLogger(__name__)

POLL_INTERVAL_S = 0.5
# The USB identity of the reference firmware (pid.codes test range, as the simulator uses);
# a club with other hardware adds its own with --usb-id VID:PID.
DEFAULT_USB_IDS: tuple[tuple[int, int], ...] = ((0x1209, 0xA617),)
# USB-serial bridges on Nano and Uno clones running the reference firmware, by their usual
# name. Ports with these identities are probed, not opened outright (see the module docstring).
BRIDGE_USB_IDS: dict[tuple[int, int], str] = {
    (0x1A86, 0x7523): "CH340",
    (0x0403, 0x6001): "FTDI FT232R",
}
# How long a probed port has to say HELLO. Opening the port drops DTR, which resets a Nano
# through its auto-reset capacitor; the bootloader then waits for an upload (optiboot about
# 1 s, the old Nano bootloader about 2 s) before the firmware starts and sends HELLO at
# power-up, a few ms later (the first boot also makes the device id). 3 s covers the slower
# bootloader with a margin; a silent port costs this wait once per plug-in, never again.
PROBE_WINDOW_S = 3.0


def parse_usb_id(text: str) -> tuple[int, int]:
    """'1209:A617' -> (0x1209, 0xA617), with a message a person can act on otherwise."""
    vid, sep, pid = text.partition(":")
    try:
        if not sep:
            raise ValueError
        return int(vid, 16), int(pid, 16)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a USB id; write it as VID:PID in hex, e.g. 1209:A617"
        ) from None


class PortRecord(Protocol):
    """What a port lister yields (pyserial's ListPortInfo has these)."""

    @property
    def device(self) -> str: ...
    @property
    def vid(self) -> int | None: ...
    @property
    def pid(self) -> int | None: ...
    @property
    def serial_number(self) -> str | None: ...
    @property
    def description(self) -> str: ...


PortLister = Callable[[], Sequence[PortRecord]]
Prober = Callable[[PortRecord], str | None]
"""Names the bridge of a port that is to be probed before it is served; None: not probed."""


def bridge_name(port: PortRecord) -> str | None:
    """'CH340' or 'FTDI FT232R' for a port whose bridge Nano clones carry, else None."""
    if port.vid is None or port.pid is None:
        return None
    return BRIDGE_USB_IDS.get((port.vid, port.pid))


@dataclass(frozen=True)
class SilentPort:
    """A probed port that did not answer IDENTIFY: closed, and left alone while it stays."""

    path: str
    serial_number: str | None
    description: str
    bridge: str

    @property
    def note(self) -> str:
        return f"{self.bridge}, no answer to IDENTIFY: not a device of ours"


def system_ports() -> Sequence[PortRecord]:
    from serial.tools.list_ports import comports

    ports: Sequence[PortRecord] = comports()
    return ports


class PortMatcher:
    """Accepts ports whose VID:PID is allowed and, if serials are given, whose serial is."""

    def __init__(
        self, usb_ids: Iterable[tuple[int, int]], serial_numbers: Iterable[str] | None = None
    ) -> None:
        self.usb_ids = frozenset(usb_ids)
        self.serial_numbers = None if serial_numbers is None else frozenset(serial_numbers)

    def __call__(self, port: PortRecord) -> bool:
        if port.vid is None or port.pid is None or (port.vid, port.pid) not in self.usb_ids:
            return False
        return self.serial_numbers is None or port.serial_number in self.serial_numbers


class PortWatcher:
    """Polls a port lister and reports matching ports as they appear and disappear.

    A port is its path and USB serial number: another device plugged in under the same path
    between two polls is a removal and an addition, so it is opened (or probed) afresh.
    """

    def __init__(
        self,
        matcher: Callable[[PortRecord], bool],
        on_added: Callable[[PortRecord], Awaitable[bool]],
        on_removed: Callable[[str], Awaitable[None]],
        lister: PortLister = system_ports,
        interval_s: float = POLL_INTERVAL_S,
    ) -> None:
        self._matcher = matcher
        self._on_added = on_added
        self._on_removed = on_removed
        self._lister = lister
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        self.present: set[str] = set()
        self._serials: dict[str, str | None] = {}
        # Listed but not opened (busy, say): removed too when they leave the list, so what
        # was said about them (DevicePorts.problems) goes with them.
        self._refused: set[str] = set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="port-watcher")

    async def stop(self) -> None:
        await cancel_task(self._task)
        self._task = None

    async def poll(self) -> None:
        """One look at the ports: open what is new, close what is gone."""
        # Listing reads sysfs; keep it off the loop.
        records = await asyncio.to_thread(self._lister)
        matching = {r.device: r for r in records if self._matcher(r)}
        for path in sorted(self.present):
            record = matching.get(path)
            if record is None or record.serial_number != self._serials.get(path):
                self.present.discard(path)
                self._serials.pop(path, None)
                await self._on_removed(path)
        for path in sorted(self._refused - matching.keys()):
            self._refused.discard(path)
            await self._on_removed(path)
        for path, record in sorted(matching.items()):
            if path in self.present:
                continue
            if await self._on_added(record):
                self.present.add(path)
                self._serials[path] = record.serial_number
                self._refused.discard(path)
            else:
                self._refused.add(path)

    async def _run(self) -> None:
        while True:
            try:
                await self.poll()
            except Exception:
                log.exception("port watcher poll failed")
            await asyncio.sleep(self._interval_s)
