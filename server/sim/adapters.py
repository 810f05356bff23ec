"""`--device sim-chronopic` and `--device sim-timy`: a simulated Chronopic or Timy on a pty,
opened through its real adapter, with a virtual athlete breaking its photocells.

The simulators (hardware/sim/chronopic.py, timy.py) are written from the devices' published
behaviour; this module only turns a rep's planned crossings into their inputs: every gate of
a Chronopic on its one input (photocells in parallel), each gate of a Timy on its channel.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from typing import Final

from drills import Drill, StartType
from hardware.adapters import AdapterSession
from hardware.device_ports import DevicePorts
from hardware.messages import EventKind
from hardware.sim.athlete import VirtualAthlete
from hardware.sim.chronopic import SimChronopic
from hardware.sim.timy import SimTimy
from server.devices.binding import default_layout
from server.errors import InvalidInputError
from server.runs.coordinator import Binding
from server.sim.reps import SimRep, plan_rep

SIM_ADAPTERS: Final = {"sim-chronopic": "chronopic", "sim-timy": "timy"}
# The simulated devices' clocks are off from the host's as real ones are: by an offset and a
# few tens of ppm.
CHRONOPIC_DRIFT_PPM: Final = 45.0
TIMY_DRIFT_PPM: Final = -30.0


class _ChronopicInput:
    """Every gate wired in parallel to the one input: a break of any is the input on."""

    def __init__(self, sim: SimChronopic) -> None:
        self.sim = sim

    def schedule_edge(self, channel: int, kind: EventKind, at_ns: int, /) -> None:
        del channel
        self.sim.schedule_input(at_ns // 1000, 1 if kind is EventKind.BEAM_BROKEN else 0)


class _TimyInputs:
    """A photocell on each channel: the Timy stamps the break; a beam's clearing is no impulse."""

    def __init__(self, sim: SimTimy) -> None:
        self.sim = sim

    def schedule_edge(self, channel: int, kind: EventKind, at_ns: int, /) -> None:
        if kind is EventKind.BEAM_BROKEN:
            self.sim.impulse_at(at_ns, channel)


class AdapterSimRig:
    """A simulated Chronopic or Timy, opened as `chronopic:PTY` or `timy:PTY`, with a drill's
    roles bound as a coach would wire them (binding.default_layout)."""

    def __init__(self, sim: SimChronopic | SimTimy, session: AdapterSession, drill: Drill) -> None:
        self.sim = sim
        self.session = session
        state = session.state
        assert state is not None
        self.layout: dict[str, Binding] = default_layout(drill, state.info)
        self._inputs = _ChronopicInput(sim) if isinstance(sim, SimChronopic) else _TimyInputs(sim)

    @classmethod
    async def start(
        cls, devices: DevicePorts, drill: Drill, which: str, seed: int
    ) -> AdapterSimRig:
        adapter = SIM_ADAPTERS[which]
        if drill.start.type not in (StartType.AUTO, StartType.HOLD) or drill.target_choice:
            raise InvalidInputError(
                f"{drill.slug} needs lights or a coach's GO; --device {which} times drills that "
                "start at a gate"
            )
        if adapter == "timy" and drill.start.type is StartType.HOLD:
            raise InvalidInputError(
                f"{drill.slug} has a hold start, and a Timy reports breaks, not a beam clearing"
            )
        rng = random.Random(seed)
        sim: SimChronopic | SimTimy
        if adapter == "chronopic":
            sim = SimChronopic(
                drift_ppm=CHRONOPIC_DRIFT_PPM, offset_us=rng.getrandbits(24), seed=seed
            )
        else:
            sim = SimTimy(seed=seed, drift_ppm=TIMY_DRIFT_PPM)
        path = sim.start()
        try:
            session = await devices.open(f"{adapter}:{path}")
            assert isinstance(session, AdapterSession)
        except BaseException:
            sim.stop()
            raise
        return cls(sim, session, drill)

    def run_rep(
        self, drill: Drill, athlete: VirtualAthlete, rng: random.Random, lead_s: float = 0.5,
        layout: Mapping[str, Binding] | None = None,
    ) -> SimRep:  # fmt: skip
        """The athlete sets off `lead_s` from now and crosses every gate of the drill."""
        set_off_ns = time.monotonic_ns() + round(lead_s * 1e9)
        return plan_rep(
            self._inputs, drill, layout or self.layout, athlete, rng, set_off_ns=set_off_ns
        )

    def stop(self) -> None:
        self.sim.stop()
