"""The one owner of every open port: the registry, the port watcher and each port's session.

The rest of the program listens to its events and reads its snapshot; hardware.discovery
says which ports are ours, this module opens, probes, reopens and closes them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from hardware.adapters import AdapterSession, make_session, parse_adapter_url
from hardware.cues import Cues
from hardware.device import PortSession
from hardware.device_state import DeviceState
from hardware.discovery import (
    POLL_INTERVAL_S,
    PROBE_WINDOW_S,
    PortLister,
    PortRecord,
    PortWatcher,
    Prober,
    SilentPort,
    system_ports,
)
from hardware.errors import LinkError, PortUnavailable
from hardware.messages import BATTERY_MAINS, NOT_APPLICABLE
from hardware.records import DeviceEvent, DeviceInfo
from hardware.registry import DeviceRegistry
from hardware.timebase import mono_us

log = logging.getLogger(__name__)

Session = PortSession | AdapterSession
"""What serves one open port: protocol v1 devices, or one device through an adapter."""


class DevicePorts(Cues):
    """Owns the device registry, the port watcher and one PortSession per open port."""

    def __init__(
        self,
        listener: Callable[[DeviceEvent], None],
        *,
        on_device: Callable[[DeviceInfo], None] | None = None,
        keep: Callable[[DeviceState], bool] | None = None,
    ) -> None:
        """`on_device` hears each device that says HELLO; `keep` is the registry's (never
        forget a device the program still needs)."""
        super().__init__(DeviceRegistry(keep))
        self._listener = listener
        self._device_listener = on_device
        self.sessions: dict[str, Session] = {}
        self.watcher: PortWatcher | None = None
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
        if self._device_listener is not None:
            self._device_listener(info)

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
                    "tick_hz": info.nominal_tick_hz, "state": state.state, "ready": state.ready,
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
                    else round((fit.tick_hz_est / info.nominal_tick_hz - 1) * 1e6, 1),
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
