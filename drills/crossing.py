"""When a gate is crossed: the rule that turns one role's raw beam edges into crossings.

A beam across a lane is broken first by whatever reaches it first: a swinging hand, a knee, a
heel when running backward. The split a coach wants times the torso. Each rule below is a way
to find the torso's moment among a pass's edges; every raw edge stays stored either way, and a
crossing says which rule made it and from which edges, so it can be checked and re-derived.

- `first-break`: the first break counts (the rule before this module). Right for gear that
  already filters (a Timy's impulses) and for a beam set at a height only the torso reaches.
- `longest-break` (one beam): the start of the longest break within `window_us` after the first
  one. The torso is the body's deepest part along the line of travel, so it holds a beam
  longest; limbs cut it briefly before and after. The answer waits for the window to close.
- `dual-beam` (two beams, one above the other): the first instant both are broken. A hand
  reaches the top beam and a foot the bottom one, rarely both at once; the torso spans both.
- `dual-longest` (two beams): longest-break on each beam, and the crossing is the instant the
  later of the two longest breaks begins. A limb held against the torso (an elbow behind the
  back, a hand at the hip) merges with it into one long break on the beam at its height and
  makes that break begin early; it seldom does so on both beams at once, and the other beam's
  longest break then begins with the torso. Waits for the window, as longest-break does.
- Re-arm, for every rule: once a crossing is found, breaks that start within `rearm_us` of it
  are the same body still passing (a trailing arm), never the next crossing of a shuttle.
  They are kept (`dropped_breaks()`, the latest few): on a course with several runners a
  second body just behind the first looks the same, and the course asks about it when that
  runner never reaches the gate.

Pure: no clock is read. Edges are fed in stamp order per device (as devices deliver them);
`poll(now)` closes a longest-break window that no later edge has closed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from drills.timing import Stamp, elapsed_us

EdgeRef = tuple[str, int, int]  # (device, boot, seq): where the raw edge is stored


class Trigger(enum.Enum):
    FIRST_BREAK = "first-break"
    LONGEST_BREAK = "longest-break"
    DUAL_BEAM = "dual-beam"
    DUAL_LONGEST = "dual-longest"

    @property
    def beams(self) -> int:
        """How many beams (channels) a role with this rule binds."""
        return 2 if self in (Trigger.DUAL_BEAM, Trigger.DUAL_LONGEST) else 1

    @property
    def windowed(self) -> bool:
        """Whether the rule waits for a window after the first break to decide."""
        return self in (Trigger.LONGEST_BREAK, Trigger.DUAL_LONGEST)


# Longest-break window: long enough that the torso's break starts inside it when a limb
# leads (a knee 0.5 m ahead at 7 m/s is 70 ms; a hand ahead of a walker at 1 m/s, 300 ms and
# more), short enough that the split reaches the boards soon after the crossing.
DEFAULT_WINDOW_US = 250_000
MIN_WINDOW_US = 20_000
MAX_WINDOW_US = 1_000_000
# Re-arm: a body passing a beam takes 0.1-0.3 s at running speed (torso, then a trailing arm
# or leg); 0.5 s covers that, and the quickest shuttle back through the same gate is longer.
DEFAULT_REARM_US = 500_000
MAX_REARM_US = 10_000_000
# Breaks the re-arm dropped that a detector keeps for asking about later (newest kept).
MAX_DROPPED = 32
# How long after the window's end, in host time, a decision waits for edges still on their way
# (a device's event reaches the host a few ms after it happened, a re-sent one later).
LATE_EDGE_US = 60_000


@dataclass(frozen=True)
class GateRule:
    trigger: Trigger = Trigger.FIRST_BREAK
    window_us: int = DEFAULT_WINDOW_US
    rearm_us: int = DEFAULT_REARM_US

    def __post_init__(self) -> None:
        if not MIN_WINDOW_US <= self.window_us <= MAX_WINDOW_US:
            raise ValueError(
                f"window {self.window_us / 1000:g} ms: from {MIN_WINDOW_US // 1000} to "
                f"{MAX_WINDOW_US // 1000} ms"
            )
        if not 0 <= self.rearm_us <= MAX_REARM_US:
            raise ValueError(f"re-arm {self.rearm_us / 1000:g} ms: from 0 to 10000 ms")

    @property
    def beams(self) -> int:
        """How many beams (channels) a role with this rule binds."""
        return self.trigger.beams


@dataclass(frozen=True)
class BeamEdge:
    """One raw edge of a role's beam: beam 0 is the only beam or the top one, 1 the bottom."""

    beam: int
    broken: bool
    at: Stamp
    ref: EdgeRef | None = None


@dataclass(frozen=True)
class Detected:
    """A crossing and how it was found: the rule, the edge whose stamp it is, and every edge
    the rule looked at to decide (in arrival order)."""

    at: Stamp
    trigger: Trigger
    chosen: BeamEdge
    edges: tuple[BeamEdge, ...]


@dataclass
class _Break:
    start: BeamEdge
    end: BeamEdge | None = None

    @property
    def beam(self) -> int:
        return self.start.beam


@dataclass
class CrossingDetector:
    """One role's rule, fed that role's edges; returns crossings as they are decided."""

    rule: GateRule
    _last_crossing: Stamp | None = None
    _window: list[BeamEdge] = field(default_factory=list)  # windowed rules: edges since first
    _breaks: list[_Break] = field(default_factory=list)
    _broken: dict[int, BeamEdge] = field(default_factory=dict)  # dual-beam: beam -> its break
    # Breaks the re-arm dropped: mostly a trailing limb, but a second body through the beam
    # just behind the first looks the same. A course with several runners asks about them
    # when someone never reaches this gate (server/runs/course_lane.py).
    _dropped: list[_Break] = field(default_factory=list)

    def edge(self, edge: BeamEdge) -> list[Detected]:
        """Feed one edge; the crossings it completes (none, or one; two when it closes a
        longest-break window and opens the next crossing at once)."""
        trigger = self.rule.trigger
        if trigger is Trigger.DUAL_BEAM:
            return self._dual(edge)
        out: list[Detected] = []
        if trigger.windowed:
            if self._window and elapsed_us(self._window[0].at, edge.at) > self.rule.window_us:
                out += self._decide()
            if self._window:
                self._add_to_window(edge)
                return out
        if not edge.broken or self._rearming(edge.at):
            self._note_dropped(edge)
            return out
        if trigger is Trigger.FIRST_BREAK:
            return [*out, self._found(edge, (edge,))]
        self._add_to_window(edge)
        return out

    def due_mono_us(self) -> int | None:
        """Host time by which poll() decides the open window; None when none is open."""
        if not self._window:
            return None
        return self._window[0].at.mono_us + self.rule.window_us + LATE_EDGE_US

    def poll(self, now_mono_us: int) -> list[Detected]:
        due = self.due_mono_us()
        if due is None or now_mono_us < due:
            return []
        return self._decide()

    def flush(self) -> list[Detected]:
        """Decide an open window now (the rep is over, or its time is up)."""
        return self._decide() if self._window else []

    def dropped_breaks(self) -> list[tuple[Stamp, int | None]]:
        """Breaks the re-arm dropped (the latest MAX_DROPPED), oldest first: when each began
        and how long it lasted in µs (None while it lasts)."""
        return [
            (b.start.at, None if b.end is None else elapsed_us(b.start.at, b.end.at))
            for b in self._dropped
        ]

    # --- internals -----------------------------------------------------------------------------

    def _note_dropped(self, edge: BeamEdge) -> None:
        if edge.broken:
            self._dropped.append(_Break(edge))
            del self._dropped[:-MAX_DROPPED]
            return
        for dropped in reversed(self._dropped):
            if dropped.beam == edge.beam:
                if dropped.end is None:
                    dropped.end = edge
                return

    def _rearming(self, at: Stamp) -> bool:
        last = self._last_crossing
        return last is not None and 0 <= elapsed_us(last, at) < self.rule.rearm_us

    def _found(self, chosen: BeamEdge, edges: tuple[BeamEdge, ...]) -> Detected:
        self._last_crossing = chosen.at
        return Detected(chosen.at, self.rule.trigger, chosen, edges)

    def _add_to_window(self, edge: BeamEdge) -> None:
        self._window.append(edge)
        if edge.broken:
            self._breaks.append(_Break(edge))
            return
        # A clearing ends the open break of its own beam (the other beam's may still be open).
        for open_break in reversed(self._breaks):
            if open_break.beam == edge.beam:
                if open_break.end is None:
                    open_break.end = edge
                return

    def _decide(self) -> list[Detected]:
        first = self._window[0].at
        window_end_us = self.rule.window_us

        def length_us(b: _Break) -> int:
            started = elapsed_us(first, b.start.at)
            ended = window_end_us if b.end is None else elapsed_us(first, b.end.at)
            return min(ended, window_end_us) - started

        def longest(breaks: list[_Break]) -> _Break:
            # The longest; of equals, the earliest.
            return max(breaks, key=lambda b: (length_us(b), -elapsed_us(first, b.start.at)))

        edges = tuple(self._window)
        breaks, self._window, self._breaks = self._breaks, [], []
        if self.rule.trigger is Trigger.LONGEST_BREAK:
            return [self._found(longest(breaks).start, edges)]
        per_beam = [[b for b in breaks if b.beam == beam] for beam in (0, 1)]
        if not all(per_beam):
            return []  # one beam only: a limb above or below the torso, not a crossing
        starts = [longest(beam_breaks).start for beam_breaks in per_beam]
        later = max(starts, key=lambda e: elapsed_us(first, e.at))
        return [self._found(later, edges)]

    def _dual(self, edge: BeamEdge) -> list[Detected]:
        if not edge.broken:
            self._broken.pop(edge.beam, None)
            return []
        self._broken[edge.beam] = edge
        if len(self._broken) < 2 or self._rearming(edge.at):
            return []
        # Both broken now, and this edge made it so: its instant is the first of both.
        pair = tuple(sorted(self._broken.values(), key=lambda e: e.beam))
        return [self._found(edge, pair)]
