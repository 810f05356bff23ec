"""The day report: every athlete's results of one testing day in one row, drills as columns.

A testing day rotates a squad through several stations; the coach wants one sheet that says,
per athlete, the best time on each drill, its rank that day, the norm band and what to know to
read it (a hand time, a cross-device or coarse split). Nothing is computed here that the team
report computes: the day's reps go through summary.build_summary (ranks, norms, flags,
forward:backward ratios), and this module only lays the result out per athlete.

The day is the club's calendar day, in a time zone (the server's own unless the request names
one), not a UTC date: in Sydney or California, UTC midnight falls in the middle of a session.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Engine

from drills.model import Drill as DrillDef
from drills.norms import load_norms
from server.errors import InvalidInputError
from server.reports.data import ReportData, Scope, load_report_data, parse_day
from server.reports.figures import build_summary
from server.reports.records import RepRecord, best_reps, paused_gc
from server.reports.summary import AthleteSummary, TeamSummary, without_norms_sentence
from server.reports.tables import Column, Kind, Value, millis, rating_words, seconds
from server.runs.recorder import MAIN_STATION as MAIN

_LOCALTIME = Path("/etc/localtime")


# --- the day and its time zone -----------------------------------------------------------------


@dataclass(frozen=True)
class ClubDay:
    """A calendar day in a time zone: the club's day, whatever UTC dates it spans."""

    day: date
    zone: tzinfo
    zone_name: str
    """An IANA name (Europe/Oslo) where one is known, else the zone's abbreviation."""
    zone_from_server: bool
    """True when the request named no zone and the server's own was used."""

    @property
    def start_wall(self) -> datetime:
        """The day's first instant, UTC (a 23- or 25-hour day when the clocks change)."""
        return datetime.combine(self.day, time(), self.zone).astimezone(UTC)

    @property
    def end_wall(self) -> datetime:
        """The next day's first instant, UTC: the day is [start_wall, end_wall)."""
        return datetime.combine(self.day + timedelta(days=1), time(), self.zone).astimezone(UTC)


def _localtime_name() -> str | None:
    """The IANA name /etc/localtime links to (Debian, Raspberry Pi OS), if it does."""
    try:
        target = str(_LOCALTIME.resolve(strict=True))
    except OSError:
        return None
    _, found, name = target.partition("zoneinfo/")
    return name if found and name else None


def server_zone() -> tuple[tzinfo, str]:
    """The server's time zone: TZ, else the one /etc/localtime names, else its current offset.

    A named zone knows its clock changes; the last resort (a fixed offset) does not, so a day
    on the other side of a change would be an hour off: it only applies where neither is set.
    """
    for name in (os.environ.get("TZ", "").removeprefix(":"), _localtime_name()):
        if name:
            try:
                return ZoneInfo(name), name
            except (ZoneInfoNotFoundError, ValueError):
                continue
    fixed = datetime.now().astimezone().tzinfo or UTC
    return fixed, fixed.tzname(None) or "UTC"


def club_day(date_text: str | None, zone_text: str | None = None) -> ClubDay:
    """The day asked for: `date` as YYYY-MM-DD, `tz` an IANA zone name (default the server's).
    InvalidInputError naming the field for a missing or bad value."""
    day = parse_day(date_text, "date")
    if day is None:
        raise InvalidInputError("date is required, as YYYY-MM-DD (the club's calendar day)")
    if not zone_text:
        zone, name = server_zone()
        return ClubDay(day, zone, name, zone_from_server=True)
    try:
        return ClubDay(day, ZoneInfo(zone_text), zone_text, zone_from_server=False)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInputError(
            f"tz must be a time zone name such as Europe/Oslo, got {zone_text!r}"
        ) from None


# --- loading -----------------------------------------------------------------------------------


def load_day_data(
    engine: Engine, team: str | None, day: ClubDay, catalog: Mapping[str, DrillDef]
) -> ReportData:
    """Every rep (valid or not) of the club's day, with each rep's start in the club's zone.

    The UTC dates the day spans are read, then cut to the day. Starts are moved to the club's
    zone (the same instants) so `RepRecord.day` is the club's date for everything downstream:
    a day's bests, its forward:backward pairs and the per-day noise figures. Only the day
    report and the one-day team table use these records; the rep CSV prints UTC starts.
    """
    start, end = day.start_wall, day.end_wall
    last = (end - timedelta(microseconds=1)).date()
    wide = load_report_data(engine, Scope(team, start.date(), last), dict(catalog))
    reps = [
        replace(rep, started_wall=rep.started_wall.astimezone(day.zone))
        for rep in wide.reps
        if start <= rep.started_wall < end
    ]
    ran = {rep.drill for rep in reps}
    drills = {slug: info for slug, info in wide.drills.items() if slug in ran}
    scope = Scope(team, day.day, day.day, zone=day.zone_name)
    return ReportData(scope, wide.teams, wide.athletes, drills, reps)


def load_day_summary(
    engine: Engine,
    team: str | None,
    day: ClubDay,
    catalog: Mapping[str, DrillDef],
    norm_choices: Mapping[str, list[str]] | None = None,
) -> TeamSummary:
    """The team summary of one club day: ranks, norms and flags among that day's reps only."""
    with paused_gc():
        return build_summary(load_day_data(engine, team, day, catalog), load_norms(), norm_choices)


# --- the report, as the API answers it ---------------------------------------------------------


@dataclass(frozen=True)
class DayDrill:
    """A drill run that day: one group of columns."""

    slug: str
    name: str
    side: str | None
    direction: str
    athletes: int
    """Athletes with a valid rep on it that day (ranked)."""


@dataclass(frozen=True)
class DayResult:
    """An athlete's day on one drill."""

    best_s: float
    """Fastest valid rep, rounded to the millisecond."""
    rank: int
    """Among the day's athletes on this drill (in the team asked for); ties share a rank."""
    valid_reps: int
    reps: int
    """Every rep of the day on the drill, voided, practice and false starts included."""
    norm: str | None
    """The norm rating in a few words ("73rd percentile", a band), when a population for the
    drill was chosen (`norm=`) and fits the athlete."""
    norm_population: str | None
    rating: dict[str, Any] | None
    """The norm module's Rating.to_json(), when there is a rating."""
    hand_time: bool
    """The best rep was timed by hand (typed in, or a timer's keypad)."""
    cross_device_error_ms: float | None
    """The best rep spans a receipt-timed device and another clock: its error bound."""
    coarse: bool
    """An end of the best rep was placed by host receipt time."""
    station: str
    """Where the best rep was run."""


@dataclass(frozen=True)
class DayRatio:
    """Backward best / forward best over the same distance, both that day."""

    forward: str
    backward: str
    distance_m: float
    ratio: float


@dataclass(frozen=True)
class DayAthlete:
    """One row: an athlete with a valid rep that day."""

    id: int
    name: str
    team: str
    group: str | None
    stations: list[str]
    """Stations of the athlete's valid reps that day, in name order."""
    results: dict[str, DayResult]
    """By drill slug; drills without a valid rep of the athlete are left out."""
    fb_ratios: list[DayRatio]
    flags: list[str]
    """The team report's flags as sentences (asymmetry, a screening cut-off passed)."""


@dataclass(frozen=True)
class DayNorm:
    protocol: str
    id: str
    population: str
    citation: str


@dataclass(frozen=True)
class DayReport:
    """`GET /api/reports/day`: one row per athlete, one group of columns per drill."""

    date: str
    time_zone: str
    """The zone whose calendar day it is (an IANA name where the server knows one)."""
    time_zone_from_server: bool
    """True when the request named no zone (`tz`) and the server's own was used."""
    team: str | None
    message: str | None
    """Why the report is empty (no reps, or none valid); null when it is not."""
    reps: int
    valid_reps: int
    """Reps of the day counted; the rest are voided, practice, false starts or unfinished."""
    stations: list[str]
    drills: list[DayDrill]
    athletes: list[DayAthlete]
    norms: list[DayNorm]
    no_norm_note: str | None = None
    """Which of the day's drills no published norm table answers to, in words; null when
    every drill has one."""


def _station(name: str | None) -> str:
    return name or MAIN


def _athlete_row(
    summary: TeamSummary,
    athlete: AthleteSummary,
    best: Mapping[tuple[int, str], RepRecord],
    stations: Mapping[int, set[str]],
) -> DayAthlete | None:
    """The athlete's row; None without a valid rep that day."""
    a = athlete.athlete
    results: dict[str, DayResult] = {}
    for slug in summary.data.drills:
        row = athlete.drills.get(slug)
        rep = best.get((a.id, slug))
        best_s = seconds(rep.total_us) if rep is not None else None
        if row is None or row.stats is None or rep is None or best_s is None:
            continue
        results[slug] = DayResult(
            best_s=best_s,
            rank=summary.drills[slug].ranks[a.id],
            valid_reps=row.stats.n,
            reps=row.reps,
            norm=rating_words(row.rating) if row.rating else None,
            norm_population=row.rating.population if row.rating else None,
            rating=row.rating.to_json() if row.rating else None,
            hand_time=rep.hand_timed,
            cross_device_error_ms=millis(rep.cross_device_error_us),
            coarse=rep.coarse,
            station=_station(rep.station),
        )
    if not results:
        return None
    return DayAthlete(
        a.id,
        a.name,
        a.team,
        a.group,
        sorted(stations.get(a.id, ())),
        results,
        [
            DayRatio(f.forward, f.backward, f.distance_m, round(f.ratio, 3))
            for f in athlete.fb_latest
        ],
        list(athlete.flags),
    )


def day_report(summary: TeamSummary, day: ClubDay) -> DayReport:
    """The report of a summary loaded by load_day_summary; empty, saying why, when no rep
    of the day counts."""
    data = summary.data
    best = best_reps(data.reps)
    stations: dict[int, set[str]] = {}
    for rep in data.valid_reps:
        stations.setdefault(rep.athlete_id, set()).add(_station(rep.station))
    rows = [
        row
        for athlete in summary.athletes.values()
        if (row := _athlete_row(summary, athlete, best, stations)) is not None
    ]
    drills = [
        DayDrill(slug, info.name, info.side, info.direction, len(summary.drills[slug].ranking))
        for slug, info in data.drills.items()
        if summary.drills[slug].ranking
    ]
    return DayReport(
        date=day.day.isoformat(),
        time_zone=day.zone_name,
        time_zone_from_server=day.zone_from_server,
        team=data.scope.team,
        message=data.empty_reason(),
        reps=len(data.reps),
        valid_reps=len(data.valid_reps),
        stations=sorted(set().union(*stations.values())),
        drills=drills,
        athletes=rows,
        norms=[DayNorm(t.protocol, t.id, t.population, t.citation) for t in summary.norms_used],
        no_norm_note=without_norms_sentence(summary) if drills else None,
    )


# --- the same report as typed columns, for the CSV and the XLSX ---------------------------------


def _fb_distances(report: DayReport) -> list[float]:
    return sorted({f.distance_m for a in report.athletes for f in a.fb_ratios})


def day_columns(report: DayReport) -> list[Column]:
    """team, athlete, athlete_id, group, date, time_zone, stations; per drill `SLUG best_s`,
    `rank`, `norm`, `norm_population`, `valid_reps`, `hand_time`, `cross_device_ms`, `coarse`; a
    `fb_ratio Dm` per distance paired that day; `flags`."""
    columns = [
        Column("team", Kind.TEXT, 16),
        Column("athlete", Kind.TEXT, 22),
        Column("athlete_id", Kind.INT, 10),
        Column("group", Kind.TEXT, 10),
        Column("date", Kind.DATE, 11),
        Column("time_zone", Kind.TEXT, 16),
        Column("stations", Kind.TEXT, 14),
    ]
    for d in report.drills:
        columns += [
            Column(f"{d.slug} best_s", Kind.SECONDS, 10),
            Column(f"{d.slug} rank", Kind.INT, 6),
            Column(f"{d.slug} norm", Kind.TEXT, 18),
            Column(f"{d.slug} norm_population", Kind.TEXT, 16),
            Column(f"{d.slug} valid_reps", Kind.INT, 6),
            Column(f"{d.slug} hand_time", Kind.FLAG, 6),
            Column(f"{d.slug} cross_device_ms", Kind.MS, 8),
            Column(f"{d.slug} coarse", Kind.FLAG, 6),
        ]
    columns += [Column(f"fb_ratio {m:g}m", Kind.RATIO, 9) for m in _fb_distances(report)]
    columns.append(Column("flags", Kind.TEXT, 40))
    return columns


def day_rows(report: DayReport) -> Iterator[list[Value]]:
    """One row per athlete, in the columns of day_columns."""
    day = date.fromisoformat(report.date)
    distances = _fb_distances(report)
    for a in report.athletes:
        row: list[Value] = [
            a.team,
            a.name,
            a.id,
            a.group,
            day,
            report.time_zone,
            "; ".join(a.stations),
        ]
        for d in report.drills:
            r = a.results.get(d.slug)
            if r is None:
                row += [None] * 8
                continue
            row += [
                r.best_s, r.rank, r.norm, r.norm_population, r.valid_reps, r.hand_time,
                r.cross_device_error_ms, r.coarse,
            ]  # fmt: skip
        ratios = {f.distance_m: f.ratio for f in a.fb_ratios}
        row += [ratios.get(m) for m in distances]
        row.append(" ".join(a.flags) or None)
        yield row
