"""Every figure of a team summary, computed by drills.metrics on valid reps only.

Bests, progress, the noise of each drill (SWC, typical error), norm ratings, the comparisons
between drills (forward:backward ratio, left/right asymmetry, COD deficit) and the flags are
derived here once; summary.py holds what they are filled into.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date

from drills import Category, Direction, metrics
from drills.norms import BandKind, NormTable, Sex, norms_for, rate
from server.reports.data import AthleteInfo, DrillInfo, ReportData, RepRecord
from server.reports.summary import (
    AthleteDrill,
    AthleteSummary,
    CodDeficit,
    DrillStats,
    SideComparison,
    TeamSummary,
    TwinRatio,
)

COD_DEFICIT_SPRINT = {"505-left": "sprint-10m", "505-right": "sprint-10m"}
"""Turn drills with a published COD deficit, and the straight sprint over the same distance."""

_SEX = {"F": Sex.FEMALE, "M": Sex.MALE}


def rep_time(rep: RepRecord) -> metrics.RepTime | None:
    """The metrics view of a rep; None for a rep without a time (unfinished, timed out)."""
    if rep.total_us is None or rep.total_us <= 0 or rep.state not in ("finished", "void"):
        return None
    return metrics.RepTime(
        rep.total_us / 1e6,
        void=rep.void,
        familiarisation=rep.familiarisation,
        false_start=rep.false_start,
    )


def _daily_best(reps: Iterable[RepRecord]) -> tuple[tuple[date, float], ...]:
    best: dict[date, float] = {}
    for rep in reps:
        if rep.valid and rep.total_us is not None:
            t = rep.total_us / 1e6
            best[rep.day] = min(t, best.get(rep.day, t))
    return tuple(sorted(best.items()))


def _pick_table(tables: Sequence[NormTable], sex: str | None) -> NormTable | None:
    """First chosen table whose population fits the athlete's sex (unknown sex: mixed only)."""
    wanted = _SEX.get((sex or "").upper())
    for table in tables:
        if table.sex in (Sex.MIXED, Sex.UNSPECIFIED) or table.sex is wanted:
            return table
    return None


def _noise(reps_by_athlete: Mapping[int, list[RepRecord]]) -> tuple[float | None, float | None]:
    """SWC and typical error of a drill from this group's own data.

    SWC: 0.2 x between-athlete SD of each athlete's first-day best. TE: from the first two
    valid reps of every athlete-day with two or more (trial-to-trial within a session, so it
    understates day-to-day noise; the caveats page says so). None where data is too thin.
    """
    baselines: list[float] = []
    first: list[float] = []
    second: list[float] = []
    for reps in reps_by_athlete.values():
        by_day: dict[date, list[float]] = defaultdict(list)
        for rep in reps:
            if rep.valid and rep.total_us is not None:
                by_day[rep.day].append(rep.total_us / 1e6)
        if by_day:
            baselines.append(min(by_day[min(by_day)]))
        for times in by_day.values():
            if len(times) >= 2:
                first.append(times[0])
                second.append(times[1])
    swc = metrics.smallest_worthwhile_change(baselines) if len(baselines) >= 2 else None
    te = metrics.typical_error(first, second) if len(first) >= 2 else None
    return swc, te


def _athlete_drill(
    athlete: AthleteInfo,
    drill: str,
    reps: list[RepRecord],
    noise: tuple[float | None, float | None],
    tables: Sequence[NormTable],
    repeated: bool = False,
) -> AthleteDrill:
    stats = metrics.summarise_reps(t for t in map(rep_time, reps) if t is not None)
    daily = _daily_best(reps)
    swc, te = noise
    change = None
    if len(daily) >= 2 and swc is not None and te is not None:
        change = metrics.baseline_change(daily[0][1], daily[-1][1], swc=swc, typical_error=te)
    table = _pick_table(tables, athlete.sex)
    rating = rate(table, stats.best_s) if table is not None and stats else None
    return AthleteDrill(
        athlete.id,
        drill,
        len(reps),
        sum(r.void for r in reps),
        sum(r.familiarisation for r in reps),
        sum(r.false_start for r in reps),
        sum(r.manual for r in reps),
        stats,
        daily,
        change,
        rating,
        _latest_set(reps) if repeated else None,
        _daily_best(r for r in reps if not r.out_of_range),
        tuple(r for r in reps if r.valid and r.out_of_range),
    )


def _latest_set(reps: Sequence[RepRecord]) -> tuple[date, metrics.RsaSummary] | None:
    """The last day's repeated-sprint set in rep order, if it has two or more valid reps."""
    by_day: dict[date, list[float]] = defaultdict(list)
    for rep in reps:  # already in start-time order
        if rep.valid and rep.total_us is not None:
            by_day[rep.day].append(rep.total_us / 1e6)
    days = [d for d, times in by_day.items() if len(times) >= 2]
    if not days:
        return None
    day = max(days)
    return day, metrics.rsa_summary(by_day[day])


def _chosen_tables(
    slug: str, all_tables: Sequence[NormTable], choices: Mapping[str, Sequence[str]]
) -> tuple[list[NormTable], list[NormTable]]:
    """(rating tables the coach chose for this drill, screening cut-offs that always apply)."""
    tables = norms_for(slug, all_tables)
    cutoffs = [t for t in tables if t.band_kind is BandKind.CUT_OFF]
    wanted: list[str] = []
    for name, ids in choices.items():
        if any(t.matches(name) for t in tables) or name == slug:
            wanted.extend(ids)
    rating = [
        t for i in wanted for t in tables if t.id == i and t.band_kind is not BandKind.CUT_OFF
    ]
    return rating, cutoffs


def build_summary(
    data: ReportData,
    tables: Sequence[NormTable] = (),
    norm_choices: Mapping[str, Sequence[str]] | None = None,
) -> TeamSummary:
    """Every figure of the report. `norm_choices` maps a drill slug or protocol to the ids
    of the populations the team belongs to (e.g. {"t-test": ["college-men", "college-women"]});
    without a choice a drill gets no rating, because a wrong population misleads more than
    none. Screening cut-offs (the backward walk's fall-risk line) apply to everyone."""
    by_pair: dict[tuple[int, str], list[RepRecord]] = defaultdict(list)
    for rep in data.reps:
        by_pair[(rep.athlete_id, rep.drill)].append(rep)
    athletes = {a.id: AthleteSummary(a, {}) for a in data.athletes.values()}
    drills: dict[str, DrillStats] = {}
    used: dict[str, NormTable] = {}
    cutoffs_by_drill: dict[str, list[NormTable]] = {}
    for slug, info in data.drills.items():
        per_athlete = {a: reps for (a, d), reps in by_pair.items() if d == slug}
        noise = _noise(per_athlete)
        rating_tables, cutoffs = _chosen_tables(slug, tables, norm_choices or {})
        cutoffs_by_drill[slug] = cutoffs
        definition = info.definition
        repeated = definition is not None and definition.category is Category.REPEATED_SPRINT
        rows = []
        for athlete_id, reps in per_athlete.items():
            row = _athlete_drill(
                data.athletes[athlete_id], slug, reps, noise, rating_tables, repeated
            )
            athletes[athlete_id].drills[slug] = row
            if row.rating is not None:
                used.update(
                    {t.source_file: t for t in rating_tables if t.id == row.rating.population}
                )
            if row.stats is not None:
                rows.append(row)
        rows.sort(key=lambda r: (r.best_s, data.athletes[r.athlete_id].name))
        ranks: dict[int, int] = {}
        for i, row in enumerate(rows):
            same = i > 0 and row.best_s == rows[i - 1].best_s
            ranks[row.athlete_id] = ranks[rows[i - 1].athlete_id] if same else i + 1
        drills[slug] = DrillStats(info, tuple(rows), ranks, *noise)
    for summary in athletes.values():
        _relations(summary, data.drills)
        _flags(summary, data.drills, cutoffs_by_drill, used)
    medians: dict[float, list[float]] = defaultdict(list)
    for summary in athletes.values():
        for fb in summary.fb_latest:
            medians[fb.distance_m].append(fb.ratio)
    fb_median = {d: statistics.median(v) for d, v in sorted(medians.items())}
    norms = sorted(used.values(), key=lambda t: (t.protocol, t.id))
    choices = {k: list(v) for k, v in (norm_choices or {}).items()}
    without = [slug for slug in data.drills if not any(t.matches(slug) for t in tables)]
    return TeamSummary(data, drills, athletes, norms, fb_median, choices, without)


def _relations(summary: AthleteSummary, infos: Mapping[str, DrillInfo]) -> None:
    """Forward:backward ratios, left/right comparisons and COD deficits of one athlete."""
    mine = summary.drills
    for fwd in infos.values():
        bwd = infos.get(fwd.twin or "")
        if fwd.direction != Direction.FORWARD or bwd is None or fwd.slug not in mine:
            continue
        if bwd.slug not in mine or bwd.direction != Direction.BACKWARD:
            continue
        paired = metrics.pair_forward_backward(
            metrics.DirectionalRep(
                "a", day, fwd.distance_m or 0.0, Direction(info.direction), metrics.RepTime(best)
            )
            for info in (fwd, bwd)
            for day, best in mine[info.slug].checked_daily_best
        )
        history = [
            TwinRatio(
                fwd.slug,
                bwd.slug,
                p.distance_m,
                p.day,
                p.forward_best_s,
                p.backward_best_s,
                p.ratio,
            )
            for p in paired
        ]
        summary.fb_history.extend(history)
        if history:
            summary.fb_latest.append(history[-1])
    summary.fb_latest.sort(key=lambda f: f.distance_m)
    for left in infos.values():
        right = infos.get(left.definition.mirror or "") if left.definition else None
        if left.side != "left" or right is None or right.side != "right":
            continue
        lb = mine.get(left.slug)
        rb = mine.get(right.slug)
        left_s = lb.checked_best_s if lb else None
        right_s = rb.checked_best_s if rb else None
        if left_s and right_s:
            name = left.name.split(" (")[0]
            summary.sides.append(
                SideComparison(
                    name,
                    left.slug,
                    right.slug,
                    left_s,
                    right_s,
                    metrics.asymmetry(left_s, right_s),
                )
            )
    for turn_slug, sprint_slug in COD_DEFICIT_SPRINT.items():
        turn, sprint = mine.get(turn_slug), mine.get(sprint_slug)
        if turn is None or sprint is None:
            continue
        sprint_days = dict(sprint.checked_daily_best)
        common = [(day, t) for day, t in turn.checked_daily_best if day in sprint_days]
        if common:
            day, turn_s = common[-1]
            summary.cod.append(
                CodDeficit(
                    turn_slug,
                    infos[turn_slug].side,
                    day,
                    turn_s,
                    sprint_days[day],
                    metrics.cod_deficit(turn_s, sprint_days[day]),
                )
            )


def _flags(
    summary: AthleteSummary,
    infos: Mapping[str, DrillInfo],
    cutoffs: Mapping[str, list[NormTable]],
    used: dict[str, NormTable],
) -> None:
    """Sentences for the flags box, in the order a head coach should read them."""
    for side in summary.sides:
        a = side.asymmetry
        if a.flagged and a.worse is not None:
            summary.flags.append(
                f"Asymmetry, {side.name}: left {side.left_best_s:.2f} s, right "
                f"{side.right_best_s:.2f} s; {a.worse.value} side {a.pct:.1f} % slower "
                f"(flag at {metrics.ASYMMETRY_FLAG_PCT:g} %)."
            )
    for slug, row in summary.drills.items():
        if row.out_of_range:
            times = ", ".join(
                f"{r.total_us / 1e6:.2f} s ({r.day})" for r in row.out_of_range if r.total_us
            )
            summary.flags.append(
                f"{infos[slug].name}: hand time {times} outside the drill's plausible range, "
                "confirmed by the coach; counted, but left out of asymmetry, COD deficit and "
                "forward:backward comparisons."
            )
        change = row.change
        if change is not None and change.flagged and len(row.daily_best) >= 2:
            (d0, t0), (d1, t1) = row.daily_best[0], row.daily_best[-1]
            if change.direction is metrics.ChangeDirection.IMPROVED:
                summary.improved.append((slug, change.change_pct))
            else:
                summary.flags.append(
                    f"{infos[slug].name}: slower, {t0:.2f} s ({d0}) to {t1:.2f} s ({d1}), "
                    f"{change.change_pct:+.1f} %; beyond both the smallest worthwhile change "
                    f"and the typical error ({change.threshold:.3f} s)."
                )
        for table in cutoffs.get(slug, []):
            if row.best_s is None:
                continue
            rating = rate(table, row.best_s)
            used[table.source_file] = table
            if rating.band != table.bands[0].label:
                summary.flags.append(
                    f"{infos[slug].name}: best {row.best_s:.2f} s is past the screening "
                    f"cut-off ({table.band_range(0)}): {rating.band}. A screen that calls for "
                    "a fuller assessment, not a diagnosis."
                )
    if not summary.drills:
        summary.flags.append("No reps in this period.")
    elif all(r.stats is None for r in summary.drills.values()):
        summary.flags.append("No valid reps in this period (all voided, practice or unfinished).")
