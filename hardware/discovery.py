"""Finding device ports by USB identity, following hot-plug, and the one owner of it all.

Ports are chosen by VID:PID (and optionally USB serial number), never by name or plug order
(PROTOCOL.md section 1): a gate replugged into another socket gets another /dev path, and
the DeviceRegistry lets it resume there. DeviceHub owns the registry, the watcher and every
PortSession; the rest of the program listens to its events and reads its snapshot.

Arduino Nano and Uno clones carry a plain USB-serial bridge (CH340, FTDI) instead of a USB
identity of their own, and so does much else (GPS mice, 3D printers). A port with such a
bridge is probed: opened, asked IDENTIFY, and left alone until it is plugged in again if no
HELLO comes back in PROBE_WINDOW_S.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from hardware.adapters import AdapterSession, make_session, parse_adapter_url
from hardware.cues import Cues
from hardware.device import PortSession
from hardware.errors import LinkError, PortUnavailable
from hardware.link import mono_us
from hardware.messages import BATTERY_MAINS, NOT_APPLICABLE
from hardware.registry import DeviceEvent, DeviceInfo, DeviceRegistry

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
Session = PortSession | AdapterSession
"""What serves one open port: protocol v1 devices, or one device through an adapter."""
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
        # was said about them (DeviceHub.problems) goes with them.
        self._refused: set[str] = set()

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


class DeviceHub(Cues):
    """Owns the device registry, the port watcher and one PortSession per open port."""

    def __init__(self, listener: Callable[[DeviceEvent], None]) -> None:
        super().__init__(DeviceRegistry())
        self._listener = listener
        self.sessions: dict[str, Session] = {}
        self.watcher: PortWatcher | None = None
        self.on_device: Callable[[DeviceInfo], None] | None = None
        self.silent: dict[str, SilentPort] = {}
        """Probed ports that did not answer, by path, until they leave the port list."""
        self._served: Callable[[PortRecord], bool] = lambda _record: False
        self._prober: Prober | None = None
        self._probe_window_s = PROBE_WINDOW_S
        self._probes: dict[str, asyncio.Task[None]] = {}
        self._given: set[str] = set()
        self._reopens: dict[str, asyncio.Task[None]] = {}
        self._opening = asyncio.Lock()
        self.problems: dict[str, str] = {}
        """Ports that are there but could not be opened (in use by another program,
        permission denied), by path: what to tell the coach, until the port opens or goes."""

    async def open(self, url: str) -> Session:
        """Open a port explicitly (a path or a pyserial URL, or `chronopic:PATH`,
        `timy:PATH[@BAUD]` for a device reached through an adapter); reopen it if it was
        lost. A port opened this way is never probed by IDENTIFY: whoever named it knows
        what is on it. LinkError if it cannot be opened or does not answer as its kind;
        ValueError for an adapter prefix written wrong."""
        spec = parse_adapter_url(url)
        if spec is not None:
            url = spec.url
        self._given.add(url)
        try:
            return await self._open(url)
        except PortUnavailable:
            # Shown in `problems`; taken as soon as the other program lets go of it.
            self._start_reopen(url)
            raise

    async def _open(self, url: str) -> Session:
        # One at a time: a given port that is also found by USB identity may be reopened by
        # the watcher and by _reopen at once after it was lost.
        async with self._opening:
            try:
                session = await self._open_now(url)
            except PortUnavailable as exc:
                if self.problems.get(url) != exc.message:
                    log.warning("%s; the other ports go on", exc.message)
                self.problems[url] = exc.message
                raise
        self.problems.pop(url, None)
        return session

    async def _open_now(self, url: str) -> Session:
        session = self.sessions.get(url)
        if session is not None and not session.lost:
            return session
        if session is not None:
            await self.close(url)
        spec = parse_adapter_url(url)
        if spec is not None:
            if any(s.spec.path == spec.path for s in self._adapter_sessions() if s.url != url):
                raise LinkError(f"{spec.path} is already open as another kind of device")
            session = make_session(
                spec, on_event=self._on_event, on_device=self._on_device,
                on_lost=self._on_lost, registry=self.registry,
            )  # fmt: skip
        else:
            session = PortSession(
                url, self._on_event, on_device=self._on_device, on_lost=self._on_lost,
                registry=self.registry,
            )  # fmt: skip
        await session.start()
        self.sessions[url] = session
        return session

    def _adapter_sessions(self) -> list[AdapterSession]:
        return [s for s in self.sessions.values() if isinstance(s, AdapterSession)]

    async def close(self, url: str) -> None:
        """Close a port; one given to open() is no longer reopened when it comes back."""
        self._given.discard(url)
        self._end_reopen(url)
        self.problems.pop(url, None)
        await self._close(url)

    async def _close(self, url: str) -> None:
        session = self.sessions.pop(url, None)
        if session is not None:
            await session.stop()

    async def close_all(self) -> None:
        if self.watcher is not None:
            await self.watcher.stop()
            self.watcher = None
        for path in list(self._probes):
            self._end_probe(path)
        for url in list(self._reopens):
            self._end_reopen(url)
        for url in list(self.sessions):
            await self.close(url)

    def watch(
        self,
        matcher: Callable[[PortRecord], bool],
        lister: PortLister = system_ports,
        interval_s: float = POLL_INTERVAL_S,
        probe: Prober | None = None,
        probe_window_s: float = PROBE_WINDOW_S,
    ) -> PortWatcher:
        """Open every matching port as it appears, close it when it goes (call on the loop).

        Ports that `probe` names (and `matcher` does not accept) are probed: kept if a device
        says HELLO within `probe_window_s`, closed and remembered in `silent` otherwise.
        """
        if self.watcher is not None:
            raise RuntimeError("already watching ports")
        self._served, self._prober, self._probe_window_s = matcher, probe, probe_window_s

        def wanted(record: PortRecord) -> bool:
            if any(s.spec.path == record.device for s in self._adapter_sessions()):
                return False  # a Chronopic's or a Timy's: never sent IDENTIFY
            return matcher(record) or (probe is not None and probe(record) is not None)

        self.watcher = PortWatcher(wanted, self._port_added, self._port_removed, lister, interval_s)
        self.watcher.start()
        return self.watcher

    async def _port_added(self, record: PortRecord) -> bool:
        try:
            session = await self._open(record.device)
        except PortUnavailable:
            return False  # logged once and kept in `problems`; tried again at the next poll
        except LinkError as exc:
            log.warning("cannot open %s (%s): %s", record.device, record.description, exc)
            return False  # tried again at the next poll
        prober = None if record.device in self._given or self._served(record) else self._prober
        bridge = None if prober is None else prober(record)
        self._end_probe(record.device)  # a probe of an earlier plug-in at this path
        if bridge is not None:
            port = SilentPort(record.device, record.serial_number, record.description, bridge)
            self._probes[record.device] = asyncio.get_running_loop().create_task(
                self._probe(session, port), name=f"probe:{record.device}"
            )
        return True

    async def _probe(self, session: Session, port: SilentPort) -> None:
        """Give the port its window to say HELLO (the session sent IDENTIFY on opening)."""
        await asyncio.sleep(self._probe_window_s)
        if self._probes.get(port.path) is asyncio.current_task():
            del self._probes[port.path]
        if self.sessions.get(port.path) is not session or session.devices:
            return  # gone meanwhile, or a device of ours answered: served as any other
        log.info("%s (%s): %s; left alone until it is plugged in again",
                 port.path, port.description, port.note)  # fmt: skip
        self.silent[port.path] = port
        await self._close(port.path)

    def _end_probe(self, path: str) -> None:
        task = self._probes.pop(path, None)
        if task is not None:
            task.cancel()

    async def _port_removed(self, path: str) -> None:
        self._end_probe(path)
        self.silent.pop(path, None)
        if path not in self._given:
            self.problems.pop(path, None)
        await self._close(path)

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
        if url in self._given:
            # Given by hand (--device, the Devices page): no USB listing says when it is
            # back, so try its path until it opens again, as the watcher does for ours.
            self._start_reopen(url)
        elif self.watcher is not None:
            asyncio.get_running_loop().create_task(self._close(url))

    async def _reopen(self, url: str) -> None:
        await self._close(url)
        waiting_logged = False
        while url in self._given:
            await asyncio.sleep(POLL_INTERVAL_S)
            if url not in self._given:
                return
            session = self.sessions.get(url)
            if session is not None and not session.lost:
                break  # opened meanwhile (the watcher found it by its USB identity)
            try:
                await self._open(url)
            except LinkError as exc:
                if not waiting_logged and not isinstance(exc, PortUnavailable):
                    log.info("%s: waiting for it to come back (%s)", url, exc)
                    waiting_logged = True
                continue
            log.info("%s: reopened", url)
            break
        if self._reopens.get(url) is asyncio.current_task():
            del self._reopens[url]

    def _start_reopen(self, url: str) -> None:
        self._end_reopen(url)
        self._reopens[url] = asyncio.get_running_loop().create_task(
            self._reopen(url), name=f"reopen:{url}"
        )

    def _end_reopen(self, url: str) -> None:
        task = self._reopens.pop(url, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    def port_problems(self) -> list[dict[str, Any]]:
        """A row per port that is there but could not be opened, shaped like a device row
        (`kind` "port", `state` "unavailable", `message` what to do) with `problem` true, so
        a list of devices shows it where the coach looks."""
        return [
            {
                "key": f"port:{path}", "device": f"port:{path}", "kind": "port", "port": path,
                "problem": True, "state": "unavailable", "ready": False, "connected": False,
                "message": message, "address": None, "channels": 0, "caps": [],
                "battery": None, "link": None, "beams": [], "dropped": None,
                "sync_error_us": None, "last_event_age_s": None, "port_stats": None,
                "adapter": None, "adapter_details": None,
            }
            for path, message in sorted(self.problems.items())
        ]  # fmt: skip

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
                    "port": info.port, "address": info.addr, "boot": info.boot_id,
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
                    "dropped": None if status is None else status.dropped,
                    "sync_error_us": None if fit is None else round(fit.error_bound_us, 1),
                    "rate_ppm": None if fit is None
                    else round((fit.rate_hz / info.tick_hz - 1) * 1e6, 1),
                    "events": state.events, "lost_frames": state.lost_frames,
                    "duplicates": state.duplicates, "naks_sent": state.naks_sent,
                    "last_event_age_s": None if state.last_event_mono_us is None
                    else round((now_us - state.last_event_mono_us) / 1e6, 1),
                    "port_stats": None if session is None else session.link_stats,
                    "adapter": info.adapter,
                    "adapter_details": session.details
                    if isinstance(session, AdapterSession) else None,
                }
            )  # fmt: skip
            if isinstance(session, AdapterSession) and out[-1]["message"] is None:
                out[-1]["message"] = session.warning
            if info.shared_id_port is not None and out[-1]["message"] is None:
                out[-1]["message"] = (
                    f"device id {info.device_id:08X} is also reported on another port: two "
                    "devices share one id (give each its own id)"
                )
        return out
