"""The plan runner's simulator hook: one simulated rig, and a virtual athlete per plan name.

Only waits are scaled by the time scale (the lead before a virtual athlete sets off, like the
runner's rests and countdowns). Running speeds stay real: a rep lasts a few seconds anyway,
and scaling speed would make every split nonsense while the device clocks, the links and the
ground truth keep real time.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace

from drills import Drill
from hardware.device_ports import DevicePorts
from hardware.sim.athlete import VirtualAthlete, make_team
from server.runs.coordinator import Binding
from server.sim.reps import channels_needed
from server.sim.rig import SimRig

# Real seconds from arming a rep to the virtual athlete setting off, before scaling; a
# floor keeps the arm ahead of the first beam break even at tiny scales.
LEAD_S = 1.0
MIN_LEAD_S = 0.05


class SimDriver:
    """Makes plan reps happen on a simulated rig; `layout` binds any gate drill's roles to it."""

    def __init__(self, devices: DevicePorts, seed: int) -> None:
        self.devices = devices
        self.seed = seed
        self.rng = random.Random(seed)
        self.rig: SimRig | None = None
        self._athletes: dict[str, VirtualAthlete] = {}

    async def open(self, drills: list[Drill]) -> None:
        """Build the rig once, its hub wide enough for the drill with the most devices: gates,
        pods (a pod series' lights and touch pads are channels too) or both."""
        if self.rig is not None:
            return
        widest = max(drills, key=channels_needed)
        self.rig = await SimRig.start(self.devices, widest, self.seed)

    @property
    def channels(self) -> int | None:
        """How many channels the hub has (None before it is open)."""
        return None if self.rig is None else self.rig.hub.channels

    def layout(self, drill: Drill) -> dict[str, Binding]:
        if self.rig is None:
            raise RuntimeError("the simulated hub is not open")
        return self.rig.layout_for(drill)

    def athlete(self, name: str) -> VirtualAthlete:
        """The same body for the same name all session, seeded by the name."""
        if name not in self._athletes:
            body = make_team(1, random.Random(f"{self.seed}:{name}"))[0]
            self._athletes[name] = replace(body, name=name)
        return self._athletes[name]

    def rep_armed(
        self, drill: Drill, athlete: str, time_scale: float, go: Callable[[], object]
    ) -> None:
        """The virtual athlete runs the rep; for a coach-go drill a virtual coach taps GO."""
        if self.rig is None:
            raise RuntimeError("the simulated hub is not open")
        lead_s = max(MIN_LEAD_S, LEAD_S * time_scale)
        self.rig.run_rep(drill, self.athlete(athlete), self.rng, go, lead_s=lead_s,
                         layout=self.layout(drill))  # fmt: skip

    def close(self) -> None:
        if self.rig is not None:
            self.rig.stop()
            self.rig = None
