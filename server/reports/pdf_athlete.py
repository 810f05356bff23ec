"""The team PDF's athlete pages: progress panels, a drill table, the backward ÷ forward time
chart, sides and flags.

Charts are set up once per report with team-wide scales (see charts.py), then each page only
draws the athlete's own lines; the scales being shared is also what makes pages comparable.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping
from datetime import date
from typing import Any

from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.platypus import Spacer, Table, TableStyle  # type: ignore[import-untyped]

from drills import metrics
from server.leaderboard.ratio import RATIO_LABEL
from server.reports.charts import Panel, ProgressGrid, RatioChart
from server.reports.pdf_common import (
    BOLD,
    FLAG_BG,
    MARKED,
    RULE,
    STRIPE,
    Picture,
    best_marks,
    clip,
    grid_table,
    para,
    pct,
    secs,
)
from server.reports.summary import AthleteSummary, TeamSummary
from server.reports.tables import DASH, short_rating

FLAGGED = "●"


def _team_panels(summary: TeamSummary) -> list[Panel]:
    """Per drill: the range of every athlete's daily bests, and the median of each day."""
    panels = []
    for slug, info in summary.data.drills.items():
        by_day: dict[date, list[float]] = defaultdict(list)
        for athlete in summary.athletes.values():
            row = athlete.drills.get(slug)
            for day, best in row.daily_best if row else ():
                by_day[day].append(best)
        values = [t for times in by_day.values() for t in times]
        low, high = (min(values), max(values)) if values else (0.0, 1.0)
        median = [(d, statistics.median(by_day[d])) for d in sorted(by_day)]
        panels.append(Panel(info.name, low, high, median))
    return panels


def _height(flowable: Any, width: float) -> float:
    """Height a flowable will take in the frame, its spacing included."""
    _, height = flowable.wrap(width, 10_000)
    return float(height + flowable.getSpaceBefore() + flowable.getSpaceAfter())


class AthletePages:
    """Builds one athlete's flowables at a time, reusing the report's two chart canvases."""

    def __init__(
        self,
        summary: TeamSummary,
        width: float,
        height: float,
        charts: bool = True,
        marks: Mapping[tuple[int, str], str] | None = None,
    ) -> None:
        self.summary = summary
        # Bests whose rep has a cross-device or coarse split (pdf_common.best_marks).
        self.marks = best_marks(summary.data) if marks is None else marks
        self.width = width
        self.height = height
        self.grid: ProgressGrid | None = None
        self.ratio: RatioChart | None = None
        data = summary.data
        first = data.scope.date_from or data.first_day
        last = data.scope.date_to or data.last_day
        if charts and first is not None and last is not None and data.drills:
            self.grid = ProgressGrid(_team_panels(summary), first, last)
            ratios = [f.ratio for a in summary.athletes.values() for f in a.fb_latest]
            if ratios:
                self.ratio = RatioChart(
                    list(summary.fb_team_median), summary.fb_team_median, max(ratios)
                )

    def story(self, athlete: AthleteSummary) -> list[Any]:
        a = athlete.athlete
        rows = athlete.drills
        valid = sum(r.stats.n for r in rows.values() if r.stats)
        total = sum(r.reps for r in rows.values())
        days = sorted({d for r in rows.values() for d, _ in r.daily_best})
        who = " · ".join(
            x
            for x in (a.team, a.group and f"group {a.group}", "archived" if a.archived else None)
            if x
        )
        head: list[Any] = [para(a.name, "h1"), para(who, "small"), Spacer(1, 2 * mm)]
        if not rows:
            return [*head, para("No reps in this period.")]
        span = f", {len(days)} test day(s) from {days[0]} to {days[-1]}" if days else ""
        head.append(para(f"Valid reps: {valid} of {total} across {len(rows)} drill(s){span}."))
        head += [Spacer(1, 1.5 * mm), self._flags(athlete)]
        tail: list[Any] = [
            Spacer(1, 2 * mm),
            self._drill_table(athlete),
            para(
                f"Change: last test day's best against the first's; {FLAGGED} larger than both "
                "the smallest worthwhile change and the typical error (real, not noise).",
                "small",
            ),
            *self._marks_note(athlete),
            Spacer(1, 2 * mm),
            self._bottom(athlete),
        ]
        if self.grid is None:
            return [*head, *tail]
        series = [rows[s].daily_best if s in rows else () for s in self.summary.data.drills]
        caption = para(
            f"Best valid time per test day, in seconds: lower is faster. Blue: {a.name}; grey: "
            "team median. Every athlete page uses the same scales.",
            "small",
        )
        # The chart takes what the rest of the page leaves (down to 70 % of its size), so
        # an athlete with many flags still gets one page. 10 mm spare: nested tables lay
        # out a few points taller than their wrap() says.
        room = self.height - sum(_height(f, self.width) for f in (*head, caption, *tail))
        picture = Picture(self.grid.render(series), self.width, max_height=room - 10 * mm)
        return [*head, Spacer(1, 1.5 * mm), caption, picture, *tail]

    def _marks_note(self, athlete: AthleteSummary) -> list[Any]:
        """The note for the bests marked in the drill table, if any (the caveats explain)."""
        names = self.summary.data.drills
        marked = [
            f"{names[slug].name} {self.marks[(athlete.athlete.id, slug)]}"
            for slug in names
            if slug in athlete.drills and (athlete.athlete.id, slug) in self.marks
        ]
        if not marked:
            return []
        return [
            para(
                f"{MARKED} Best rep timed across a receipt-timed device or by receipt time: "
                + "; ".join(marked)
                + " (see caveats).",
                "small",
            )
        ]

    def _drill_table(self, athlete: AthleteSummary) -> Table:
        summary = self.summary
        head = [
            "Drill",
            "Best",
            "Mean",
            "CV %",
            "Valid/all",
            "First → last day",
            "Change",
            "Rank",
            "Norm rating",
        ]
        rows: list[list[str]] = [head]
        bold: list[tuple[Any, ...]] = []
        for slug, info in summary.data.drills.items():
            row = athlete.drills.get(slug)
            if row is None:
                continue
            stats = row.stats
            daily = row.daily_best
            trend = f"{daily[0][1]:.2f} → {daily[-1][1]:.2f}" if len(daily) >= 2 else DASH
            change = DASH
            if row.change is not None:
                change = pct(row.change.change_pct, signed=True) + " %"
                if row.change.flagged:
                    change += f" {FLAGGED}"
                    bold.append(("FONT", (6, len(rows)), (6, len(rows)), BOLD, 7.5))
            ranking = summary.drills[slug]
            rank = ranking.ranks.get(athlete.athlete.id)
            marked = (athlete.athlete.id, slug) in self.marks
            rows.append(
                [
                    # On the name: the best's column is too narrow for "10.00 †".
                    clip(info.name, 25) + f" {MARKED}" if marked else clip(info.name, 27),
                    secs(row.best_s),
                    secs(stats.mean_s if stats else None),
                    pct(stats.cv_pct if stats else None),
                    f"{stats.n if stats else 0}/{row.reps}",
                    trend,
                    change,
                    f"{rank}/{len(ranking.ranking)}" if rank else DASH,
                    clip(short_rating(row.rating), 26),
                ]
            )
        widths = [40 * mm, 11 * mm, 11 * mm, 10 * mm, 16 * mm, 24 * mm, 17 * mm, 13 * mm, 38 * mm]
        return grid_table(
            rows,
            widths,
            right_from=1,
            font_size=7.5,
            extra=[("ALIGN", (8, 0), (8, -1), "LEFT"), *bold],
            padding=1.0,
        )

    def _bottom(self, athlete: AthleteSummary) -> Table:
        """Backward ÷ forward time chart on the left; left/right, COD deficits and repeated
        sprints on the right."""
        left: list[Any] = [para(RATIO_LABEL, "h3")]
        latest = {f.distance_m: f.ratio for f in athlete.fb_latest}
        if self.ratio is not None and latest:
            left.append(
                para(
                    "Best backward time ÷ best forward time over the same distance, latest "
                    "day with both (1.25: backward takes 25 % longer).",
                    "small",
                )
            )
            left.append(Picture(self.ratio.render(latest), 56 * mm))
        elif latest:
            left += [para(f"{RATIO_LABEL}, {d:g} m: {r:.2f}") for d, r in sorted(latest.items())]
        else:
            left.append(para("No forward and backward twin drills on the same day.", "small"))
        rows: list[list[str]] = [["Comparison", "Result"]]
        for side in athlete.sides:
            a = side.asymmetry
            worse = f", {a.worse.value} slower" if a.worse else ""
            rows.append(
                [
                    f"{side.name}: left / right best",
                    f"{side.left_best_s:.2f} / {side.right_best_s:.2f} s ({a.pct:.1f} %{worse})",
                ]
            )
        for c in athlete.cod:
            rows.append(
                [
                    f"COD deficit, {c.drill} ({c.day})",
                    f"{c.turn_best_s:.2f} − {c.sprint_best_s:.2f} = {c.deficit_s:.2f} s",
                ]
            )
        for slug, row in athlete.drills.items():
            if row.rsa is not None:
                day, r = row.rsa
                name = clip(self.summary.data.drills[slug].name, 24)
                rows.append([f"{name}, {day}", f"total {r.total_s:.2f} s, mean {r.mean_s:.2f} s"])
                rows.append(
                    [
                        f"   Sdec, fatigue index ({r.n} sprints)",
                        f"{r.sprint_decrement_pct:.1f} %, {r.fatigue_index_pct:.1f} % "
                        "(see caveats)",
                    ]
                )
        right: list[Any] = [para("Left / right, COD deficit, repeated sprints", "h3")]
        if len(rows) > 1:
            widths = [(self.width - 66 * mm) * 0.54, (self.width - 66 * mm) * 0.46]
            right.append(grid_table(rows, widths, right_from=2, font_size=7.5, padding=1.0))
        else:
            right.append(
                para(
                    "No mirrored drills, 505 with a 10 m sprint on the same day, "
                    "or repeated-sprint sets in this period.",
                    "small",
                )
            )
        table = Table([[left, right]], colWidths=[62 * mm, self.width - 62 * mm])
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("LEFTPADDING", (1, 0), (1, 0), 4 * mm),
                    ("LINEBEFORE", (1, 0), (1, 0), 0.5, RULE),
                ]
            )
        )
        return table

    def _flags(self, athlete: AthleteSummary) -> Table:
        """The flags first, in a tinted box: what a head coach should read before the numbers."""
        names = {slug: info.name for slug, info in self.summary.data.drills.items()}
        good = athlete.improvement_sentence(names)
        texts = [*athlete.flags, *([good] if good else [])]
        if texts:
            items = [para(f, "flag", "•") for f in texts]
        else:
            items = [
                para(
                    f"No flags: no left/right difference of "
                    f"{metrics.ASYMMETRY_FLAG_PCT:g} % or more, no change beyond the "
                    "noise, no screening cut-off passed.",
                    "flag",
                )
            ]
        box = Table([[[para("Flags", "h3"), *items]]], colWidths=[self.width])
        box.setStyle(
            TableStyle(
                [
                    ("BACKGROUND", (0, 0), (-1, -1), FLAG_BG if texts else STRIPE),
                    ("TOPPADDING", (0, 0), (-1, -1), 0),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ]
            )
        )
        return box
