"""Teams and athletes. Nothing is deleted: runs point at athletes, so leaving the roster is
`archived = true`, which keeps every time on record."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from server.db.models import Athlete, Team
from server.errors import ConflictError, NotFoundError
from server.roster.fields import (
    ATHLETE_FIELDS,
    FieldProblem,
    check_athlete_fields,
    check_team_name,
    invalid,
    to_columns,
)

TEAM_KEYS = frozenset({"name", "archived"})
# `id` and `team` are what GET returns, so a page may send an athlete back as it got it.
ATHLETE_KEYS = frozenset({*ATHLETE_FIELDS, "team_id", "team", "archived", "id"})


@dataclass(frozen=True)
class TeamInfo:
    id: int
    name: str
    archived: bool
    athletes: int
    """Athletes on the team now (archived ones left out)."""


@dataclass(frozen=True)
class AthleteInfo:
    id: int
    team_id: int
    team: str
    name: str
    display_name: str | None
    squad_number: int | None
    group: str | None
    sex: str | None
    birth_year: int | None
    archived: bool


def athlete_info(athlete: Athlete, team: Team) -> AthleteInfo:
    assert athlete.id is not None
    return AthleteInfo(
        id=athlete.id, team_id=athlete.team_id, team=team.name, name=athlete.name,
        display_name=athlete.display_name, squad_number=athlete.squad_number,
        group=athlete.group_name, sex=athlete.sex, birth_year=athlete.birth_year,
        archived=athlete.archived,
    )  # fmt: skip


def _unknown(data: Mapping[str, Any], allowed: frozenset[str]) -> list[FieldProblem]:
    return [FieldProblem(key, "unknown field") for key in data if key not in allowed]


def _flag(data: Mapping[str, Any], key: str, problems: list[FieldProblem]) -> bool | None:
    if key not in data:
        return None
    if not isinstance(data[key], bool):
        problems.append(FieldProblem(key, "must be true or false"))
        return None
    return bool(data[key])


def list_teams(engine: Engine) -> list[TeamInfo]:
    with Session(engine) as session:
        counts = dict(
            session.exec(
                select(Athlete.team_id, func.count())
                .where(col(Athlete.archived).is_(False))
                .group_by(col(Athlete.team_id))
            ).all()
        )
        teams = session.exec(select(Team).order_by(col(Team.name))).all()
        return [
            TeamInfo(t.id, t.name, t.archived, counts.get(t.id, 0))
            for t in teams
            if t.id is not None
        ]


def _team_info(session: Session, team: Team) -> TeamInfo:
    assert team.id is not None
    count = session.exec(
        select(func.count())
        .select_from(Athlete)
        .where(Athlete.team_id == team.id, col(Athlete.archived).is_(False))
    ).one()
    return TeamInfo(team.id, team.name, team.archived, int(count))


def _commit_unique(session: Session, clash: str) -> None:
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise ConflictError(clash) from exc


def create_team(engine: Engine, data: Mapping[str, Any]) -> TeamInfo:
    problems = _unknown(data, TEAM_KEYS)
    archived = _flag(data, "archived", problems)
    if problems:
        raise invalid(problems, "invalid team")
    name = check_team_name(data.get("name"))
    with Session(engine) as session:
        if session.exec(select(Team.id).where(Team.name == name)).first() is not None:
            raise ConflictError(f"a team named {name!r} already exists")
        team = Team(name=name, archived=bool(archived))
        session.add(team)
        _commit_unique(session, f"a team named {name!r} already exists")
        session.refresh(team)
        return _team_info(session, team)


def update_team(engine: Engine, team_id: int, data: Mapping[str, Any]) -> TeamInfo:
    problems = _unknown(data, TEAM_KEYS | {"id", "athletes"})
    archived = _flag(data, "archived", problems)
    if problems:
        raise invalid(problems, "invalid team")
    with Session(engine) as session:
        team = session.get(Team, team_id)
        if team is None:
            raise NotFoundError(f"no team with id {team_id}")
        if "name" in data:
            team.name = check_team_name(data["name"])
        if archived is not None:
            team.archived = archived
        session.add(team)
        _commit_unique(session, f"a team named {team.name!r} already exists")
        session.refresh(team)
        return _team_info(session, team)


def ensure_team(session: Session, name: str) -> Team:
    """The team of that name, made if new (the import and POST by team name use it)."""
    team = session.exec(select(Team).where(Team.name == name)).first()
    if team is None:
        team = Team(name=name)
        session.add(team)
        session.flush()
    return team


def list_athletes(
    engine: Engine, team_id: int | None = None, include_archived: bool = False
) -> list[AthleteInfo]:
    query = select(Athlete, Team).join(Team, Team.id == Athlete.team_id)  # type: ignore[arg-type]
    if team_id is not None:
        query = query.where(Athlete.team_id == team_id)
    if not include_archived:
        query = query.where(col(Athlete.archived).is_(False))
    query = query.order_by(col(Team.name), col(Athlete.name))
    with Session(engine) as session:
        return [athlete_info(a, t) for a, t in session.exec(query).all()]


def _resolve_team(session: Session, data: Mapping[str, Any]) -> Team | None:
    """`team_id` names an existing team; `team` (a name) is made if new."""
    if data.get("team_id") is not None:
        team_id = data["team_id"]
        team = None if isinstance(team_id, bool) else session.get(Team, team_id)
        if team is None:
            raise invalid(
                [FieldProblem("team_id", f"no team with id {team_id!r}")], "invalid athlete"
            )
        return team
    if data.get("team") is not None:
        return ensure_team(session, check_team_name(data["team"]))
    return None


def _checked(data: Mapping[str, Any]) -> tuple[dict[str, Any], bool | None]:
    problems = _unknown(data, ATHLETE_KEYS)
    values, field_problems = check_athlete_fields(data)
    archived = _flag(data, "archived", problems)
    problems += field_problems
    if problems:
        raise invalid(problems, "invalid athlete")
    return values, archived


def create_athlete(engine: Engine, data: Mapping[str, Any]) -> AthleteInfo:
    values, archived = _checked({"name": None, **data})
    with Session(engine) as session:
        team = _resolve_team(session, data)
        if team is None or team.id is None:
            raise invalid([FieldProblem("team_id", "give team_id or team")], "invalid athlete")
        clash = f"{values['name']!r} is already on team {team.name!r}"
        taken = select(Athlete.id).where(Athlete.team_id == team.id, Athlete.name == values["name"])
        if session.exec(taken).first() is not None:
            raise ConflictError(clash)
        athlete = Athlete(team_id=team.id, archived=bool(archived), **to_columns(values))
        session.add(athlete)
        _commit_unique(session, clash)
        session.refresh(athlete)
        session.refresh(team)
        return athlete_info(athlete, team)


def update_athlete(engine: Engine, athlete_id: int, data: Mapping[str, Any]) -> AthleteInfo:
    values, archived = _checked(data)
    with Session(engine) as session:
        athlete = session.get(Athlete, athlete_id)
        if athlete is None:
            raise NotFoundError(f"no athlete with id {athlete_id}")
        moved_to = _resolve_team(session, data)
        if moved_to is not None and moved_to.id is not None:
            athlete.team_id = moved_to.id
        for column, value in to_columns(values).items():
            setattr(athlete, column, value)
        if archived is not None:
            athlete.archived = archived
        session.add(athlete)
        _commit_unique(session, f"{athlete.name!r} is already on that team")
        session.refresh(athlete)
        team = session.get(Team, athlete.team_id)
        assert team is not None
        return athlete_info(athlete, team)
