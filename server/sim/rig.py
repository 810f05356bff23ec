"""A simulated rig: a timing hub on a pty, opened through the real driver, with a drill's
roles bound to its channels and virtual athletes reacting to its lights, built in one call.

`SimRig.start` is that call, for the demo, `agility run --device sim`, the plan runner's
simulator and the tests alike. The only place that knows both a drill (roles, route, start
type) and the simulator (channels, true times), which is why it lives in the server.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Mapping

from drills import Drill, StartType, Timing
from hardware.device import PortSession
from hardware.device_ports import DevicePorts
from hardware.messages import Caps
from hardware.sim.athlete import VirtualAthlete, reaction_time_s
from hardware.sim.models import SimClock
from hardware.sim.plugged import PluggedDevice
from server.devices import gate_rules
from server.runs.coordinator import Binding
from server.sim.reactions import Reactions, ReactiveStart, TargetRun
from server.sim.reps import SimRep, channel_layout, channels_needed, plan_rep


class SimRig:
    """The hub, its port session, the drill's layout on it and the athletes' reactions.

    Its channels have lights and touch pads too (a gate with an LED, or a hub of pods), so
    reactive targets can be lit and pod series run on it.
    """

    def __init__(
        self, hub: PluggedDevice, session: PortSession, drill: Drill, reactions: Reactions,
        layout: dict[str, Binding], beams: int = 1,
    ) -> None:  # fmt: skip
        self.hub = hub
        self.session = session
        self.drill = drill
        self.reactions = reactions
        # Each role has `beams` beams: 2 for a dual-beam gate.
        self.beams = beams
        self.key = next(iter(session.devices.values())).info.key
        self.layout = layout

    @property
    def bodies(self) -> bool:
        """Whether whole bodies (hands, knees and heels around the torso) break the beams."""
        return self.reactions.bodies

    @classmethod
    async def start(
        cls, devices: DevicePorts, drill: Drill, seed: int, drift_ppm: float = 80.0,
        channels: int | None = None, bodies: bool = False, beams: int = 1,
        gate_defaults: bool = False,
    ) -> SimRig:  # fmt: skip
        """Build the hub, open it through `devices` and bind `drill` to it; `gate_defaults`:
        each role timed as our gates are by default (server/devices/gate_rules.py)."""
        rng = random.Random(seed)
        clock = SimClock(
            origin_ns=time.monotonic_ns(), offset_ticks=rng.getrandbits(32), drift_ppm=drift_ppm
        )
        # Each simulated hub its own id: the demo's lanes and the plan simulator start hubs
        # from the same seed, and two devices with one id are two rows sharing one name.
        taken = {state.info.device_id for state in devices.registry.all()}
        device_id = 0x5100_0000 | rng.getrandbits(16)
        while device_id in taken:
            device_id = 0x5100_0000 | rng.getrandbits(16)
        reactions = Reactions(bodies)
        hub = PluggedDevice(
            device_id=device_id,
            channels=channels or channels_needed(drill, beams),
            clock=clock,
            seed=seed,
            caps=Caps.BEAM | Caps.LIGHT | Caps.TOUCH,
            light_hooks=(reactions.on_light,),
        )
        port = hub.start()
        try:
            session = await devices.open(port)
            assert isinstance(session, PortSession)  # a plain path: never an adapter's
            await session.wait_ready(timeout_s=10.0)
        except BaseException:
            hub.stop()
            raise
        info = next(iter(session.devices.values())).info
        layout = channel_layout(drill, info.key, beams)
        if gate_defaults:
            layout = gate_rules.choose(drill, layout, {info.key: info})
        return cls(hub, session, drill, reactions, layout, beams)

    def layout_for(self, drill: Drill) -> dict[str, Binding]:
        if channels_needed(drill, self.beams) > self.hub.channels:
            raise RuntimeError(f"{drill.slug} needs more channels than the simulated hub has")
        return channel_layout(drill, self.key, self.beams)

    def run_rep(
        self, drill: Drill, athlete: VirtualAthlete, rng: random.Random,
        go: Callable[[], object] | None, lead_s: float = 0.5, bounce_prob: float = 0.0,
        layout: Mapping[str, Binding] | None = None,
    ) -> SimRep:  # fmt: skip
        """Schedule a rep of any gate drill: the virtual coach taps GO through `go` (the
        coordinator's), and the athlete cuts to whichever target lights."""
        layout = layout or self.layout_for(drill)
        if drill.timing is Timing.INTERVALS:
            return SimRep()  # the group walks to the beeps: nothing for a device to see
        if drill.timing is Timing.PODS:
            rep = SimRep()
            self.reactions.touch_pods(rep, athlete, rng)
            if drill.start.type is StartType.COACH_GO:
                rep.go_at_ns = time.monotonic_ns() + round(lead_s * 1e9)
                self._tap_go(rep, go, drill)
            return rep
        if drill.start.type is StartType.REACTIVE:
            role = drill.start.cue_role or drill.start_role
            rep = SimRep()
            self.reactions.await_cue(
                ReactiveStart(rep, drill, layout, athlete, rng, bounce_prob, layout[role].channel)
            )
        else:
            rep = plan_rep(
                self.hub, drill, layout, athlete, rng, lead_s, bounce_prob, bodies=self.bodies
            )
        choice = drill.target_choice
        if choice is not None:
            leg = next(s for s in drill.segments if s.to_role == choice.role)
            self.reactions.await_target(
                TargetRun(
                    rep, athlete, choice.lit_at, distance_m=leg.distance_m,
                    reaction_s=reaction_time_s(athlete, rng), layout=layout,
                )
            )  # fmt: skip
        if rep.go_at_ns is not None:
            self._tap_go(rep, go, drill)
        return rep

    @staticmethod
    def _tap_go(rep: SimRep, go: Callable[[], object] | None, drill: Drill) -> None:
        """The virtual coach taps GO at the planned time."""
        if go is None:
            raise RuntimeError(f"{drill.slug} starts on GO: give run_rep the coach's go")
        assert rep.go_at_ns is not None
        delay_s = max(0.0, (rep.go_at_ns - time.monotonic_ns()) / 1e9)

        def tap() -> None:
            stamp = go()
            rep.go_stamp_mono_us = getattr(stamp, "mono_us", None)

        asyncio.get_running_loop().call_later(delay_s, tap)

    def stop(self) -> None:
        self.hub.stop()
