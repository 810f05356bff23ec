"""The stations benchmark's figures: every rep against the simulator's truth, each split's way
to a phone, and the designed overtakes."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Final

from bench.common import JsonDict
from bench.gc_passes import FullPasses
from bench.stations.day import PASSED_KINDS, Day, Feed, Rep
from bench.stats import summarize
from drills import RunOutcome, RunState
from hardware.messages import EventKind

SPLIT_TOLERANCE_US: Final = 500
LATENCY_TARGET_MS: Final = 100.0
SLOWEST_SHOWN: Final = 3
SESSION_START_NS: Final = 500_000_000  # a session's set-up work, for the slowest splits' notes


def latency_stats(values_us: Sequence[float]) -> JsonDict:
    """p50, p95, p99 and max of latencies in ms, and how many; null figures when there are
    none (the result is JSON, which has no NaN)."""
    if not values_us:
        return {"splits": 0, "p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None}
    return summarize(
        (v / 1000 for v in values_us), "splits",
        quantiles=(0.50, 0.95, 0.99), digits=1, absolute=False,
    )  # fmt: skip


def _max_at_once(intervals: list[tuple[int, int]]) -> int:
    events = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals])
    most = now = 0
    for _, step in events:
        now += step
        most = max(most, now)
    return most


def _true_passes(reps: list[Rep]) -> int:
    """Pairs on one course where the later starter crossed a gate first (a real overtake)."""
    count = 0
    ordered = sorted(reps, key=lambda r: r.passes[0][1])
    for i, first in enumerate(ordered):
        for later in ordered[i + 1 :]:
            pairs = zip(first.passes, later.passes, strict=False)
            if any(b[1] < a[1] for a, b in pairs):
                count += 1
    return count


def figures(day: Day, feed: Feed, collections: FullPasses) -> JsonDict:
    """Every rep against the truth, and every split message's latency."""
    by_seq: dict[str, dict[int, tuple[int, int]]] = {}  # station -> seq -> (channel, true ns)
    for station in day.stations:
        by_seq[station.name] = {
            t.seq: (t.channel, t.mono_ns)
            for t in station.rig.hub.truth_since(0)
            if t.kind is EventKind.BEAM_BROKEN
        }
    stations = {s.name: s for s in day.stations}
    by_run: dict[int, Rep] = {}
    end_ns: dict[tuple[int, int], int] = {}  # (run id, split position) -> true ns of its end
    wrong = reps_wrong = missing = checked = splits = off = 0
    errors_us: list[int] = []
    not_finished = []
    for rep in day.reps:
        station = stations[rep.station]
        active = rep.active
        if active.run_id is not None:
            by_run[active.run_id] = rep
        outcome: RunOutcome | None = active.done.result() if active.done.done() else None
        rep_wrong = 0
        for position, (_role, found) in enumerate(active.crossings):
            ref = found.chosen.ref
            truth = None if ref is None else by_seq[rep.station].get(ref[2])
            owner = None if truth is None else station.owner.get(truth)
            checked += 1
            # The k-th crossing the rep took must be the athlete's own k-th, at that gate.
            if owner is None or owner[0] is not rep or owner[1] != position:
                rep_wrong += 1
            if truth is not None and active.run_id is not None and position > 0:
                end_ns[(active.run_id, position)] = truth[1]
        wrong += rep_wrong
        reps_wrong += rep_wrong > 0
        if outcome is None or outcome.state is not RunState.FINISHED:
            not_finished.append({
                "station": rep.station, "athlete": rep.athlete, "run_id": active.run_id,
                "state": None if outcome is None else outcome.state.value,
                "reason": None if outcome is None else outcome.reason,
            })  # fmt: skip
            continue
        missing += max(0, len(rep.passes) - len(active.crossings))
        bounds = [ns for _, ns in rep.passes]
        for i, split in enumerate(outcome.splits):
            true_us = (bounds[i + 1] - bounds[i]) / 1000 if i + 1 < len(bounds) else None
            splits += 1
            error_us = abs(split.elapsed_us - true_us) if true_us is not None else None
            if error_us is None or error_us > SPLIT_TOLERANCE_US:
                off += 1
            if error_us is not None and rep_wrong == 0:
                errors_us.append(round(error_us))
    latency: dict[str, list[float]] = {s.name: [] for s in day.stations}
    slow: list[JsonDict] = []
    for arrived, message in feed.of("split"):
        run_id = int(message.get("run_id") or 0)
        rep_of, at = by_run.get(run_id), end_ns.get((run_id, int(message.get("position") or 0)))
        if rep_of is None or at is None:
            continue
        latency[rep_of.station].append(arrived - at / 1000)
        arrived_ns = arrived * 1000
        slow.append({
            "station": rep_of.station, "split": message.get("split"),
            "latency_ms": round((arrived - at / 1000) / 1000, 1),
            "at_s": round((at - day.timed_from_ns) / 1e9, 1),
            # Sessions set up (plan stored, scheduled, runner launched) while it was on its way.
            "sessions_starting": sum(
                begin < arrived_ns and begin + SESSION_START_NS > at
                for begin in day.session_starts_ns
            ),
            "full_gc_ms": round(sum(
                max(0, min(end, arrived_ns) - max(begin, at)) for begin, end in collections
            ) / 1e6, 1),
        })  # fmt: skip
    per_station = []
    for station in day.stations:
        reps = [r for r in day.reps if r.station == station.name]
        starts = sorted(r.passes[0][1] for r in reps)
        durations_s = [(r.passes[-1][1] - r.passes[0][1]) / 1e9 for r in reps]
        gaps_s = [(b - a) / 1e9 for a, b in itertools.pairwise(starts)]
        per_station.append({
            "name": station.name, "drill": station.drill.slug, "overlap": station.laned,
            "spacing_s": day.cfg.spacing_s if station.overlap else 0.0,
            "reps": len(reps),
            "finished": sum(
                r.active.done.done() and r.active.done.result().state is RunState.FINISHED
                for r in reps
            ),
            "max_on_course": _max_at_once([(r.passes[0][1], r.passes[-1][1]) for r in reps]),
            "rep_s": [round(min(durations_s), 1), round(max(durations_s), 1)] if reps else None,
            "start_gap_min_s": round(min(gaps_s), 2) if gaps_s and station.overlap else None,
            "true_passes": _true_passes(reps) if station.overlap else 0,
            "flags": sum(m.get("station") == station.name for _, m in feed.of("flag")),
            "latency": latency_stats(latency[station.name]),
        })  # fmt: skip
    lanes = [v for s in day.stations if s.overlap for v in latency[s.name]]
    single = [v for s in day.stations if not s.overlap for v in latency[s.name]]
    return {
        "stations": per_station,
        "sessions": day.sessions,
        "athletes": len({r.athlete for r in day.reps}),
        "reps": len(day.reps),
        "finished": len(day.reps) - len(not_finished),
        "not_finished": not_finished,
        "crossings": checked,
        "wrong_assignments": wrong,
        "reps_wrong": reps_wrong,
        "crossings_missing": missing,
        "splits": splits,
        "splits_off_truth": off,
        "split_error_max_ms": round(max(errors_us) / 1000, 3) if errors_us else None,
        "flags": len(feed.of("flag")),
        "refused": len(feed.of("start_refused")),
        "unassigned": len(feed.of("crossing_unassigned")),
        "true_passes": sum(s["true_passes"] for s in per_station),
        "latency": latency_stats([*lanes, *single]),
        "latency_lanes": latency_stats(lanes),
        "latency_single": latency_stats(single),
        "latency_over_target": sum(v / 1000 > LATENCY_TARGET_MS for v in [*lanes, *single]),
        "slowest": sorted(slow, key=lambda x: -float(x["latency_ms"]))[:SLOWEST_SHOWN],
        "full_gc": {
            "passes": len(collections),
            "max_ms": round(max((b - a for a, b in collections), default=0) / 1e6, 1),
        },
    }


def _true_splits_s(rep: Rep) -> list[float]:
    return [round((b[1] - a[1]) / 1e9, 2) for a, b in itertools.pairwise(rep.passes)]


def overtake_figures(day: Day, feed: Feed) -> JsonDict:
    """Per designed overtake: was either runner's rep flagged on the feed."""
    flags = [int(m.get("run_id") or 0) for _, m in feed.of("flag")]
    reps = sorted(day.reps, key=lambda r: r.passes[0][1])
    rows, in_pairs = [], set()
    for slow, fast in itertools.pairwise(reps):
        if slow.profile.kind not in PASSED_KINDS:
            continue
        runs = {slow.active.run_id, fast.active.run_id}
        in_pairs |= runs
        said = sum(run in runs for run in flags)
        rows.append({
            "kind": slow.profile.kind, "passed": slow.athlete, "by": fast.athlete,
            "flagged": said > 0, "flags": said,
            # The true splits of both, and how far apart their finishes were.
            "passed_splits_s": _true_splits_s(slow), "by_splits_s": _true_splits_s(fast),
            "finish_gap_s": round((slow.passes[-1][1] - fast.passes[-1][1]) / 1e9, 2),
        })  # fmt: skip
    return {
        "overtakes": rows,
        "by_kind": {
            kind: {
                "overtakes": sum(r["kind"] == kind for r in rows),
                "flagged": sum(r["kind"] == kind and r["flagged"] for r in rows),
            }
            for kind in PASSED_KINDS
            if any(r["kind"] == kind for r in rows)
        },
        "flagged": sum(r["flagged"] for r in rows),
        "flags_elsewhere": sum(run not in in_pairs for run in flags),
    }
