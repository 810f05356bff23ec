"""Which rule finds each gate role's crossing (drills/crossing.py): the coach's choice, else a
default by the kind of gear the role is bound to.

The defaults, and why:

- Our gates and hubs (and the simulator): `longest-break`. They report every break and every
  clearing of each beam, so the longest break, the torso, can be found; the first break is a
  hand or a knee whenever one leads, tens of milliseconds early (Earp and Newton 2012: 12-42
  ms SD on single beams). Its price is latency: the crossing is known once its window (250 ms)
  has closed, so the split reaches the boards about 0.3 s after the athlete.
- A Timy: `first-break`. It reports impulses only, never a clearing, so no break has a length;
  its own channel lock-out after an impulse filters the limbs that follow.
- A Chronopic: `first-break`. Its debounce (50 ms) drops the shortest cuts; it reports
  clearings too, so `longest-break` may be chosen with `--trigger`.
- The role a hold start uses: its raw edges, whatever is asked: the hold is timed from the
  beam's clearing, which the rules do not pass on.
- A role bound to two beams (`--role start=DEVICE:TOP,BOTTOM`, or a layout with `"channels":
  [top, bottom]`): `dual-longest`, longest-break on each beam and the later start. In the body
  model it is the most accurate of the four (docs/BENCHMARKS.md, "Gate rules against the
  torso"): an arm held against the torso fools one beam, seldom both. `dual-beam` (the first
  instant both are broken) may be chosen, for gear that reports no clearings, or to compare.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from drills import Drill, StartType
from drills.crossing import GateRule, Trigger
from hardware.records import DeviceInfo
from server.devices.binding import invalid
from server.runs.signals import Binding


def default_trigger(info: DeviceInfo) -> Trigger:
    """The rule a gate of this kind gets unless the coach chooses (see the module docstring)."""
    return Trigger.FIRST_BREAK if info.adapter is not None else Trigger.LONGEST_BREAK


def choose(
    drill: Drill,
    bindings: Mapping[str, Binding],
    infos: Mapping[str, DeviceInfo],
    *,
    trigger: Trigger | None = None,
    rearm_ms: int | None = None,
    window_ms: int | None = None,
    keep: frozenset[str] = frozenset(),
) -> dict[str, Binding]:
    """Each role's binding with its rule: `trigger`, `rearm_ms` and `window_ms` as given for
    every gate role, else as a saved layout says (the roles in `keep`), else by kind."""
    hold_role = drill.start_role if drill.start.type is StartType.HOLD else None
    out: dict[str, Binding] = {}
    for role, binding in bindings.items():
        info = infos[binding.device]
        if role == hold_role or role not in drill.device_roles:
            out[role] = replace(binding, trigger=Trigger.FIRST_BREAK, rearm_ms=None, window_ms=None)
            continue
        chosen = trigger
        if chosen is None:
            if role in keep or binding.bottom is not None:
                chosen = binding.trigger
            else:
                chosen = default_trigger(info)
        if chosen.beams == 2 and binding.bottom is None:
            raise invalid(
                f"role {role}: {chosen.value} needs two beams; bind it with --role "
                f"{role}={binding.device}:TOP,BOTTOM"
            )
        if chosen.beams == 1 and binding.bottom is not None:
            raise invalid(
                f"role {role} is bound to two beams: its rule is dual-longest or dual-beam"
            )
        if chosen.windowed and info.adapter == "timy":
            raise invalid(
                f"role {role}: a Timy reports impulses, not how long a beam was broken, so "
                f"{chosen.value} cannot work on it; use first-break"
            )
        new = replace(
            binding, trigger=chosen,
            rearm_ms=binding.rearm_ms if rearm_ms is None else rearm_ms,
            window_ms=(binding.window_ms if window_ms is None else window_ms)
            if chosen.windowed else None,
        )  # fmt: skip
        try:
            new.rule()
        except ValueError as exc:
            raise invalid(f"role {role}: {exc}") from None
        out[role] = new
    return out


def describe(bindings: Mapping[str, Binding], drill: Drill) -> str:
    """One line for the terminal: which rule each role uses."""
    parts = []
    for role, b in bindings.items():
        rule: GateRule = b.rule(drill)
        extra = f", window {rule.window_us // 1000} ms" if b.trigger.windowed else ""
        parts.append(f"{role} {b.trigger.value} (re-arm {rule.rearm_us // 1000} ms{extra})")
    return "crossings: " + "; ".join(parts)
