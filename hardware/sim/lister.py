"""Stand-in for pyserial's `list_ports.comports()` over virtual ports, to test discovery.

Only plugged ports are listed, each with its current pty path, so a test sees what a host
sees when a USB device is pulled and re-enumerates under a new name.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

from hardware.sim.port import VirtualPort


@dataclass(frozen=True)
class SimPortInfo:
    """The fields of serial.tools.list_ports_common.ListPortInfo that the host relies on."""

    device: str
    vid: int | None
    pid: int | None
    serial_number: str | None
    description: str


class SimPortLister:
    """A registry of virtual ports, listed as a USB bus would list them."""

    def __init__(self, ports: Iterable[VirtualPort] = ()) -> None:
        self._lock = threading.Lock()
        self._ports: list[VirtualPort] = list(ports)

    def add(self, port: VirtualPort) -> None:
        with self._lock:
            if port not in self._ports:
                self._ports.append(port)

    def remove(self, port: VirtualPort) -> None:
        with self._lock:
            if port in self._ports:
                self._ports.remove(port)

    def comports(self) -> list[SimPortInfo]:
        with self._lock:
            ports = list(self._ports)
        infos = []
        for port in ports:
            path = port.port
            if port.plugged and path:
                usb = port.usb
                infos.append(
                    SimPortInfo(path, usb.vid, usb.pid, usb.serial_number, usb.description)
                )
        return infos
