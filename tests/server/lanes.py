"""One simulated lane for server tests: a hub on a pty, opened by the real driver, its roles
bound to a coordinator that can light and beep, closed again after."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from drills import Drill
from server.devices.service import DeviceService
from server.runs.coordinator import RunCoordinator
from server.runs.recorder import RunRecorder
from server.sim.rig import SimRig

READY_TIMEOUT_S = 30.0


@asynccontextmanager
async def sim_lane(
    recorder: RunRecorder, drill: Drill, seed: int, drift_ppm: float = 80.0,
    check_readiness: bool = False,
) -> AsyncIterator[tuple[RunCoordinator, SimRig]]:  # fmt: skip
    # The devices hand every event to the coordinator built just below, before any port opens.
    devices = DeviceService(lambda event: coordinator.on_device_event(event))
    readiness = devices.not_ready_reason if check_readiness else None
    coordinator = RunCoordinator(recorder, layout={}, readiness=readiness, outputs=devices)
    rig = await SimRig.start(devices, drill, seed=seed, drift_ppm=drift_ppm)
    coordinator.layout.update(rig.layout)
    try:
        if check_readiness:
            # Until the clock's rate is measured (a few seconds of pings) a split that crosses
            # clocks (two devices, or a GO on the host) is refused; wait for it as a coach would.
            deadline = asyncio.get_running_loop().time() + READY_TIMEOUT_S
            while devices.not_ready_reason(rig.key, True) is not None:
                assert asyncio.get_running_loop().time() < deadline, "clock never ready"
                await asyncio.sleep(0.1)
        yield coordinator, rig
    finally:
        await devices.close_all()
        rig.stop()
