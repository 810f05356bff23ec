"""Which role a break belongs to when several roles share one input.

A Chronopic has one input, and a club wires all of a drill's photocells to it in parallel
(Chronojump's own practice), so the input cannot say which gate was broken. The drill can: the
athlete crosses its gates in running order, so each break is the next gate the rep expects.
Two things keep that honest: a second break soon after the first is the same body still
passing (arm, then leg) and goes to the role it already counted for, where the engine ignores
it as a bounce; and a beam's clearing belongs to the break before it (a hold start needs it).
"Soon" is the drill's re-arm time, but never as long as the quickest an athlete could reach
the nearest next gate: a turn zone 2 m long is crossed in 0.4 s, inside a 0.5 s re-arm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from drills import Drill, Stamp
from drills.engine import RunEngine
from drills.timing import elapsed_us

InputKey = tuple[str, int]  # (device key, channel)
# Faster than anyone runs (elite sprinters peak near 12 m/s): no gate is reached sooner.
TOP_SPEED_M_S = 12.0


def bounce_window_us(drill: Drill) -> int:
    """How long after a break on a shared input another is the same body passing."""
    gaps_m = [s.distance_m for s in drill.segments if s.distance_m > 0]
    if not gaps_m:
        return drill.rearm_us
    return min(drill.rearm_us, round(min(gaps_m) / TOP_SPEED_M_S * 1e6))


@dataclass
class SharedInputs:
    """Per rep: the last role each shared input's break went to, and when."""

    _last: dict[InputKey, tuple[str, Stamp]] = field(default_factory=dict)

    def role_for(
        self, key: InputKey, roles: Sequence[str], broken: bool, stamp: Stamp, engine: RunEngine
    ) -> str | None:
        """The role of one edge on an input bound to `roles` (in the layout's order)."""
        last = self._last.get(key)
        if not broken:
            return None if last is None else last[0]
        if last is not None and 0 <= elapsed_us(last[1], stamp) <= bounce_window_us(engine.drill):
            return last[0]
        expected = engine.expected_role
        if expected in roles:
            role: str | None = expected
        else:
            # The rep expects a gate on another device; this break is the first gate on this
            # input that the athlete has yet to cross.
            chain = engine.drill.roles_in_order
            role = next((r for r in chain if r in roles and not engine.crossed(r)), None)
        if role is not None:
            self._last[key] = (role, stamp)
        return role
