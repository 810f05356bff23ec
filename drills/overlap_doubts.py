"""Why a crossing's first-in-first-out answer is doubted: a speed no human runs, a gate left
out, a pass the runners' own paces show.

Kept apart from the course (drills/overlap.py, which states the rule and holds the log, its
replay and the coach's decisions): the doubts and their bounds are most of the code, and they
only read the replay's records (drills/overlap_records.py) and flag its crossings, never place
one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import permutations

from drills.overlap_records import (
    MAX_PASS_GROUP,
    US_PER_S,
    Doubt,
    Flag,
    Rules,
    RunnerState,
    Slot,
)
from drills.timing import Stamp, elapsed_us

# --- doubts ------------------------------------------------------------------------------------

_DOUBT_RANK = {Doubt.TOO_FAST: 0, Doubt.MISSED_GATE: 1, Doubt.PASS: 2}


class Judge:
    """The doubts about the runner a crossing went to, flagged on its slot for the coach."""

    def __init__(self, rules: Rules, slots: list[Slot]) -> None:
        self._rules = rules
        self._slots = slots  # the replay's own list, not a copy: it grows as crossings come
        # Crossings judged before the course's usual pace change at their gate was known:
        # judged again once someone else has crossed it (a flag one rep late beats none).
        self._pending: list[tuple[int, RunnerState, int]] = []

    def _flag(self, number: int, rank: float, flag: Flag) -> None:
        self._slots[number].flags.append(((_DOUBT_RANK[flag.doubt], rank), flag))

    def doubt_alone(
        self, number: int, run: RunnerState, alternative: RunnerState | None, index: int, at: Stamp
    ) -> None:
        """Doubts that need only this crossing: a gate left out, a speed no human runs."""
        chain, last = self._rules.chain, run.last
        other = alternative.runner if alternative else None
        if last.index < index - 1:
            missed = ", ".join(chain[last.index + 1 : index])
            reason = (
                f"{run.runner} has no crossing of {missed}: a beam that missed them, or their "
                "crossing went to someone else"
            )
            self._flag(number, 0.0, Flag(number, chain[index], run.runner, other,
                                         Doubt.MISSED_GATE, reason))  # fmt: skip
        distance_m = self._rules.distance_m(last.index, index)
        speed_mps = distance_m / (elapsed_us(last.at, at) / US_PER_S)
        limit_mps = self._rules.speed_limit_mps(last.index, index)
        if speed_mps > limit_mps:
            reason = (
                f"{run.runner} would have run {chain[last.index]} to {chain[index]} "
                f"({distance_m:g} m) at {speed_mps:.1f} m/s, above the {limit_mps:g} m/s bound"
            )
            self._flag(number, -speed_mps, Flag(number, chain[index], run.runner, other,
                                                Doubt.TOO_FAST, reason))  # fmt: skip

    def doubt_pass(self, number: int, run: RunnerState, index: int, at: Stamp) -> None:
        """Match this crossing and the earlier undecided crossings of its gate that the same
        runners could have made to those runners in every feasible way. When another matching
        fits the runners' own earlier paces better than the one they hold by more than the
        margin, flag every crossing it would give to someone else.

        Two fits, as two kinds of pass look different: the spread of pace ratios around their
        median forgives a change every runner shares (all tiring, all accelerating), and the
        sum of their distances from the course's usual change at this gate forgives one
        runner alone changing (one pulls up and is passed; the spread cannot tell that from
        the passer slowing instead). Either one finding a better matching is reason enough to
        ask."""
        group = self._group(number, run, index)
        if len(group) < 2:
            return
        runners = [r for _, r in group]
        fit = [[self._fit(r, index, self._slots[c].at) for r in runners] for c, _ in group]
        held = tuple(range(len(group)))  # crossing i is held by runner i
        usual = self._usual_change(index, {id(r) for r in runners})

        def off_pace(fits: list[float | None]) -> float:
            return _off_pace(fits, usual or 0.0)

        # Without runners before them, being off pace means nothing yet: two close runners
        # who both tire would look like one who pulled up.
        costs = (_spread,) if usual is None else (_spread, off_pace)
        if usual is None:
            self._pending.append((number, run, index))
        for cost in costs:
            held_cost = cost([fit[i][i] for i in held])
            if math.isinf(held_cost):
                return
            best, best_cost = held, held_cost
            for order in permutations(held):
                value = cost([fit[i][r] for i, r in enumerate(order)])
                if value < best_cost:
                    best, best_cost = order, value
            if held_cost - best_cost > self._rules.pace_margin:
                self._flag_pass(group, index, best, cost, (held_cost, best_cost))
                return

    def _flag_pass(
        self, group: list[tuple[int, RunnerState]], index: int, best: tuple[int, ...],
        cost: Callable[[list[float | None]], float], costs: tuple[float, float],
    ) -> None:  # fmt: skip
        role = self._rules.chain[index]
        runners = [r for _, r in group]
        names = ", ".join(str(r.runner) for r in runners)
        held_cost, best_cost = costs
        moved = [runners[r] for i, r in enumerate(best) if r != i]
        for i, r in enumerate(best):
            if r == i:
                continue
            crossing, holder, other = group[i][0], runners[i], runners[r]
            if cost is _spread:
                why = (
                    f"the paces of {names} since their last gate differ from their earlier "
                    f"paces by {math.expm1(best_cost):.0%} in all, instead of "
                    f"{math.expm1(held_cost):.0%}"
                )
            else:
                why = (
                    f"fewer runners are off their usual pace ({math.expm1(best_cost):.0%} "
                    f"in all, instead of {math.expm1(held_cost):.0%} as "
                    f"{', '.join(str(x.runner) for x in moved)} hold them): did someone "
                    "pull up and get passed?"
                )
            reason = (
                f"{other.runner} fits this crossing better than {holder.runner} (a pass "
                f"before {role}?): matched that way, {why}"
            )
            flag = Flag(crossing, role, holder.runner, other.runner, Doubt.PASS, reason,
                        other_crossing=group[r][0])  # fmt: skip
            self._flag(crossing, -(held_cost - best_cost), flag)

    def judge_again(self, index: int) -> None:
        """Someone crossed gate `index`: judge again the crossings of it that were judged
        before its usual pace change was known and raised no flag then."""
        waiting, self._pending = self._pending, []
        for number, run, at_index in waiting:
            slot = self._slots[number]
            if at_index != index or slot.flags or slot.decided:
                if at_index != index and not slot.flags and not slot.decided:
                    self._pending.append((number, run, at_index))
                continue
            self.doubt_pass(number, run, index, slot.at)

    def _usual_change(self, index: int, leave_out: set[int]) -> float | None:
        """The median pace change (log ratio) of other runners from their last gate to gate
        `index`: on a flying segment everyone speeds up, so a passer who does is on pace. A
        flagged crossing counts for the runner its flag names. None before anyone outside
        the group has crossed it."""
        runs = {s.runner.runner.number: s.runner for s in self._slots if s.runner is not None}
        changes = []
        for slot in self._slots:
            run = slot.runner
            if slot.flags and not slot.decided:
                flag = min(slot.flags, key=lambda ranked: ranked[0])[1]
                run = None if flag.alternative is None else runs.get(flag.alternative.number)
            if run is None or id(run) in leave_out or slot.role != self._rules.chain[index]:
                continue
            change = self._fit(run, index, slot.at)
            if change is not None:
                changes.append(change)
        if not changes:
            return None
        changes.sort()
        middle = len(changes) // 2
        if len(changes) % 2:
            return changes[middle]
        return (changes[middle - 1] + changes[middle]) / 2

    def _group(self, number: int, run: RunnerState, index: int) -> list[tuple[int, RunnerState]]:
        """This crossing (to `run`) and the earlier undecided crossings of its gate that a
        runner in the group could have made, each with the runner holding it, oldest first;
        only runners with a pace, at most MAX_PASS_GROUP."""
        if self._expected_us(run, index) is None:
            return []
        role = self._rules.chain[index]
        group = [(number, run)]
        earliest = run.before(index)[-1].at  # the earliest any runner in the group left a gate
        for earlier in range(number - 1, -1, -1):
            slot, other = self._slots[earlier], self._slots[earlier].runner
            if slot.role != role:
                continue
            if len(group) == MAX_PASS_GROUP or elapsed_us(earliest, slot.at) <= 0:
                break
            if other is None or slot.decided or self._expected_us(other, index) is None:
                continue
            group.append((earlier, other))
            their_last = other.before(index)[-1].at
            if elapsed_us(their_last, earliest) > 0:
                earliest = their_last
        return group[::-1]

    def _fit(self, run: RunnerState, index: int, at: Stamp) -> float | None:
        """How far `run` crossing gate `index` at `at` is from its own earlier pace (a log
        ratio of times); None when it cannot have: before its previous gate, past its time
        limit, or after it crossed a later gate."""
        last = run.before(index)[-1]
        expected_us = self._expected_us(run, index)
        if expected_us is None or elapsed_us(last.at, at) <= 0:
            return None
        if elapsed_us(run.started, at) > self._rules.drill.time_limit_us:
            return None
        later = next((p for p in run.passes if p.index > index), None)
        if later is not None and elapsed_us(at, later.at) <= 0:
            return None
        return _log_ratio(elapsed_us(last.at, at), expected_us)

    def _expected_us(self, run: RunnerState, index: int) -> float | None:
        """How long `run` should take from its last gate before `index` to gate `index` at its
        own mean pace so far; None before it has a timed segment."""
        last = run.before(index)[-1]
        if last.index == 0:
            return None
        ran_us = elapsed_us(run.started, last.at)
        if ran_us <= 0:
            return None
        pace_m_per_us = self._rules.distance_m(0, last.index) / ran_us
        return self._rules.distance_m(last.index, index) / pace_m_per_us


def _spread(fits: list[float | None]) -> float:
    """How far apart runners' pace ratios are: the sum of distances from their median, so a
    change every runner shares (all accelerating, all tiring) costs nothing. Infinite when a
    runner cannot have made its crossing."""
    values = sorted(f for f in fits if f is not None)
    if len(values) < len(fits):
        return math.inf
    middle = len(values) // 2
    median = values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2
    return sum(abs(v - median) for v in values)


def _off_pace(fits: list[float | None], usual: float) -> float:
    """How far runners are from the usual pace change in all: a matching in which one runner
    alone is off it costs less than one in which two are, making up for each other.
    Infinite when a runner cannot have made its crossing."""
    if any(f is None for f in fits):
        return math.inf
    return sum(abs(f - usual) for f in fits if f is not None)


def _log_ratio(actual_us: int, expected_us: float) -> float:
    """How far an actual time is from the expected one, symmetric for faster and slower."""
    return math.log(max(actual_us, 1) / expected_us)
