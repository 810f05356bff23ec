"""The team PDF a coach hands to a head coach: cover, flags, leaderboards, a page per athlete,
the norms used with their sources, and the caveats, with page numbers on every page.

Written so that it reads without the coach beside it: every table says what its numbers
are, every flag is a full sentence, and what was left out (voided, practice, false starts)
is counted and said.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, BinaryIO

from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.platypus import (  # type: ignore[import-untyped]
    KeepTogether,
    PageBreak,
    Spacer,
)

from drills import metrics
from drills.norms import TimingMethod
from server.leaderboard.ratio import RATIO_LABEL, RATIO_MEANING
from server.reports.data import Progress, RepRecord
from server.reports.pdf_athlete import AthletePages
from server.reports.pdf_common import (
    MARKED,
    best_marks,
    clip,
    escape,
    grid_table,
    page_footer,
    para,
    pct,
    register_fonts,
    report_document,
    secs,
)
from server.reports.summary import TeamSummary, without_norms_sentence

MARGIN = 15 * mm


def _period(summary: TeamSummary) -> tuple[date | None, date | None]:
    data = summary.data
    return data.scope.date_from or data.first_day, data.scope.date_to or data.last_day


def _team_label(summary: TeamSummary) -> str:
    data = summary.data
    if data.scope.team:
        return data.scope.team
    return "All teams: " + ", ".join(data.teams) if data.teams else "All teams"


def _footer(summary: TeamSummary) -> Callable[[Any, Any], None]:
    start, end = _period(summary)
    text = f"{_team_label(summary)} · agility report · {start} to {end}"
    return page_footer(text, A4[0], MARGIN)


def _cover(summary: TeamSummary, generated: datetime) -> list[Any]:
    data = summary.data
    start, end = _period(summary)
    valid = len(data.valid_reps)
    ranked = sum(1 for a in summary.athletes.values() if any(r.stats for r in a.drills.values()))
    whole = "" if data.scope.date_from or data.scope.date_to else " (all dates on record)"
    out: list[Any] = [
        Spacer(1, 25 * mm),
        para("Agility drill report", "title"),
        para(_team_label(summary), "subtitle"),
        para(f"Period: {start} to {end}{whole}"),
        para(
            f"Athletes: {len(data.athletes)} ({ranked} with valid reps). Reps: {valid} valid "
            f"of {len(data.reps)} recorded."
        ),
        para(f"Generated {generated:%Y-%m-%d %H:%M} UTC by agility-orchestrator."),
        para("Drills", "h2"),
    ]
    rows: list[list[str]] = [["Drill", "Side", "Athletes", "Valid reps", "Test days"]]
    for slug, info in data.drills.items():
        board = summary.drills[slug]
        days = {d for r in board.ranking for d, _ in r.daily_best}
        rows.append(
            [
                clip(info.name, 44),
                info.side or "",
                str(len(board.ranking)),
                str(sum(r.stats.n for r in board.ranking if r.stats)),
                str(len(days)),
            ]
        )
    out.append(grid_table(rows, [80 * mm, 16 * mm, 20 * mm, 22 * mm, 22 * mm], right_from=2))
    out += [para("How to read this report", "h2")]
    for text in (
        "Times are in seconds; lower is faster. They come from electronic timing gates "
        "unless a rep is marked manual (typed in by the coach, or a timer's keypad).",
        "Only valid reps count: voided reps, familiarisation (practice) reps, false starts and "
        "unfinished reps are left out of every figure; the tables show how many there were.",
        "Best is the fastest valid rep; mean and CV (coefficient of variation: spread between "
        "reps, lower is more consistent) are over all valid reps in the period.",
        f"Flags: a left/right difference of {metrics.ASYMMETRY_FLAG_PCT:g} % or more; a change "
        "from the first to the last test day larger than both the smallest worthwhile change "
        "and the typical error of the test; a screening cut-off passed (backward walk).",
        f"{RATIO_LABEL}, on the athlete pages: {RATIO_MEANING}.",
        "Norm ratings appear only where the population the team belongs to was chosen; the "
        "norms page names each table and its source. The last page lists the caveats.",
    ):
        out.append(para(text, "bullet", "•"))
    return out


def _flags_page(summary: TeamSummary) -> list[Any]:
    """One row per athlete with something to say; the athlete's page has the details."""
    out: list[Any] = [para("Flags at a glance", "h1")]
    rows: list[list[Any]] = [["Athlete", "Concerns", "Faster beyond the noise"]]
    for athlete in summary.athletes.values():
        if not (athlete.flags or athlete.improved) or not athlete.drills:
            continue
        concerns = [para(f, "flag", "•") for f in athlete.flags] or [para("none", "small")]
        better = f"{len(athlete.improved)} drill(s)" if athlete.improved else ""
        rows.append([clip(athlete.athlete.name, 30), concerns, better])
    if len(rows) == 1:
        return [*out, para("No athlete has a flag in this period.")]
    out.append(
        para(
            "Concerns: a left/right difference of "
            f"{metrics.ASYMMETRY_FLAG_PCT:g} % or more, a result slower beyond the "
            "smallest worthwhile change and the typical error, a screening cut-off "
            "passed. Each athlete's page gives the figures.",
            "small",
        )
    )
    out.append(
        grid_table(
            rows,
            [45 * mm, 105 * mm, 30 * mm],
            right_from=2,
            extra=[("VALIGN", (0, 0), (-1, -1), "TOP")],
        )
    )
    return out


def _leaderboards(summary: TeamSummary, marks: Mapping[tuple[int, str], str]) -> list[Any]:
    out: list[Any] = [
        para("Leaderboards", "h1"),
        para(
            "One table per drill, fastest best first. Best: fastest valid rep. Mean and CV: over "
            "all valid reps. Reps: valid reps counted. Athletes with no valid rep are not ranked.",
            "small",
        ),
    ]
    data = summary.data
    widths = [12 * mm, 58 * mm, 22 * mm, 18 * mm, 18 * mm, 16 * mm, 14 * mm, 22 * mm]
    for slug, board in summary.drills.items():
        info = data.drills[slug]
        rows: list[list[str]] = [
            ["Rank", "Athlete", "Group", "Best (s)", "Mean (s)", "CV %", "Reps", "Last test"]
        ]
        for row in board.ranking:
            athlete = data.athletes[row.athlete_id]
            stats = row.stats
            rows.append(
                [
                    str(board.ranks[row.athlete_id]),
                    clip(athlete.name, 34),
                    clip(athlete.group or "", 12),
                    secs(row.best_s) + (f" {MARKED}" if (row.athlete_id, slug) in marks else ""),
                    secs(stats.mean_s if stats else None),
                    pct(stats.cv_pct if stats else None),
                    str(stats.n if stats else 0),
                    str(row.daily_best[-1][0]) if row.daily_best else "",
                ]
            )
        unranked = sorted(
            data.athletes[a.athlete.id].name
            for a in summary.athletes.values()
            if slug in a.drills and a.drills[slug].stats is None
        )
        block: list[Any] = [
            para(
                info.name + (f" ({info.side})" if info.side and info.side not in info.name else ""),
                "h2",
            )
        ]
        if board.swc_s is not None or board.te_s is not None:
            block.append(
                para(
                    f"Smallest worthwhile change {secs(board.swc_s, 3)} s, typical error "
                    f"{secs(board.te_s, 3)} s (from this group's own data).",
                    "small",
                )
            )
        block.append(
            grid_table(rows, widths, right_from=3, extra=[("ALIGN", (0, 0), (0, -1), "RIGHT")])
        )
        marked = [
            f"{data.athletes[r.athlete_id].name} {marks[(r.athlete_id, slug)]}"
            for r in board.ranking
            if (r.athlete_id, slug) in marks
        ]
        if marked:
            block.append(
                para(
                    f"{MARKED} Best rep timed across a receipt-timed device or by receipt "
                    "time (see caveats): " + "; ".join(marked) + ".",
                    "small",
                )
            )
        if unranked:
            block.append(para("Not ranked (no valid rep): " + ", ".join(unranked), "small"))
        out += [KeepTogether(block[:3]), *block[3:]]
    return out


def _norms_page(summary: TeamSummary) -> list[Any]:
    out: list[Any] = [para("Norms used", "h1")]
    choices = summary.norm_choices
    chosen = "; ".join(f"{k}: {', '.join(v)}" for k, v in choices.items()) or "none"
    out.append(
        para(
            "A rating compares a time with a published table for one population. "
            f"Populations chosen for this report: {chosen}. Drills without a chosen "
            "population get no rating. Screening cut-offs apply to everyone who ran "
            "the test."
        )
    )
    missing = without_norms_sentence(summary)
    if missing:
        out.append(para(missing))
    if not summary.norms_used:
        return [*out, para("No norm table was used in this report.")]
    for t in summary.norms_used:
        out.append(para(f"{t.protocol}: {t.population} ({t.id})", "h2"))
        facts = [f"level {t.level}", f"sex {t.sex.value}", f"timing {t.timing_method.value}"]
        if t.age:
            facts.insert(1, f"age {t.age}")
        if t.n:
            facts.append(f"n = {t.n}")
        out += [para("; ".join(facts) + ".", "small"), para("Source: " + t.citation)]
        if t.notes:
            out.append(para(t.notes, "small"))
    return out


def _receipt_note(reps: Sequence[RepRecord]) -> str:
    """The timing note's sentences on cross-device and coarse splits, when any appear."""
    bounds = [r.cross_device_error_us for r in reps if r.cross_device_error_us is not None]
    coarse = sum(r.coarse for r in reps)
    text = ""
    if bounds:
        text += (
            f" {len(bounds)} rep(s) have a cross-device split, between a timer whose clock "
            "cannot be read (Chronopic, Timy: timed by when its message arrived) and another "
            "device; it is only as good as that arrival, within "
            f"±{max(bounds) / 1000:.1f} ms here, marked {MARKED} where it is a best."
        )
    if coarse:
        text += (
            f" {coarse} rep(s) have a coarse split: a Chronopic's counter ran out, so an end "
            "was placed by when its message arrived."
        )
    return text


def _out_of_range_note(summary: TeamSummary) -> str:
    """The timing note's sentence on hand times the coach confirmed outside a drill's range."""
    data = summary.data
    listed = [
        f"{data.athletes[r.athlete_id].name}, {data.drills[r.drill].name} "
        f"{(r.total_us or 0) / 1e6:.2f} s ({r.day})"
        for a in summary.athletes.values()
        for row in a.drills.values()
        for r in row.out_of_range
    ]
    if not listed:
        return ""
    return (
        f" {len(listed)} hand time(s) are outside the drill's plausible range (faster than its "
        "distance at the human speed bounds) and were kept on the coach's confirmation: "
        + "; ".join(listed)
        + ". They count in bests but are left out of asymmetry, COD deficits and "
        "forward:backward ratios."
    )


def _caveats(summary: TeamSummary) -> list[Any]:
    data = summary.data
    manual = sum(r.manual for r in data.reps)
    excluded = len(data.reps) - len(data.valid_reps)
    hand = any(t.timing_method is not TimingMethod.ELECTRONIC for t in summary.norms_used)
    texts = [
        f"Left out: {excluded} of {len(data.reps)} reps are voided, familiarisation (practice), "
        "false starts or unfinished; none of them is in any best, mean, rank or chart.",
        f"Timing: gate times are electronic. {manual} rep(s) were timed by hand (manual: "
        "typed in by the coach, or a timer's keypad); hand timing reads faster than gates, by "
        "about 0.24 s on short sprints, so a manual best may flatter the athlete."
        + _out_of_range_note(summary)
        + _receipt_note(data.reps),
        "Norms come from specific populations (level, sex, age, timing method on the norms "
        "page); outside that population a rating misleads. "
        + (
            "Some tables used were hand-timed or do not say, so treat those ratings as rough. "
            if hand
            else ""
        )
        + "A screening cut-off calls for a fuller assessment; it is not a diagnosis.",
        "Meaningful change: the smallest worthwhile change is 0.2 × the spread between "
        "athletes' first-day bests in this group; the typical error comes from the first two "
        "valid reps of the same session, so it understates day-to-day noise. A change is "
        "flagged only when it is larger than both.",
        f"Asymmetry of {metrics.ASYMMETRY_FLAG_PCT:g} % draws attention; it is a convention, "
        "not a proven injury-risk threshold. The better side is the denominator.",
        f"{RATIO_LABEL} ({RATIO_MEANING}) and change-of-direction deficits pair only times "
        "from the same day; different days, surfaces or fatigue would bias them.",
        "Repeated sprints: " + metrics.RSA_CAVEAT,
    ]
    out: list[Any] = [para("Caveats", "h1")]
    out += [para(t, "bullet", "•") for t in texts]
    return out


def write_pdf(
    summary: TeamSummary,
    out: str | Path | BinaryIO,
    *,
    charts: bool = True,
    progress: Progress | None = None,
    generated: datetime | None = None,
) -> int:
    """Write the report; returns the number of pages. `charts=False` is the benchmark's
    baseline (same pages, no images)."""
    summary.data.require_valid_reps()
    register_fonts()
    generated = generated or datetime.now(UTC)
    doc = report_document(
        out,
        pagesize=A4,
        margin=MARGIN,
        title=f"Agility drill report: {escape(_team_label(summary))}",
        subject=summary.data.scope.describe(),
    )
    # The frame's own padding (6 pt above and below) is not in doc.height.
    marks = best_marks(summary.data)
    pages = AthletePages(summary, doc.width, doc.height - 12, charts=charts, marks=marks)
    story: list[Any] = [*_cover(summary, generated), PageBreak(), *_flags_page(summary)]
    story += [PageBreak(), *_leaderboards(summary, marks)]
    athletes = [a for a in summary.athletes.values() if a.drills]
    for i, athlete in enumerate(athletes, start=1):
        story += [PageBreak(), *pages.story(athlete)]
        if progress is not None:
            progress("drawing athlete pages", i, len(athletes))
    story += [PageBreak(), *_norms_page(summary), PageBreak(), *_caveats(summary)]
    footer = _footer(summary)
    if progress is not None:
        progress("laying out the PDF", 0, 1)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    if progress is not None:
        progress("laying out the PDF", 1, 1)
    return int(doc.page)
