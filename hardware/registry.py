"""Every device this host has heard from, keyed by (device id, boot id).

A device is known by (device id, boot id), so one that comes back on any port resumes its
state (hardware.device_state); a new boot id starts a new conversation and replaces the old
state. Devices that were never really there (noise passing a CRC) are forgotten.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from hardware.clock import ClockModel, DeviceClock
from hardware.device_state import DeviceState
from hardware.records import DeviceInfo

log = logging.getLogger(__name__)


class DeviceRegistry:
    """Every device this host has heard from, by (device id, boot id)."""

    def __init__(self, keep: Callable[[DeviceState], bool] | None = None) -> None:
        # (device id, boot id, port): the port is None but for a device that shares its id
        # with one already connected on another port (DeviceInfo.shared_id_port).
        self._by_boot: dict[tuple[int, int, str | None], DeviceState] = {}
        self.keep: Callable[[DeviceState], bool] = keep or (lambda _state: False)
        """Whether the program still needs a device (bound to a role): never forgotten."""
        self.forgotten = 0

    def all(self) -> list[DeviceState]:
        return list(self._by_boot.values())

    def get(self, device_id: int, boot_id: int) -> DeviceState | None:
        return self._by_boot.get((device_id, boot_id, None))

    def knows_id(self, device_id: int) -> bool:
        return any(k[0] == device_id for k in self._by_boot)

    def on_port(self, port: str, now_us: int) -> int:
        """How many devices `port` holds: connected on it, or heard on it in the last
        SILENT_FORGET_US (a device silent longer is no longer counted against the port)."""
        return sum(
            1
            for s in self._by_boot.values()
            if s.info.port == port
            and ((s.connected and s.owner is not None) or s.heard_lately(now_us))
        )

    def forget_silent(self, now_us: int) -> list[DeviceState]:
        """Forget the devices that went silent and were never really there (see
        SILENT_FORGET_US), so noise that passed a CRC cannot grow the registry without end."""
        gone: list[DeviceState] = []
        for k, state in list(self._by_boot.items()):
            if not state.forgettable(now_us) or self.keep(state):
                continue
            del self._by_boot[k]
            gone.append(state)
            if state.owner is not None:
                state.owner.release(state)
            state.mark_lost()
            state.cancel_waiters()
        if gone:
            self.forgotten += len(gone)
            log.info(
                "forgot %d silent device(s) never synchronised or seen only briefly: %s",
                len(gone), ", ".join(s.key for s in gone[:8]) + (" ..." if len(gone) > 8 else ""),
            )  # fmt: skip
        return gone

    def by_key(self, key: str) -> DeviceState | None:
        """The current boot of the device called `key` (a connected one first)."""
        found = [s for s in self._by_boot.values() if s.key == key]
        found.sort(key=lambda s: s.connected)
        return found[-1] if found else None

    def resume_or_create(
        self, info: DeviceInfo, clock: DeviceClock | None = None
    ) -> tuple[DeviceState, bool]:
        """The state for this (id, boot), and whether it was already known. A new boot of
        a known device replaces its old state. A new state gets `clock`, by default a
        ClockModel to be fed by PING exchanges."""
        shared = self._by_boot.get((info.device_id, info.boot_id, info.port))
        if shared is not None and shared.connected:
            return shared, True  # the second of two devices sharing an id, heard again
        if self._held_elsewhere(info):
            # A second device with an id already connected on another port (two hubs flashed
            # alike, two simulators seeded alike): kept apart, named by its port as well, so
            # neither takes the other's state, events or place in the device list.
            info = replace(info, shared_id_port=info.port)
            k = (info.device_id, info.boot_id, info.port)
            if shared is not None:
                return shared, True
            log.warning(
                "%s: device id %08X is also connected on another port: two devices share "
                "one id; this one is listed as %s", info.port, info.device_id, info.key,
            )  # fmt: skip
            for old in [o for o in self._by_boot if o[0] == info.device_id and o[2] == info.port]:
                self._drop(old)
            state = DeviceState(info=info, clock=clock or ClockModel(info.nominal_tick_hz))
            self._by_boot[k] = state
            return state, False
        known = self._by_boot.get((info.device_id, info.boot_id, None))
        if known is not None:
            return known, True
        for old in [k for k in self._by_boot if k[0] == info.device_id and k[2] is None]:
            stale = self._by_boot.pop(old)
            log.info("%s: new boot %d replaces boot %d", info.key, info.boot_id, old[1])
            stale.cancel_waiters()
        state = DeviceState(info=info, clock=clock or ClockModel(info.nominal_tick_hz))
        self._by_boot[(info.device_id, info.boot_id, None)] = state
        return state, False

    def _held_elsewhere(self, info: DeviceInfo) -> bool:
        """Whether a device with this id is connected right now on another port that is
        still open: then the HELLO on this port comes from another device, not a replug."""
        for (device_id, _boot, port), state in self._by_boot.items():
            if device_id != info.device_id or port is not None or state.info.port == info.port:
                continue
            owner = state.owner
            if state.connected and owner is not None and not owner.lost:
                return True
        return False

    def _drop(self, k: tuple[int, int, str | None]) -> None:
        self._by_boot.pop(k).cancel_waiters()
