"""The server's device owner: ports opened by URL or found by USB identity, one event listener.

Test mode (the coach walks the lane waving at each beam) pushes every device edge on the live
feed, so the devices page shows which gate and channel each one is, without a drill running.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from hardware.clock import CRYSTAL_TOLERANCE_PPM
from hardware.device import DeviceEvent
from hardware.device_ports import DevicePorts
from hardware.device_state import DeviceState
from hardware.discovery import (
    PROBE_WINDOW_S,
    PortLister,
    PortMatcher,
    PortWatcher,
    bridge_name,
    system_ports,
)
from server.live.hub import LiveHub
from server.live.messages import LiveType

log = logging.getLogger(__name__)


class DeviceService(DevicePorts):
    """Every port the server has open (DevicePorts), plus what only the server needs of them:
    test mode on the live feed, the devices page's rows and why a device may not time a run.

    Inherited: open(url), close(url), close_all(), sessions, snapshot(), watch(matcher),
    send_command(...), schedule_light(...), schedule_beep(...), registry.
    """

    def __init__(
        self,
        listener: Callable[[DeviceEvent], None],
        live: LiveHub | None = None,
        keep: Callable[[DeviceState], bool] | None = None,
    ) -> None:
        super().__init__(self._dispatch, keep=keep)
        self._timing_listener = listener
        self.live = live
        self.test_mode = False

    def _dispatch(self, event: DeviceEvent) -> None:
        try:
            self._timing_listener(event)  # stored raw first, then timed: test mode changes neither
        finally:
            if self.test_mode and self.live is not None:
                self.live.publish(
                    {"type": LiveType.DEVICE, "device": event.device, "channel": event.channel,
                     "kind": event.kind.name.lower()}
                )  # fmt: skip

    def devices_page(self) -> list[dict[str, Any]]:
        """snapshot() plus `last_event_s_ago`: seconds since the device last reported an edge
        (None if never), the quickest sign a gate is wired and aimed; then port_problems()."""
        rows = self.snapshot()
        for row in rows:
            row["last_event_s_ago"] = row.get("last_event_age_s")
        # Then a row per port that is there but not ours to open (in use by another program,
        # permission denied): `problem` true, `kind` "port", `message` what to do.
        for problem in self.port_problems():
            problem["last_event_s_ago"] = None
            rows.append(problem)
        return rows

    def watch_usb(
        self,
        usb_ids: Iterable[tuple[int, int]],
        serial_numbers: Iterable[str] | None = None,
        lister: PortLister = system_ports,
        probe_bridges: bool = True,
        probe_window_s: float = PROBE_WINDOW_S,
    ) -> PortWatcher:
        """Follow hot-plug of ports whose VID:PID (and serial, if given) is allowed; with
        `probe_bridges`, also of CH340 and FTDI ports that answer IDENTIFY (Nano clones)."""
        return self.watch(
            PortMatcher(usb_ids, serial_numbers), lister,
            probe=bridge_name if probe_bridges else None, probe_window_s=probe_window_s,
        )  # fmt: skip

    def device(self, key: str) -> DeviceState | None:
        return self.registry.by_key(key)

    def not_ready_reason(self, key: str, across_devices: bool = False) -> str | None:
        """Why device `key` may not time a run now, or None if it may (DESIGN.md: a device
        whose clock is not synchronised well enough starts no run).

        A split on one device needs only its tick rate, and the crystal's tolerance is good
        enough for that from the first exchanges. A split between two devices also needs each
        clock's offset and measured rate, which take a few seconds of pings after plug-in.
        """
        state = self.registry.by_key(key)
        if state is None:
            return "not connected"
        if state.unsupported is not None:
            return state.unsupported
        fit = state.clock.fit
        bound = state.sync_error_us
        detail = "" if bound is None else f", sync error bound {bound / 1000:.1f} ms"
        if not state.ready:
            return f"{state.state}{detail}"
        if state.info.adapter is not None:
            # No clock query exists to wait for: a split against another clock is timed by
            # receipt and marked cross-device with its bound (drills.timing).
            return None
        if across_devices and (fit is None or fit.rate_error_ppm >= CRYSTAL_TOLERANCE_PPM):
            return f"clock rate not measured yet (a few seconds after plug-in){detail}"
        return None
