"""What a report knows of a team: per athlete and drill its figures, per drill its ranking.

The records are filled once by figures.py (`build_summary`) so the PDF, the XLSX summary
sheet, the summary CSV and the reports API read the same numbers and cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from drills import metrics
from drills.norms import NormTable, Rating
from server.reports.data import AthleteInfo, DrillInfo, ReportData, RepRecord


@dataclass(frozen=True)
class AthleteDrill:
    """One athlete on one drill over the scope: counts of every kind of rep, then figures."""

    athlete_id: int
    drill: str
    reps: int
    voided: int
    practice: int
    false_starts: int
    manual: int
    stats: metrics.RepSummary | None
    daily_best: tuple[tuple[date, float], ...]
    change: metrics.BaselineChange | None
    rating: Rating | None
    rsa: tuple[date, metrics.RsaSummary] | None = None
    """Repeated-sprint drills: the latest day's set of two or more valid reps."""
    checked_daily_best: tuple[tuple[date, float], ...] = ()
    """`daily_best` without confirmed out-of-range hand times: what comparisons between
    drills (forward:backward, left/right, COD deficit) are drawn from."""
    out_of_range: tuple[RepRecord, ...] = ()
    """Valid reps whose hand time is outside the drill's plausible range, confirmed."""

    @property
    def best_s(self) -> float | None:
        return self.stats.best_s if self.stats else None

    @property
    def checked_best_s(self) -> float | None:
        return min((t for _, t in self.checked_daily_best), default=None)


@dataclass(frozen=True)
class DrillStats:
    """A drill across the team: the ranking, and the noise figures that decide a flag."""

    drill: DrillInfo
    ranking: tuple[AthleteDrill, ...]
    """Athletes with a valid rep, fastest best first."""
    ranks: Mapping[int, int]
    swc_s: float | None
    te_s: float | None


@dataclass(frozen=True)
class TwinRatio:
    """An athlete's backward ÷ forward time on one day, from the bests of two twin drills."""

    forward: str
    backward: str
    distance_m: float
    day: date
    forward_best_s: float
    backward_best_s: float
    ratio: float


@dataclass(frozen=True)
class SideComparison:
    name: str
    left: str
    right: str
    left_best_s: float
    right_best_s: float
    asymmetry: metrics.Asymmetry


@dataclass(frozen=True)
class CodDeficit:
    drill: str
    side: str | None
    day: date
    turn_best_s: float
    sprint_best_s: float
    deficit_s: float


@dataclass
class AthleteSummary:
    athlete: AthleteInfo
    drills: dict[str, AthleteDrill]
    fb_history: list[TwinRatio] = field(default_factory=list)
    fb_latest: list[TwinRatio] = field(default_factory=list)
    sides: list[SideComparison] = field(default_factory=list)
    cod: list[CodDeficit] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    """Concerns, as sentences: asymmetry, a slower result beyond the noise, a cut-off passed."""
    improved: list[tuple[str, float]] = field(default_factory=list)
    """(drill slug, change %) for results faster beyond the noise: good news, kept apart."""

    def improvement_sentence(self, names: Mapping[str, str]) -> str | None:
        if not self.improved:
            return None
        listed = "; ".join(f"{names.get(slug, slug)} {pct:+.1f} %" for slug, pct in self.improved)
        return (
            "Faster beyond the smallest worthwhile change and the typical error, first to "
            f"last test day: {listed}."
        )


@dataclass
class TeamSummary:
    data: ReportData
    drills: dict[str, DrillStats]
    athletes: dict[int, AthleteSummary]
    norms_used: list[NormTable]
    fb_team_median: dict[float, float]
    norm_choices: dict[str, list[str]] = field(default_factory=dict)
    without_norms: list[str] = field(default_factory=list)
    """Slugs of the report's drills that no norm table held by the product answers to: a
    report says so rather than leave a reader to wonder (drills/norms/README.md lists what
    was searched for and not found)."""


def without_norms_sentence(summary: TeamSummary) -> str | None:
    """What a reader is told about drills with no published norm; None when every drill of
    the report has one."""
    names = [summary.data.drills[slug].name for slug in summary.without_norms]
    if not names:
        return None
    return (
        "No published norm table is held for " + ", ".join(names) + ": none was found for "
        "these tests in the sources searched (drills/norms/README.md lists them), so their "
        "times are compared within the group only."
    )
