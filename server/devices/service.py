"""The per-port owners: open ports, keep their sessions, report what is connected."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from hardware.device import DeviceEvent, PortSession

log = logging.getLogger(__name__)


class DeviceManager:
    """One PortSession per port; events from all of them go to one listener."""

    def __init__(self, listener: Callable[[DeviceEvent], None]) -> None:
        self._listener = listener
        self.sessions: dict[str, PortSession] = {}

    async def open(self, url: str) -> PortSession:
        if url in self.sessions:
            return self.sessions[url]
        session = PortSession(url, self._on_event, on_lost=self._on_lost)
        await session.start()
        self.sessions[url] = session
        return session

    async def close_all(self) -> None:
        for session in list(self.sessions.values()):
            await session.stop()
        self.sessions.clear()

    def _on_event(self, event: DeviceEvent) -> None:
        # Events arrive on the loop; a failing listener must not stop the port's traffic.
        try:
            self._listener(event)
        except Exception:
            log.exception("device event listener failed on %s", event)

    def _on_lost(self, url: str, error: BaseException | None) -> None:
        log.warning("port %s lost: %s", url, error)

    def snapshot(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for url, session in self.sessions.items():
            for state in session.devices.values():
                info = state.info
                fit = state.clock.fit
                out.append(
                    {
                        "device": info.key, "kind": info.kind.name.lower(), "port": url,
                        "address": info.addr, "firmware": ".".join(map(str, info.firmware)),
                        "protocol": info.proto, "channels": info.channels,
                        "tick_hz": info.tick_hz, "ready": state.ready and not session.lost,
                        "connected": not session.lost,
                        "sync_error_us": None if fit is None else round(fit.error_bound_us, 1),
                        "rate_ppm": None if fit is None
                        else round((fit.rate_hz / info.tick_hz - 1) * 1e6, 1),
                        "events": state.events, "lost_frames": state.lost_frames,
                        "duplicates": state.duplicates, "link": session.link_stats,
                    }
                )  # fmt: skip
        return out
