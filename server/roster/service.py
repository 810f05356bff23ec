"""Teams and athletes. Nothing is deleted: runs point at athletes, so leaving the roster is
`archived = true`, which keeps every time on record.

Tags (what a testing-day station reads to check an athlete in) are one per athlete and
unique across the club. A tag already on someone is never taken silently: only an explicit
move (`set_tag(..., move=True)`) takes it off its holder, and the move is logged.
"""

from __future__ import annotations

import logging
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
    check_tag,
    check_team_name,
    invalid,
    normalise_tag,
    to_columns,
)

log = logging.getLogger(__name__)

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
    tag: str | None
    """Normalised (trimmed, upper-case); None when the athlete has no tag."""


class UnknownTagError(NotFoundError):
    """No athlete has the tag; `tag` is its normalised form, which the station page offers
    to attach to an athlete."""

    def __init__(self, tag: str) -> None:
        super().__init__(f"no athlete has tag {tag}; attach it to an athlete")
        self.tag = tag


class TagTakenError(ConflictError):
    """The tag is on another athlete (`holder`); only an explicit move takes it from them."""

    def __init__(self, tag: str, holder: AthleteInfo, wanted_by: str) -> None:
        super().__init__(
            f"tag {tag} is already on {_who(holder)}; to give it to {wanted_by} instead, "
            'move it ("move": true)'
        )
        self.tag = tag
        self.holder = holder


def athlete_info(athlete: Athlete, team: Team) -> AthleteInfo:
    assert athlete.id is not None
    return AthleteInfo(
        id=athlete.id, team_id=athlete.team_id, team=team.name, name=athlete.name,
        display_name=athlete.display_name, squad_number=athlete.squad_number,
        group=athlete.group_name, sex=athlete.sex, birth_year=athlete.birth_year,
        archived=athlete.archived, tag=athlete.tag,
    )  # fmt: skip


def _who(athlete: AthleteInfo) -> str:
    """How a message names an athlete to a coach: name, team, and whether archived."""
    archived = ", archived" if athlete.archived else ""
    return f"{athlete.name} ({athlete.team}{archived})"


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
        if values.get("tag") is not None:
            _refuse_taken(session, values["tag"], None, f"{values['name']} ({team.name})")
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
        if values.get("tag") is not None:
            # Before any change to the athlete: the query would flush it (and its clashes).
            team = moved_to or session.get(Team, athlete.team_id)
            assert team is not None
            wanted_by = f"{values.get('name', athlete.name)} ({team.name})"
            _refuse_taken(session, values["tag"], athlete_id, wanted_by)
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


def _tag_holder(session: Session, tag: str) -> tuple[Athlete, Team] | None:
    query = select(Athlete, Team).join(Team, Team.id == Athlete.team_id)  # type: ignore[arg-type]
    row = session.exec(query.where(Athlete.tag == tag)).first()
    return None if row is None else (row[0], row[1])


def _refuse_taken(session: Session, tag: str, athlete_id: int | None, wanted_by: str) -> None:
    """TagTakenError when an athlete other than `athlete_id` has the tag."""
    held = _tag_holder(session, tag)
    if held is not None and held[0].id != athlete_id:
        raise TagTakenError(tag, athlete_info(*held), wanted_by)


def find_by_tag(engine: Engine, raw: str) -> AthleteInfo:
    """The athlete a station read, archived or not (the answer says which); the tag is
    normalised first, so any case a reader types finds it."""
    tag = check_tag(raw)
    with Session(engine) as session:
        held = _tag_holder(session, tag)
        if held is None:
            raise UnknownTagError(tag)
        return athlete_info(*held)


def set_tag(engine: Engine, athlete_id: int, raw: str | None, move: bool = False) -> AthleteInfo:
    """Attach a tag to the athlete (None takes theirs off). A tag on another athlete is
    refused with TagTakenError unless `move`, which takes it off them in the same commit."""
    try:
        tag = normalise_tag(raw)
    except ValueError as exc:
        raise invalid([FieldProblem("tag", str(exc))], "invalid tag") from None
    if raw is not None and tag is None:
        raise invalid(
            [FieldProblem("tag", "is empty; send null to take the tag off")], "invalid tag"
        )
    with Session(engine) as session:
        athlete = session.get(Athlete, athlete_id)
        if athlete is None:
            raise NotFoundError(f"no athlete with id {athlete_id}")
        team = session.get(Team, athlete.team_id)
        assert team is not None
        before = athlete.tag
        moved_from: AthleteInfo | None = None
        held = None if tag is None else _tag_holder(session, tag)
        if tag is not None and held is not None and held[0].id != athlete_id:
            moved_from = athlete_info(*held)
            if not move:
                raise TagTakenError(tag, moved_from, f"{athlete.name} ({team.name})")
            held[0].tag = None
            session.add(held[0])
            session.flush()  # off the holder before it goes on: the index sees one at a time
        athlete.tag = tag
        session.add(athlete)
        _commit_unique(session, f"tag {tag} was just attached to another athlete; try again")
        session.refresh(athlete)
        session.refresh(team)
        if before != tag:
            # A station changes tags on the spot: the log is the record of who had which.
            moved = (
                f" (moved from athlete {moved_from.id} {_who(moved_from)})" if moved_from else ""
            )
            log.info("athlete %d %s: tag %s -> %s%s", athlete_id, athlete.name, before, tag, moved)
        return athlete_info(athlete, team)
