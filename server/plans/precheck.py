"""Before a session starts: can every drill of the plan run on the station's bound devices?

A drill that cannot (a role no device is bound to, a channel the device does not have, pods
that cannot be lit) is refused when the session is asked for, naming what is missing, rather
than pausing or failing at its first rep. What may change by itself before the rep is armed
(a clock still synchronising, a cable being plugged in) is not checked here: the runner
pauses with the reason when it arms the rep.
"""

from __future__ import annotations

from collections.abc import Iterable

from drills import Drill, StartType, Timing
from hardware.messages import Caps
from server.devices.service import DeviceService
from server.runs.coordinator import RunCoordinator
from server.sim.plans import SimDriver
from server.sim.reps import channels_needed


def _needs_lights(drill: Drill) -> bool:
    return (
        drill.timing is Timing.PODS
        or drill.start.type is StartType.REACTIVE
        or drill.target_choice is not None
    )


def drill_problems(
    drill: Drill, coordinator: RunCoordinator, devices: DeviceService | None,
    sim: SimDriver | None,
) -> list[str]:  # fmt: skip
    """What keeps `drill` from running on the coordinator's lane; empty when it can."""
    if drill.timing is Timing.INTERVALS:
        return []  # the clock runs them; a beeper is optional
    if sim is not None:
        # Every rep is bound to the plans' simulated hub: only its width can fall short.
        have = sim.channels
        need = channels_needed(drill)
        if have is not None and need > have:
            return [f"{need} channels and the simulated hub has {have}"]
        return []
    problems: list[str] = []
    layout = coordinator.layout
    missing = [role for role in drill.device_roles if role not in layout]
    if missing:
        what = "pod(s)" if drill.timing is Timing.PODS else "role(s)"
        problems.append(f"no device bound to {what} {', '.join(missing)}")
    if _needs_lights(drill) and coordinator.outputs is None:
        problems.append("lights are needed and none can be sent here")
    for role in drill.device_roles:
        binding = layout.get(role)
        state = None if binding is None or devices is None else devices.device(binding.device)
        if binding is None or state is None:
            continue  # unbound (said above), or not plugged in yet (the arm will say)
        info = state.info
        if not info.successive_breaks:
            beyond = [ch for ch in binding.channels if ch >= info.channels]
            if beyond:
                problems.append(
                    f"{role}: {binding.device} has channels 0-{info.channels - 1}, not "
                    f"{', '.join(str(ch) for ch in beyond)}"
                )
        lit = drill.timing is Timing.PODS or role in _lit_roles(drill)
        if lit and info.caps and not info.caps & Caps.LIGHT:
            problems.append(f"{role}: {binding.device} has no light")
    return problems


def _lit_roles(drill: Drill) -> set[str]:
    roles: set[str] = set()
    if drill.start.type is StartType.REACTIVE:
        roles.add(drill.start.cue_role or drill.start_role)
    if drill.target_choice is not None:
        roles.update(drill.target_choice.options)
    return roles


def plan_problems(
    drills: Iterable[Drill], station: str, coordinator: RunCoordinator,
    devices: DeviceService | None, sim: SimDriver | None,
) -> str | None:  # fmt: skip
    """One line naming every drill that cannot run on `station` and why; None if all can."""
    parts: list[str] = []
    seen: set[str] = set()
    for drill in drills:
        if drill.slug in seen:
            continue
        seen.add(drill.slug)
        problems = drill_problems(drill, coordinator, devices, sim)
        if problems:
            parts.append(f"{drill.slug}: {'; '.join(problems)}")
    if not parts:
        return None
    return f"cannot run on station {station}: " + " | ".join(parts)
