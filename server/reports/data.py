"""Reps and splits of a team and date range, read once into plain dataclasses for every export.

A season for a squad is ~100,000 splits; building an ORM object per row would cost more than
the report itself. So two streamed Core queries (reps, then their splits) fill small frozen
records, and everything downstream (summaries, CSV, XLSX, PDF, the reports API) reads those.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Engine, Join, String, and_, select, type_coerce
from sqlalchemy.sql.elements import ColumnElement

from drills import DrillFileError, load_drill_text
from drills.model import Drill as DrillDef
from server.corrections.plausible import MARK_KEY, is_marked
from server.db.models import Athlete, Correction, Crossing, Drill, Run, Split, Team
from server.errors import NotFoundError
from server.reports.records import (
    AthleteInfo,
    CrossingRecord,
    DrillInfo,
    NothingToExportError,
    Progress,
    ReportData,
    RepRecord,
    Scope,
    SplitRecord,
    describe_range,
    make_scope,
    parse_day,
    sort_key,
)

__all__ = [
    "AthleteInfo",
    "DrillInfo",
    "NothingToExportError",
    "Progress",
    "RepRecord",
    "ReportData",
    "Scope",
    "SplitRecord",
    "athlete_team",
    "describe_range",
    "drill_side",
    "load_report_data",
    "make_scope",
    "parse_day",
    "sort_key",
    "team_name",
]

# Core tables of the SQLModel classes: rows come back as tuples, never as model objects.
_TEAM = Team.__table__  # type: ignore[attr-defined]
_ATHLETE = Athlete.__table__  # type: ignore[attr-defined]
_DRILL = Drill.__table__  # type: ignore[attr-defined]
_RUN = Run.__table__  # type: ignore[attr-defined]
_SPLIT = Split.__table__  # type: ignore[attr-defined]
_CROSSING = Crossing.__table__  # type: ignore[attr-defined]
_CORRECTION = Correction.__table__  # type: ignore[attr-defined]

_BATCH = 5_000
SIDES = ("left", "right")


def drill_side(definition: DrillDef | None, slug: str) -> str | None:
    """'left' or 'right' for a drill run in two mirrored versions, else None.

    The model has no side field, but a sided drill names its `mirror`; the side is then the
    slug's suffix (505-left, l-drill-right), or failing that the drill's first turn. Without a
    definition only the suffix is left to go by.
    """
    suffix = slug.rsplit("-", 1)[-1]
    if definition is None:
        return suffix if suffix in SIDES else None
    if definition.mirror is None:
        return None
    if suffix in SIDES:
        return suffix
    turns = [leg.turn.value for leg in definition.route if leg.turn is not None]
    return turns[0] if turns else None


def _definition(slug: str, text: str, catalog: dict[str, DrillDef]) -> DrillDef | None:
    """The catalogue's drill, else the copy stored with the runs (the file may be gone)."""
    if slug in catalog:
        return catalog[slug]
    if not text:
        return None
    try:
        return load_drill_text(text, f"{slug} (stored copy)")
    except DrillFileError:
        return None


def _team_ids(conn: Connection, scope: Scope) -> tuple[list[int], tuple[str, ...]]:
    rows = sorted(
        conn.execute(select(_TEAM.c.id, _TEAM.c.name)).all(), key=lambda r: sort_key(r[1])
    )
    if scope.team is None:
        return [r[0] for r in rows], tuple(r[1] for r in rows)
    for team_id, name in rows:
        if name == scope.team:
            return [team_id], (name,)
    known = ", ".join(r[1] for r in rows) or "none yet"
    raise NotFoundError(f"no team {scope.team!r}; teams: {known}")


def team_name(engine: Engine, team_id: int) -> str:
    """The name of team `team_id` (the console passes ids, the command line names)."""
    with engine.connect() as conn:
        name = conn.execute(select(_TEAM.c.name).where(_TEAM.c.id == team_id)).scalar()
    if name is None:
        raise NotFoundError(f"no team with id {team_id}")
    return str(name)


def athlete_team(engine: Engine, athlete_id: int) -> str:
    with engine.connect() as conn:
        name = conn.execute(
            select(_TEAM.c.name)
            .join(_ATHLETE, _ATHLETE.c.team_id == _TEAM.c.id)
            .where(_ATHLETE.c.id == athlete_id)
        ).scalar()
    if name is None:
        raise NotFoundError(f"no athlete with id {athlete_id}")
    return str(name)


def _run_filter(team_ids: list[int], scope: Scope) -> ColumnElement[bool]:
    parts: list[ColumnElement[bool]] = [_ATHLETE.c.team_id.in_(team_ids)]
    if scope.athlete_id is not None:
        parts.append(_ATHLETE.c.id == scope.athlete_id)
    if scope.date_from is not None:
        parts.append(_RUN.c.started_wall >= datetime.combine(scope.date_from, time(), UTC))
    if scope.date_to is not None:
        end = datetime.combine(scope.date_to + timedelta(days=1), time(), UTC)
        parts.append(_RUN.c.started_wall < end)
    return and_(*parts)


def load_report_data(
    engine: Engine,
    scope: Scope,
    catalog: dict[str, DrillDef] | None = None,
    progress: Progress | None = None,
) -> ReportData:
    """Every rep (valid or not) with its splits for the scope; unknown team → NotFoundError."""
    catalog = catalog or {}
    with engine.connect() as conn:
        team_ids, teams = _team_ids(conn, scope)
        query = (
            select(
                _ATHLETE.c.id,
                _ATHLETE.c.name,
                _TEAM.c.name,
                _ATHLETE.c.group_name,
                _ATHLETE.c.sex,
                _ATHLETE.c.birth_year,
                _ATHLETE.c.archived,
            )
            .join(_TEAM, _TEAM.c.id == _ATHLETE.c.team_id)
            .where(_ATHLETE.c.team_id.in_(team_ids))
        )
        if scope.athlete_id is not None:
            query = query.where(_ATHLETE.c.id == scope.athlete_id)
        infos = [
            AthleteInfo(
                id=athlete_id, name=name, team=team, group=group, sex=sex,
                birth_year=birth_year, archived=archived,
            )
            for athlete_id, name, team, group, sex, birth_year, archived in conn.execute(query)
        ]  # fmt: skip
        if scope.athlete_id is not None and not infos:
            raise NotFoundError(f"no athlete with id {scope.athlete_id}")
        # Sorted here, not in SQL, so SQLite and PostgreSQL (whose collations differ) agree.
        infos.sort(key=lambda a: (sort_key(a.team), sort_key(a.name), a.id))
        athletes = {a.id: a for a in infos}
        where = _run_filter(team_ids, scope)
        joined = _RUN.join(_ATHLETE, _ATHLETE.c.id == _RUN.c.athlete_id)
        splits = _load_splits(conn, joined, where, progress)
        crossings = _load_crossings(conn, joined, where)
        out_of_range = _load_out_of_range(conn, joined, where)
        rep_rows = conn.execute(
            select(
                _RUN.c.id,
                _RUN.c.athlete_id,
                _DRILL.c.slug,
                _RUN.c.rep,
                _RUN.c.state,
                _started_column(conn),
                _RUN.c.total_us,
                _RUN.c.reaction_us,
                _RUN.c.movement_us,
                _RUN.c.voided,
                _RUN.c.manual,
                _RUN.c.familiarisation,
                _RUN.c.station,
            )
            .select_from(joined.join(_DRILL, _DRILL.c.id == _RUN.c.drill_id))
            .where(where)
            .execution_options(yield_per=_BATCH)
        )
        empty: tuple[SplitRecord, ...] = ()
        # Each row is unpacked into names in the order selected above, then passed by field
        # name: as fast as indexing (attribute access on a Row costs four times as much).
        reps = [
            RepRecord(
                run_id=run_id,
                athlete_id=athlete_id,
                drill=slug,
                rep=rep,
                state=state,
                started_wall=_as_utc(started),
                total_us=total_us,
                reaction_us=reaction_us,
                movement_us=movement_us,
                voided=voided,
                manual=manual,
                familiarisation=familiarisation,
                splits=splits.get(run_id, empty),
                crossings=crossings.get(run_id, ()),
                station=station,
                out_of_range=run_id in out_of_range,
            )
            for part in rep_rows.partitions()
            for (run_id, athlete_id, slug, rep, state, started, total_us, reaction_us,
                 movement_us, voided, manual, familiarisation, station) in part
        ]  # fmt: skip
        slugs = {r.drill for r in reps}
        drill_rows = conn.execute(
            select(
                _DRILL.c.slug,
                _DRILL.c.name,
                _DRILL.c.direction,
                _DRILL.c.twin_slug,
                _DRILL.c.definition_toml,
            ).where(_DRILL.c.slug.in_(slugs))
        ).all()
    order = {athlete_id: i for i, athlete_id in enumerate(athletes)}
    reps.sort(key=lambda r: (order.get(r.athlete_id, 0), r.drill, r.started_wall, r.run_id))
    drills = _drill_infos(drill_rows, reps, catalog)
    return ReportData(scope, teams, athletes, drills, reps)


def _started_column(conn: Connection) -> ColumnElement[Any]:
    """SQLite keeps times as text, which SQLAlchemy parses with a regular expression per row
    (a third of a season's load time); read the text and let `fromisoformat` (C) parse it."""
    if conn.dialect.name == "sqlite":
        return type_coerce(_RUN.c.started_wall, String)
    return cast(ColumnElement[Any], _RUN.c.started_wall)


def _as_utc(value: datetime | str) -> datetime:
    """Stored times are UTC; a naive or text value gets its zone back."""
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _load_splits(
    conn: Connection, joined: Join, where: ColumnElement[bool], progress: Progress | None
) -> dict[int, tuple[SplitRecord, ...]]:
    """Splits of the runs in scope, grouped by run in position order, streamed in batches."""
    stmt = (
        select(
            _SPLIT.c.run_id,
            _SPLIT.c.position,
            _SPLIT.c.name,
            _SPLIT.c.elapsed_us,
            _SPLIT.c.distance_m,
            _SPLIT.c.reaction_us,
            _SPLIT.c.cross_device_error_us,
            _SPLIT.c.manual,
            _SPLIT.c.coarse,
        )
        .select_from(_SPLIT.join(joined, _RUN.c.id == _SPLIT.c.run_id))
        .where(where)
        .order_by(_SPLIT.c.run_id, _SPLIT.c.position)
        .execution_options(yield_per=_BATCH)
    )
    out: dict[int, tuple[SplitRecord, ...]] = {}
    current: list[SplitRecord] = []
    current_run = None
    count = 0
    # Partitions (fetchmany) rather than row by row: a tenth of the Python calls.
    for part in conn.execute(stmt).partitions():
        # Unpacked into names in the order selected above, as load_report_data does its reps.
        for (run_id, position, name, elapsed_us, distance_m, reaction_us, error_us, manual,
             coarse) in part:  # fmt: skip
            if run_id != current_run:
                if current_run is not None:
                    out[current_run] = tuple(current)
                current, current_run = [], run_id
            current.append(
                SplitRecord(
                    position=position, name=name, elapsed_us=elapsed_us, distance_m=distance_m,
                    reaction_us=reaction_us, cross_device_error_us=error_us, manual=manual,
                    coarse=coarse,
                )
            )  # fmt: skip
        count += len(part)
        if progress is not None:
            progress("reading splits", count, 0)
    if current_run is not None:
        out[current_run] = tuple(current)
    return out


def _load_crossings(
    conn: Connection, joined: Join, where: ColumnElement[bool]
) -> dict[int, tuple[CrossingRecord, ...]]:
    """The crossings a rule other than first-break found, or that overruled a first break, by
    run in the order found: only those say something a split alone does not."""
    stmt = (
        select(
            _CROSSING.c.run_id, _CROSSING.c.role, _CROSSING.c.trigger,
            _CROSSING.c.first_break_lead_us,
        )
        .select_from(_CROSSING.join(joined, _RUN.c.id == _CROSSING.c.run_id))
        .where(
            where,
            (_CROSSING.c.trigger != "first-break") | (_CROSSING.c.first_break_lead_us != 0),
        )
        .order_by(_CROSSING.c.run_id, _CROSSING.c.id)
        .execution_options(yield_per=_BATCH)
    )  # fmt: skip
    out: dict[int, list[CrossingRecord]] = {}
    for part in conn.execute(stmt).partitions():
        for run_id, role, trigger, lead_us in part:
            out.setdefault(run_id, []).append(CrossingRecord(role, trigger, lead_us))
    return {run_id: tuple(found) for run_id, found in out.items()}


def _load_out_of_range(conn: Connection, joined: Join, where: ColumnElement[bool]) -> set[int]:
    """Manual reps whose time the coach confirmed although it is outside the drill's plausible
    range: their `manual` correction keeps the range (a few rows: manual reps are rare)."""
    stmt = (
        select(_CORRECTION.c.run_id, _CORRECTION.c.detail_json)
        .select_from(_CORRECTION.join(joined, _RUN.c.id == _CORRECTION.c.run_id))
        .where(
            where,
            _RUN.c.manual.is_(True),
            _CORRECTION.c.action == "manual",
            _CORRECTION.c.detail_json.contains(f'"{MARK_KEY}"'),
        )
    )
    return {run_id for run_id, detail in conn.execute(stmt) if is_marked(detail)}


def _drill_infos(
    rows: Iterable[tuple[str, str, str, str | None, str]],
    reps: list[RepRecord],
    catalog: dict[str, DrillDef],
) -> dict[str, DrillInfo]:
    """Drill facts, with split names from the definition so columns do not depend on data.

    Names seen in stored splits but no longer in the definition (the file changed) are
    appended, so no stored split is ever dropped from an export.
    """
    seen: dict[str, dict[str, None]] = {}
    for rep in reps:
        names = seen.setdefault(rep.drill, {})
        for s in rep.splits:
            names.setdefault(s.name)
    infos = []
    for slug, name, direction, twin, text in rows:
        definition = _definition(slug, text, catalog)
        split_names = [s.name for s in definition.segments] if definition else []
        split_names += [n for n in seen.get(slug, {}) if n not in split_names]
        if definition is not None:
            name, twin = definition.name, definition.twin
            direction = definition.direction.value
        infos.append(
            DrillInfo(
                slug,
                name,
                direction,
                twin,
                drill_side(definition, slug),
                tuple(split_names),
                definition,
            )
        )
    infos.sort(key=lambda d: (sort_key(d.name), d.slug))
    return {d.slug: d for d in infos}
