"""One simulated lane for server tests: a hub on a pty, opened by the real driver, its roles
bound to a coordinator that can light and beep, closed again after."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from drills import Drill
from server.devices.service import DeviceManager
from server.runs.coordinator import RunCoordinator
from server.runs.recorder import RunRecorder
from server.simulation import SimRig


@asynccontextmanager
async def sim_lane(
    recorder: RunRecorder, drill: Drill, seed: int, drift_ppm: float = 80.0,
    check_readiness: bool = False,
) -> AsyncIterator[tuple[RunCoordinator, SimRig]]:  # fmt: skip
    coordinator = RunCoordinator(recorder, layout={})
    devices = DeviceManager(coordinator.on_device_event)
    coordinator.outputs = devices
    if check_readiness:
        coordinator.readiness = devices.not_ready_reason
    rig = await SimRig.start(devices, drill, seed=seed, drift_ppm=drift_ppm)
    coordinator.layout.update(rig.layout)
    try:
        yield coordinator, rig
    finally:
        await devices.close_all()
        rig.stop()
