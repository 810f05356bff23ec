"""Finding device ports by USB identity, following hot-plug, and the one owner of it all.

Ports are chosen by VID:PID (and optionally USB serial number), never by name or plug order
(PROTOCOL.md section 1): a gate replugged into another socket gets another /dev path, and
the DeviceRegistry lets it resume there. DeviceHub owns the registry, the watcher and every
PortSession; the rest of the program listens to its events and reads its snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Protocol

from hardware.cues import Cues
from hardware.device import PortSession
from hardware.errors import LinkError
from hardware.link import mono_us
from hardware.messages import BATTERY_MAINS, NOT_APPLICABLE
from hardware.registry import DeviceEvent, DeviceInfo, DeviceRegistry

log = logging.getLogger(__name__)

POLL_INTERVAL_S = 0.5
# The USB identity of the reference firmware (pid.codes test range, as the simulator uses);
# a club with other hardware adds its own with --usb-id VID:PID.
DEFAULT_USB_IDS: tuple[tuple[int, int], ...] = ((0x1209, 0xA617),)


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
    """Polls a port lister and reports matching ports as they appear and disappear."""

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

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="port-watcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def poll(self) -> None:
        """One look at the ports: open what is new, close what is gone."""
        # Listing reads sysfs; keep it off the loop.
        records = await asyncio.to_thread(self._lister)
        matching = {r.device: r for r in records if self._matcher(r)}
        for path in sorted(self.present - matching.keys()):
            self.present.discard(path)
            await self._on_removed(path)
        for path, record in sorted(matching.items()):
            if path not in self.present and await self._on_added(record):
                self.present.add(path)

    async def _run(self) -> None:
        while True:
            try:
                await self.poll()
            except Exception:
                log.exception("port watcher poll failed")
            await asyncio.sleep(self._interval_s)


class DeviceHub(Cues):
    """Owns the device registry, the port watcher and one PortSession per open port."""

    def __init__(self, listener: Callable[[DeviceEvent], None]) -> None:
        super().__init__(DeviceRegistry())
        self._listener = listener
        self.sessions: dict[str, PortSession] = {}
        self.watcher: PortWatcher | None = None
        self.on_device: Callable[[DeviceInfo], None] | None = None

    async def open(self, url: str) -> PortSession:
        """Open a port explicitly (a path or a pyserial URL); reopen it if it was lost."""
        session = self.sessions.get(url)
        if session is not None and not session.lost:
            return session
        if session is not None:
            await self.close(url)
        session = PortSession(
            url, self._on_event, on_device=self._on_device, on_lost=self._on_lost,
            registry=self.registry,
        )  # fmt: skip
        await session.start()
        self.sessions[url] = session
        return session

    async def close(self, url: str) -> None:
        session = self.sessions.pop(url, None)
        if session is not None:
            await session.stop()

    async def close_all(self) -> None:
        if self.watcher is not None:
            await self.watcher.stop()
            self.watcher = None
        for url in list(self.sessions):
            await self.close(url)

    def watch(
        self,
        matcher: Callable[[PortRecord], bool],
        lister: PortLister = system_ports,
        interval_s: float = POLL_INTERVAL_S,
    ) -> PortWatcher:
        """Open every matching port as it appears, close it when it goes (call on the loop)."""
        if self.watcher is not None:
            raise RuntimeError("already watching ports")
        self.watcher = PortWatcher(matcher, self._port_added, self.close, lister, interval_s)
        self.watcher.start()
        return self.watcher

    async def _port_added(self, record: PortRecord) -> bool:
        try:
            await self.open(record.device)
        except LinkError as exc:
            log.warning("cannot open %s (%s): %s", record.device, record.description, exc)
            return False  # tried again at the next poll
        return True

    def _on_event(self, event: DeviceEvent) -> None:
        # Events arrive on the loop; a failing listener must not stop the port's traffic.
        try:
            self._listener(event)
        except Exception:
            log.exception("device event listener failed on %s", event)

    def _on_device(self, info: DeviceInfo) -> None:
        if self.on_device is not None:
            self.on_device(info)

    def _on_lost(self, url: str, error: BaseException | None) -> None:
        log.warning("port %s lost: %s", url, error)
        if self.watcher is not None:
            # Forget it so the watcher reopens it if the same path comes straight back.
            self.watcher.present.discard(url)
            asyncio.get_running_loop().create_task(self.close(url))

    def snapshot(self) -> list[dict[str, Any]]:
        """Every device this host knows, for the devices page."""
        now_us = mono_us()
        out: list[dict[str, Any]] = []
        for state in self.registry.all():
            info = state.info
            fit = state.clock.fit
            status = state.status
            session = self.sessions.get(info.port)
            out.append(
                {
                    "key": info.key, "device": info.key, "kind": info.kind.name.lower(),
                    "port": info.port, "address": info.addr,
                    "firmware": ".".join(map(str, info.firmware)), "protocol": info.proto,
                    "channels": info.channels, "caps": [c.name.lower() for c in info.caps
                                                        if c.name],
                    "tick_hz": info.tick_hz, "state": state.state, "ready": state.ready,
                    "connected": state.connected, "message": state.unsupported,
                    "battery": None if status is None or status.battery_pct == BATTERY_MAINS
                    else status.battery_pct,
                    "link": None if status is None or status.link_quality == NOT_APPLICABLE
                    else status.link_quality,
                    "beams": [] if status is None
                    else [None if b == NOT_APPLICABLE else b for b in status.beams],
                    "sync_error_us": None if fit is None else round(fit.error_bound_us, 1),
                    "rate_ppm": None if fit is None
                    else round((fit.rate_hz / info.tick_hz - 1) * 1e6, 1),
                    "events": state.events, "lost_frames": state.lost_frames,
                    "duplicates": state.duplicates, "naks_sent": state.naks_sent,
                    "last_event_age_s": None if state.last_event_mono_us is None
                    else round((now_us - state.last_event_mono_us) / 1e6, 1),
                    "port_stats": None if session is None else session.link_stats,
                }
            )  # fmt: skip
        return out
