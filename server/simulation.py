"""Virtual athletes running real drills through a simulated hub.

The only place that knows both a drill (roles, distances, direction) and the simulator
(channels, true times), which is why it lives in the server and not in either layer.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping

from drills import Drill, Movement
from hardware.device import PortSession
from hardware.messages import EventKind
from hardware.sim.athlete import VirtualAthlete
from hardware.sim.hub import SimClock, VirtualHub
from server.devices.service import DeviceManager
from server.runs.coordinator import Binding

BACKWARD_MOVEMENTS = frozenset({Movement.BACKPEDAL, Movement.BACKWARD_RUN, Movement.BACKWARD_WALK})
# A second break of the same beam shortly after the first: the arm, then the leg.
BOUNCE_AFTER_S = (0.015, 0.040)


def layout_for_hub(drill: Drill, hub_key: str) -> dict[str, Binding]:
    """Bind the drill's roles to the hub's channels in running order: start=0, next=1, ..."""
    return {role: Binding(hub_key, ch) for ch, role in enumerate(drill.roles_in_order)}


def schedule_rep(
    hub: VirtualHub,
    drill: Drill,
    layout: Mapping[str, Binding],
    athlete: VirtualAthlete,
    rng: random.Random,
    lead_s: float = 0.5,
    bounce_prob: float = 0.0,
) -> list[tuple[str, int]]:
    """Make the athlete run one rep starting `lead_s` from now; returns (role, true ns) breaks."""
    backward = any(seg.movement in BACKWARD_MOVEMENTS for seg in drill.segments)
    distances = [0.0]
    for seg in drill.segments:
        distances.append(distances[-1] + seg.distance_m)
    times_s = athlete.crossing_times_s(distances, backward, rng)
    go_ns = time.monotonic_ns() + round(lead_s * 1e9)
    breaks: list[tuple[str, int]] = []
    for role, t_s in zip(drill.roles_in_order, times_s, strict=True):
        channel = layout[role].channel
        at_ns = go_ns + round(t_s * 1e9)
        hub.schedule_edge(channel, EventKind.BEAM_BROKEN, at_ns)
        # Kept past any bounce, so the restore really is the body leaving the beam.
        clear_s = max(athlete.beam_clear_s(athlete.speed_at(t_s, backward)), 0.06)
        if rng.random() < bounce_prob:
            bounce_ns = at_ns + round(rng.uniform(*BOUNCE_AFTER_S) * 1e9)
            gap_ns = (bounce_ns - at_ns) // 2
            hub.schedule_edge(channel, EventKind.BEAM_RESTORED, at_ns + gap_ns)
            hub.schedule_edge(channel, EventKind.BEAM_BROKEN, bounce_ns)
        hub.schedule_edge(channel, EventKind.BEAM_RESTORED, at_ns + round(clear_s * 1e9))
        breaks.append((role, at_ns))
    return breaks


class SimRig:
    """A simulated hub opened through the real driver, with a drill's roles bound to it."""

    def __init__(self, hub: VirtualHub, session: PortSession, drill: Drill) -> None:
        self.hub = hub
        self.session = session
        self.drill = drill
        key = next(iter(session.devices.values())).info.key
        self.layout = layout_for_hub(drill, key)

    @classmethod
    async def start(
        cls, devices: DeviceManager, drill: Drill, seed: int, drift_ppm: float = 80.0
    ) -> SimRig:
        rng = random.Random(seed)
        clock = SimClock(
            origin_ns=time.monotonic_ns(), offset_ticks=rng.getrandbits(32), drift_ppm=drift_ppm
        )
        hub = VirtualHub(
            device_id=0x5100_0000 | rng.getrandbits(16),
            channels=max(2, len(drill.roles_in_order)),
            clock=clock,
            seed=seed,
        )
        port = hub.start()
        try:
            session = await devices.open(port)
            await session.wait_ready(timeout_s=10.0)
        except BaseException:
            hub.stop()
            raise
        return cls(hub, session, drill)

    def stop(self) -> None:
        self.hub.stop()
